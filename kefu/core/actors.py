"""Who acts in a write or a read: a signed-in person (a Django user), a server job (``SystemActor``
for the command line and signed sources, ``None`` for a scheduled job) or the department-wide
reader of background exports (``scoping.DEPARTMENT``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

    from .events import SystemActor
    from .scoping import _Department

Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | SystemActor | _Department | None"


def user_of(actor: Actor) -> User | None:
    """The person behind an actor, for a "recorded by" column: ``None`` for a job, the command line
    or the department-wide reader (they are named on the timeline by their label instead)."""
    from django.contrib.auth.models import User

    return actor if isinstance(actor, User) else None
