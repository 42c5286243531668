"""Connector credentials encrypted at rest (issue 21 §1, ADR 0026): Fernet (AES-128-CBC + HMAC-SHA256)
from ``cryptography``, keys from the environment.

``KEFU_CONNECTOR_KEYS`` holds one or more Fernet keys, comma-separated, newest first: the first
encrypts, every one decrypts (a rotation adds a key in front, re-saves the connectors, then drops
the old one). Without it the key is derived from ``KEFU_SECRET_KEY`` (the embedded default and the
tests): changing the secret key then makes the stored credentials unreadable, and each connector's
keys are entered again (docs/deploy.md says to set ``KEFU_CONNECTOR_KEYS`` in production).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

from kefu.core.errors import ApplicationError


def _derived(secret: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(b"kefu-connectors:" + secret.encode()).digest())


@cache
def _fernet(keys: str, fallback: str) -> MultiFernet:
    items = [k.strip() for k in keys.split(",") if k.strip()]
    if not items:
        return MultiFernet([Fernet(_derived(fallback))])
    try:
        return MultiFernet([Fernet(k.encode()) for k in items])
    except ValueError as exc:
        raise RuntimeError("KEFU_CONNECTOR_KEYS holds a key that is not a Fernet key") from exc


def _box() -> MultiFernet:
    return _fernet(os.environ.get("KEFU_CONNECTOR_KEYS", ""), settings.SECRET_KEY)


def seal(secrets: dict[str, str]) -> str:
    return _box().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def unseal(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        value = json.loads(_box().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ApplicationError(
            "connector_key", _("The connector's credentials cannot be read with this server's keys; enter them again.")
        ) from exc
    return value if isinstance(value, dict) else {}


def new_key() -> str:
    return Fernet.generate_key().decode()
