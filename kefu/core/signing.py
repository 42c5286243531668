"""Signed requests from other systems (webhooks): the body read in bounded chunks while its HMAC is
computed, and each signed request taken once within its replay window (issue 16 §4)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import tempfile

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .errors import ApplicationError

HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
CHUNK = 64 * 1024
IN_MEMORY = 1024 * 1024  # beyond this a body being checked waits on disk, not in the web process


def legacy_accepted(today: dt.date) -> bool:
    """Whether the body-only signature (``sha256=``) is still accepted: only until the date set in
    ``KEFU_WEBHOOK_LEGACY_UNTIL`` (unset: never)."""
    until = settings.KEFU_WEBHOOK_LEGACY_UNTIL
    return bool(until) and today <= dt.date.fromisoformat(until)


def digest_of(value: str) -> str | None:
    """The hex digest after ``scheme=`` in a signature header, in its one spelling (64 lowercase hex
    digits), or None: other spellings of one digest must not pass the replay window as new
    requests, and a non-ASCII one made ``compare_digest`` raise."""
    digest = value.partition("=")[2].strip().lower()
    return digest if HEX_DIGEST.fullmatch(digest) else None


def declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        raise ApplicationError("validation_error", _("Content-Length is not a number."), status=400) from None


def read_signed(request: HttpRequest, *, secret: bytes, prefix: bytes, signature: str, max_bytes: int) -> bytes | None:
    """The body if ``signature`` (from ``digest_of``) is the hex HMAC-SHA256 of ``prefix + body`` with ``secret``, else
    None. A declared length over ``max_bytes`` is refused (413) before a byte is read; the body is
    read in chunks into a spool that keeps at most 1 MB in memory until the signature matches."""
    if declared_length(request) > max_bytes:
        raise ApplicationError("too_large", _("The body is too large."), status=413)
    mac = hmac.new(secret, prefix, hashlib.sha256)
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as spool:
        while chunk := request.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ApplicationError("too_large", _("The body is too large."), status=413)
            mac.update(chunk)
            spool.write(chunk)
        if not hmac.compare_digest(mac.hexdigest(), signature):
            return None
        spool.seek(0)
        return spool.read()


def first_delivery(scope: str, signature: str, seconds: int) -> bool:
    """True the first time this signature is seen within ``seconds`` (a replay answers False)."""
    key = "kefu:signed-seen:" + hashlib.sha256(f"{scope}\n{signature}".encode()).hexdigest()[:40]
    return bool(cache.add(key, 1, timeout=seconds))
