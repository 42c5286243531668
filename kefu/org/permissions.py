"""Capabilities by position. Code asks ``has_capability(user, "…")``; each module declares its
capabilities and the positions that hold them in its ``rules.py`` (``kefu.core.rulebook``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kefu.core import rulebook
from kefu.core.scoping import scope_for


def holders(capability: str) -> frozenset[str]:
    """The positions that hold ``capability`` (each module declares its own in its ``rules.py``)."""
    return rulebook.capability(capability).positions


# Capabilities a person may hold beyond their position, granted by the supervisor (the refund-approval
# permission of R-AS-7): a module registers how to ask for its grants (``grant_source``).
GRANT_SOURCES: dict[str, list[Callable[[Any], bool]]] = {}


def grant_source(capability: str, holds: Callable[[Any], bool]) -> None:
    holders(capability)  # an unknown capability is a KeyError here, not a silent refusal later
    GRANT_SOURCES.setdefault(capability, []).append(holds)


def by_position(user: Any, capability: str) -> bool:
    """The capability as the user's position gives it (no personal grant)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return scope_for(user).position in holders(capability)


def staff_holds(staff: Any, capability: str) -> bool:
    """Whether a staff member's position holds ``capability`` — for a person being given work or a
    permission (the owner of a complaint, a grant's holder), not the one acting."""
    return bool(staff.active) and staff.position in holders(capability)


def has_capability(user: Any, capability: str) -> bool:
    if by_position(user, capability):
        return True
    return getattr(user, "is_authenticated", False) and any(holds(user) for holds in GRANT_SOURCES.get(capability, ()))
