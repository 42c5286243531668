"""Request-scoped context (client address) for audit events, without threading it through calls."""

from __future__ import annotations

import contextvars
import functools
import ipaddress
from typing import Any

_request: contextvars.ContextVar[Any] = contextvars.ContextVar("kefu_request", default=None)


def set_request(request: Any) -> contextvars.Token[Any]:
    return _request.set(request)


def reset(token: contextvars.Token[Any]) -> None:
    _request.reset(token)


def client_ip(request: Any = None) -> str:
    """The client's address. ``X-Forwarded-For`` is believed only when the connection comes from a
    configured trusted proxy (``KEFU_TRUSTED_PROXIES``: addresses or networks); then the address is
    the right-most entry that is not itself a trusted proxy. Behind nginx this is the browser's
    address — never 127.0.0.1 for everyone — and a client cannot forge it by sending the header."""
    request = request or _request.get()
    if request is None:
        return ""
    remote = str(request.META.get("REMOTE_ADDR", ""))[:64]
    proxies = _trusted_proxies()
    if not proxies or not _is_trusted(remote, proxies):
        return remote
    forwarded = [p.strip() for p in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if p.strip()]
    for hop in reversed(forwarded):
        if not _is_trusted(hop, proxies):
            return hop[:64] if _is_address(hop) else remote
    return forwarded[0][:64] if forwarded and _is_address(forwarded[0]) else remote


def _trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    from django.conf import settings

    raw = getattr(settings, "KEFU_TRUSTED_PROXIES", ())
    return _parse_networks(tuple(raw))


@functools.lru_cache(maxsize=8)
def _parse_networks(raw: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw if item.strip())


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(text: str, proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in proxies)
