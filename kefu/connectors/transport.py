"""Calling a platform: one HTTP client per connector run, and retries (issue 21 §1).

A platform answers in one of four ways, and each has its own handling:
- the answer: returned;
- ``RateLimited``: wait (at least what the platform asks) and ask again;
- ``Transient`` (a timeout, a 5xx, the platform's own service error): back off with jitter and ask again;
- ``AuthExpired`` (a session or token no longer valid) and ``Refused`` (the call itself is wrong):
  never retried — the run fails with the platform's words, and the health page shows them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from django.utils.translation import gettext as _

T = TypeVar("T")


class PlatformError(Exception):
    """A platform's refusal, with its own code and words kept for the run log."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class RateLimited(PlatformError):
    def __init__(self, message: str, *, code: str = "", retry_after: float = 0.0) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Transient(PlatformError):
    pass


class AuthExpired(PlatformError):
    pass


class Refused(PlatformError):
    pass


@dataclass
class Backoff:
    """Retries with exponential back-off and full jitter, capped; ``sleep`` is replaceable in tests."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_wait: float = 120.0  # a rate limit asking longer than this fails the run instead of holding the worker
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    retries: int = 0

    def delay(self, attempt: int, asked: float = 0.0) -> float:
        ceiling = min(self.cap, self.base * (2**attempt))
        return max(asked, ceiling / 2 + self.rng.uniform(0, ceiling / 2))

    def run(self, call: Callable[[], T]) -> T:
        for attempt in range(self.attempts):
            try:
                return call()
            except RateLimited as exc:
                if exc.retry_after > self.max_wait or attempt == self.attempts - 1:
                    raise
                wait = self.delay(attempt, exc.retry_after)
            except Transient:
                if attempt == self.attempts - 1:
                    raise
                wait = self.delay(attempt)
            self.retries += 1
            self.sleep(wait)
        raise AssertionError("unreachable")


def client(timeout: float = 20.0) -> httpx.Client:
    """One client (a kept connection) per run; redirects are not followed (a gateway that redirects
    is misconfigured, and credentials must not travel to another host)."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), follow_redirects=False, trust_env=False)


def send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One HTTP exchange: network failures and 5xx/429 become ``Transient``/``RateLimited``."""
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise Transient(_("The platform did not answer in time.")) from exc
    except httpx.TransportError as exc:
        raise Transient(_("The platform could not be reached (%(error)s).") % {"error": type(exc).__name__}) from exc
    status = response.status_code
    words = _("The platform answered HTTP %(status)s.") % {"status": status}
    if status == 429:
        raise RateLimited(words, code="429", retry_after=_seconds(response.headers.get("Retry-After")))
    if status >= 500:
        raise Transient(words, code=str(status))
    if status in (401, 403):
        raise AuthExpired(words, code=str(status))
    if status >= 400:
        raise Refused(words, code=str(status))
    return response


def json_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise Transient(_("The platform's answer is not JSON.")) from exc
    if not isinstance(body, dict):
        raise Transient(_("The platform's answer is not a JSON object."))
    return body


MALFORMED = (TypeError, ValueError, AttributeError, KeyError, OverflowError, ArithmeticError)


def malformed(exc: BaseException) -> str:
    """Why a platform's record could not be read, for its failed-record line (never Python's words)."""
    return _("The platform's record is malformed (%(error)s).") % {"error": type(exc).__name__}


def count(value: Any, what: str) -> int:
    """A count in a platform's answer; a malformed one refuses the answer (it cannot be paged)."""
    try:
        number = int(value or 0)
    except MALFORMED:
        raise Refused(_("The platform's answer is malformed: %(field)s is not a number.") % {"field": what}) from None
    if number < 0:
        raise Refused(_("The platform's answer is malformed: %(field)s is not a number.") % {"field": what})
    return number


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value or 0))
    except ValueError:
        return 0.0


def malformed_answer(field: str) -> str:
    return _("The platform's answer is malformed: %(field)s is missing or wrong.") % {"field": field}
