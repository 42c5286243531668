"""Request-scoped context (client address) for audit events, without threading it through calls."""

from __future__ import annotations

import contextvars
from typing import Any

_request: contextvars.ContextVar[Any] = contextvars.ContextVar("kefu_request", default=None)


def set_request(request: Any) -> contextvars.Token[Any]:
    return _request.set(request)


def reset(token: contextvars.Token[Any]) -> None:
    _request.reset(token)


def client_ip(request: Any = None) -> str:
    request = request or _request.get()
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]
