"""Production: PostgreSQL + Redis behind a TLS-terminating proxy. See docs/deploy.md."""

import os

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

if SECRET_KEY.startswith("kefu-insecure") and not env_bool("KEFU_ALLOW_INSECURE_KEY"):
    raise RuntimeError("KEFU_SECRET_KEY must be set in production")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("KEFU_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("KEFU_HSTS_SECONDS", "31536000"))
# includeSubDomains and preload bind every subdomain of the host to HTTPS, for browsers' lists
# too: off unless the operator says so (docs/deploy.md)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KEFU_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("KEFU_HSTS_PRELOAD", False)
# a deliberate choice, not an oversight: the deploy check's advice for both stays silent
SILENCED_SYSTEM_CHECKS = [
    *(["security.W005"] if not SECURE_HSTS_INCLUDE_SUBDOMAINS else []),
    *(["security.W021"] if not SECURE_HSTS_PRELOAD else []),
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},  # see base.py
}
