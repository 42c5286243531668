"""Login throttling: too many failures lock sign-in for a while — for one username from one
address, for one address whatever the usernames, and (far later) for one username from anywhere.

Locking a username after a handful of failures from anywhere would let anyone lock the
supervisor out by typing their name wrong five times (the review did it through /admin/). The
first lock is therefore the (username, address) pair; one address gets 4× the room (an office
shares one address), and a username 10× from all addresses together, which still stops a guessing
campaign spread over many addresses.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, ip: str) -> list[str]:
    # as the sign-in forms read it (NFKC: "ｂoss" signs in as boss), so each spelling counts as one
    name = unicodedata.normalize("NFKC", username).strip().casefold()
    user_key = hashlib.sha256(name.encode()).hexdigest()[:32]
    pair_key = hashlib.sha256(f"{name}\n{ip}".encode()).hexdigest()[:32]
    return [f"kefu:login-fail:pair:{pair_key}", f"kefu:login-fail:ip:{ip}", f"kefu:login-fail:user:{user_key}"]


def login_locked(username: str, ip: str) -> bool:
    limit = settings.KEFU_LOGIN_MAX_FAILURES
    keys = _keys(username, ip)
    counts = cache.get_many(keys)
    pair, address, user = (counts.get(k, 0) for k in keys)
    return bool(pair >= limit or address >= limit * 4 or user >= limit * 10)


def login_failed(username: str, ip: str) -> None:
    for key in _keys(username, ip):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.KEFU_LOGIN_LOCKOUT_SECONDS)


def login_succeeded(username: str, ip: str) -> None:
    pair, _address, user = _keys(username, ip)
    cache.delete_many([pair, user])


def login_refused(username: str, ip: str) -> None:
    """A sign-in refused by the lock is audited (who tried, from where), without raising the count."""
    from .events import SystemActor, event_record

    event_record(
        actor=SystemActor(label=username[:150] or "?"), verb="auth.login_refused", data={"username": username[:150]}
    )


def token_failed(prefix: str, ip: str) -> bool:
    """A call with an unknown, revoked or expired token: audited and counted per address; returns
    whether the address is now locked out of token calls."""
    from .events import SystemActor, event_record

    key = f"kefu:token-fail:ip:{ip}"
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=settings.KEFU_LOGIN_LOCKOUT_SECONDS)
        count = 1
    event_record(actor=SystemActor(label="api-token"), verb="auth.token_failed", data={"prefix": prefix[:12]})
    return bool(count > settings.KEFU_LOGIN_MAX_FAILURES * 4)


def token_locked(ip: str) -> bool:
    return bool((cache.get(f"kefu:token-fail:ip:{ip}") or 0) > settings.KEFU_LOGIN_MAX_FAILURES * 4)


def allow(key: str, limit: int, seconds: int) -> bool:
    """A fixed-window counter: True while ``key`` has been seen at most ``limit`` times in the
    current ``seconds`` window (the cache is shared by the web processes in production)."""
    bucket = f"kefu:rate:{key}:{int(time.time() // seconds)}"
    if cache.add(bucket, 1, seconds + 5):
        return True
    try:
        return int(cache.incr(bucket)) <= limit
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, seconds + 5)
        return True
