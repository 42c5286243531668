"""Settings shared by every environment, read from ``KEFU_*`` environment variables.

The embedded default needs no other server: SQLite (WAL) under ``./var`` and a SQLite-backed
Huey queue. Production sets ``KEFU_DATABASE_URL`` (PostgreSQL) and ``KEFU_REDIS_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KEFU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("KEFU_SECRET_KEY", "kefu-insecure-development-key-change-me-in-production-0123456789")
DEBUG = env_bool("KEFU_DEBUG", False)
ALLOWED_HOSTS = env_list("KEFU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("KEFU_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "kefu.core",
    "kefu.org",
    "kefu.commerce",
    "kefu.workforce",
    "kefu.workflow",
    "kefu.aftersales",
    "kefu.desk",
    "kefu.service",
    "kefu.care",
    "kefu.reports",
    "kefu.connectors",
    "kefu.staffing",
    "kefu.quality",
    "kefu.web",
    "kefu.api",
]

MIDDLEWARE = [
    "kefu.web.middleware.ReleaseConnectionsForStreamsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kefu.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kefu.core.middleware.RequestContextMiddleware",
    "kefu.web.middleware.SecurityHeadersMiddleware",
    "kefu.web.middleware.ApiErrorShapeMiddleware",
    "kefu.web.middleware.RejectNulMiddleware",
    "kefu.web.middleware.PageErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "kefu.web.errors.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.web.context.navigation",
            ],
        },
    },
    {
        # the rows of the hot lists (ADR 0023): ``<app>/jinja2/``, included by ``{% rows %}``
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "kefu.web.jinja.environment", "autoescape": True},
    },
]

DATABASE_URL = os.environ.get("KEFU_DATABASE_URL", f"sqlite:///{VAR_DIR / 'kefu.sqlite3'}")
# conn_health_checks: a connection kept between requests is checked before reuse, so after a
# PostgreSQL restart the first request of each thread does not meet the dead one (issue 16 §5)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # the same backend, its health check asking the socket before the server (kefu.core.pgbackend)
    DATABASES["default"]["ENGINE"] = "kefu.core.pgbackend"
    # PostgreSQL's JIT compiles a plan when its estimated cost is high, which the day's KPI query of
    # a busy shop is: compiling took 420 ms of a 600 ms query, to save nothing (ADR 0017).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("KEFU_REDIS_URL", "")
# The desk places accepted messages in their conversations in the request (embedded default) or in
# the worker (production: the request only accepts them, ADR 0013).
KEFU_DESK_QUEUED = env_bool("KEFU_DESK_QUEUED", bool(REDIS_URL))
# Database threads the live streams' reads share in each web process (ADR 0018).
KEFU_STREAM_DB_THREADS = int(os.environ.get("KEFU_STREAM_DB_THREADS", "4"))
# Seconds a web process remembers rows every request reads and people rarely change (kefu.core.remembered;
# 0: not at all): channels and shops for the message pipeline, the status labels of the lists.
KEFU_MEMORY_SECONDS = float(os.environ.get("KEFU_MEMORY_SECONDS", "5"))
# Webhooks sign the timestamp with the body (v2=); the body-only form (sha256=) is accepted until
# this date (YYYY-MM-DD) for senders still moving over — unset: refused (docs/deploy.md).
KEFU_WEBHOOK_LEGACY_UNTIL = os.environ.get("KEFU_WEBHOOK_LEGACY_UNTIL", "")
if REDIS_URL:
    # Redis, and the database's cache table while Redis cannot be reached (kefu.core.cache).
    # Sessions are written to the database and read from the cache: a signed-in page asks Redis for
    # its session instead of the database (ADR 0025).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    CACHES = {
        "default": {
            "BACKEND": "kefu.core.cache.FailoverRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        },
        "fallback": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kefu_cache"},
    }
else:
    # Embedded: the database cache, so the sign-in counters are shared by every web process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kefu_cache"}}

# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated), e.g.
# "127.0.0.1" for the nginx of docs/deploy.md. Empty: the connection's own address is the client's.
KEFU_TRUSTED_PROXIES = env_list("KEFU_TRUSTED_PROXIES")
# The Django admin: off unless KEFU_ADMIN=1 (then signed-in attempts are throttled like the login page).
KEFU_ADMIN = env_bool("KEFU_ADMIN", False)

# Task queue: Redis in production, a SQLite file when embedded (ADR 0002).
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "kefu",
        "immediate": False,
        "connection": {"url": REDIS_URL},
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "kefu",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

AUTHENTICATION_BACKENDS = ["kefu.org.auth.SignInBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Login throttling (kefu.core.throttle): failures per username and per address in a window.
KEFU_LOGIN_MAX_FAILURES = int(os.environ.get("KEFU_LOGIN_MAX_FAILURES", "5"))
KEFU_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("KEFU_LOGIN_LOCKOUT_SECONDS", "900"))
# API tokens expire after this many days unless made for fewer (and always with a password change).
KEFU_TOKEN_DAYS = int(os.environ.get("KEFU_TOKEN_DAYS", "90"))
# seconds a web process remembers a checked API token (a revocation elsewhere takes effect within them)
KEFU_TOKEN_MEMORY_SECONDS = int(os.environ.get("KEFU_TOKEN_MEMORY_SECONDS", "10"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kefu" / "locale"]
TIME_ZONE = os.environ.get("KEFU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
KEFU_IMPORT_MAX_BYTES = int(os.environ.get("KEFU_IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))
# Uploads larger than this are imported by the task worker instead of inside the web request.
# An import whose process has not beaten for this long is taken up again or failed (issue 16 §9).
KEFU_IMPORT_STALL_SECONDS = int(os.environ.get("KEFU_IMPORT_STALL_SECONDS", "300"))
KEFU_IMPORT_ASYNC_BYTES = int(os.environ.get("KEFU_IMPORT_ASYNC_BYTES", str(2 * 1024 * 1024)))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Where messages to buyers and field-service customers go (dotted paths; the embedded senders log):
# the documented settings, read from the environment.
KEFU_DESK_SENDER = os.environ.get("KEFU_DESK_SENDER", "")
KEFU_SERVICE_SENDER = os.environ.get("KEFU_SERVICE_SENDER", "")
# Mail (the Monday after-sales report): SMTP when configured, else printed to the console.
EMAIL_BACKEND = os.environ.get("KEFU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("KEFU_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KEFU_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("KEFU_FROM_EMAIL", "kefu@localhost")
# R-WF-14: the DingTalk group robot for the Monday publication (optional).
KEFU_DINGTALK_ROBOT_URL = os.environ.get("KEFU_DINGTALK_ROBOT_URL", "")
KEFU_DINGTALK_ROBOT_SECRET = os.environ.get("KEFU_DINGTALK_ROBOT_SECRET", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "WARNING")},
    # httpx logs every request's URL at INFO, query included: DingTalk's token call carries the app
    # secret there, every later call the access token (the connectors never log a secret)
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
