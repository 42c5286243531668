"""Test settings: the database comes from KEFU_DATABASE_URL (SQLite or PostgreSQL)."""

import os

from .base import *  # noqa: F403
from .base import HUEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kefu-test"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
KEFU_ADMIN = True  # the admin is mounted in tests so its throttled sign-in is tested
# A second module on the shared workflow core, declared in < 50 lines (tests/test_workflow.py).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.workflow_app"]  # noqa: F405
# Tests flush tables between cases (no signals): the pipeline reads channels and shops afresh.
KEFU_MEMORY_SECONDS = 0
KEFU_TOKEN_MEMORY_SECONDS = 0  # every call asks the database (tests/test_api.py turns the memory on)
KEFU_REFUSE_UNDECLARED_VERBS = True  # every verb recorded is declared (kefu.core.rulebook)
KEFU_REFUSE_UNLABELLED_FIELDS = True  # every field an event shows has a label (kefu.core.wording)
KEFU_UNLABELLED_LOG = os.environ.get("KEFU_UNLABELLED_LOG", "")  # collect instead of refusing (a survey)
