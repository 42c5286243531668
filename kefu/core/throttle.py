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

from kefu.core.rules import Verb

from . import counters


def _keys(username: str, ip: str) -> list[str]:
    # as the sign-in forms read it (NFKC: "ｂoss" signs in as boss), so each spelling counts as one
    name = unicodedata.normalize("NFKC", username).strip().casefold()
    user_key = hashlib.sha256(name.encode()).hexdigest()[:32]
    pair_key = hashlib.sha256(f"{name}\n{ip}".encode()).hexdigest()[:32]
    return [f"kefu:login-fail:pair:{pair_key}", f"kefu:login-fail:ip:{ip}", f"kefu:login-fail:user:{user_key}"]


def _bump(key: str, timeout: int) -> int:
    """Add one to a counter and return the new count, atomically (``kefu.core.counters``: Redis, or
    one conditional UPDATE of a counter row where there is no Redis)."""
    return counters.bump(key, timeout)


def login_attempt(username: str, ip: str) -> bool:
    """Count this sign-in attempt *before* the password is checked, and say whether it may be
    checked. Reading the counts and raising them after the check raced: 60 parallel wrong passwords
    all read "below the limit" and 53 were checked (limit 5). Each attempt now takes its number
    from an atomic increment, so at most ``limit`` attempts of a pair are ever checked in a window,
    whatever the concurrency. A success forgets the pair's and the name's attempts."""
    limit = settings.KEFU_LOGIN_MAX_FAILURES
    timeout = settings.KEFU_LOGIN_LOCKOUT_SECONDS
    pair, address, user = (_bump(key, timeout) for key in _keys(username, ip))
    return bool(pair <= limit and address <= limit * 4 and user <= limit * 10)


def login_succeeded(username: str, ip: str) -> None:
    pair, address, user = _keys(username, ip)
    counters.forget(pair, user)
    counters.lower(address)  # the office's address: a colleague's success is not a failure


def login_refused(username: str, ip: str) -> None:
    """A sign-in refused by the lock is audited (who tried, from where)."""
    from .events import SystemActor, event_record

    event_record(
        actor=SystemActor(label=username[:150] or "?"), verb=Verb.AUTH_LOGIN_REFUSED, data={"username": username[:150]}
    )


def _token_key(token: str) -> str:
    return "kefu:token-fail:" + hashlib.sha256(token[:12].encode()).hexdigest()[:32]


def token_failed(token: str, ip: str) -> None:
    """A call with an unknown, revoked or expired token: audited and counted against the token it
    names (its prefix), never against the address — 21 bad tokens from one address locked every
    valid token on that address (issue 16 §6)."""
    from .events import SystemActor, event_record

    _bump(_token_key(token), settings.KEFU_LOGIN_LOCKOUT_SECONDS)
    event_record(actor=SystemActor(label="api-token"), verb=Verb.AUTH_TOKEN_FAILED, data={"prefix": token[:12]})


def token_locked(token: str) -> bool:
    """Whether the token (by its prefix) has failed too often recently to be checked at all."""
    return counters.peek(_token_key(token)) >= settings.KEFU_LOGIN_MAX_FAILURES * 4


def allow(key: str, limit: int, seconds: int) -> bool:
    """A fixed-window counter: True while ``key`` has been seen at most ``limit`` times in the
    current ``seconds`` window (shared by every web process: Redis, or the counter table)."""
    return _bump(f"kefu:rate:{key}:{int(time.time() // seconds)}", seconds + 5) <= max(limit, 1)
