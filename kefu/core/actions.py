"""The one write path (Zulip's ``do_*`` actions are the model).

Every service write is an *action*: ``@action(capability=…, scope=(…))`` checks the actor's
capability and that every named object argument lies in the actor's scope, then runs the body in
one ``transaction.atomic(durable=True)`` that holds the change **and** its timeline event. An action
called from inside another action joins the outer transaction (as a savepoint), so a composite
write (a resolution that posts money and charges an agent) commits or fails as a whole.

Side effects that leave the database (DingTalk robot, mail) never run inside an action: the action
puts a message in the outbox (``kefu.core.outbox.outbox_put``) in the same transaction, and the
worker delivers it after commit, with retries.

Imports are the one kind of write that is not a single transaction: they commit chunk by chunk
(each chunk with its rows' events) so that a 100,000-order file neither holds one giant transaction
nor loses the good rows when one chunk fails; they use ``@action(atomic=False)`` and finish their
import run in a ``finally``.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar, cast

from django.db import models, transaction

from .actors import Actor
from .errors import PermissionDenied
from .events import SystemActor
from .scoping import CHANGE, DEPARTMENT, ensure_in_scope

P = ParamSpec("P")
R = TypeVar("R")

_depth: contextvars.ContextVar[int] = contextvars.ContextVar("kefu_action_depth", default=0)
_capability_check: list[Callable[[Any, str], bool]] = []


def register_capability_check(check: Callable[[Any, str], bool]) -> None:
    """The organisation app says how capabilities are decided (core knows no domain app)."""
    _capability_check[:] = [check]


def has_capability(actor: Actor, capability: str) -> bool:
    if not _capability_check:
        raise RuntimeError("no capability check registered (is kefu.org installed?)")
    return _capability_check[0](actor, capability)


def require(actor: Actor, capability: str, message: str | None = None) -> None:
    if not has_capability(actor, capability):
        raise PermissionDenied(message) if message else PermissionDenied()


def is_operator(actor: Actor) -> bool:
    """Server-side code acting for the department: a scheduled job (``None``), the command line (a
    ``SystemActor``) or the department-wide reader. An anonymous web user is *not* an operator."""
    return actor is None or isinstance(actor, SystemActor) or actor is DEPARTMENT


# What an action may name instead of a capability (issue 19: every action names one):
OPERATOR = "@operator"  # a job of the server (the worker, the command line, a signed webhook): a person is refused
OWN = "@own"  # a person on their own records (their desk status, their tokens); the body checks whose they are
# the workflow core's moves: as a step of a module's action, that action checked; called on their own,
# the capability the record's workflow declares (``Workflow.capability``), checked by the core
WORKFLOW = "@workflow"


def inside_another_action() -> bool:
    """Whether the running action was called by another action (which checked its own capability)."""
    return _depth.get() > 1


def _check(capability: str | None, actor: Actor) -> None:
    if capability is None or capability == WORKFLOW:
        return
    if capability == OPERATOR:
        if _depth.get() == 0 and not is_operator(actor):
            raise PermissionDenied()
    elif capability == OWN:
        if not is_operator(actor) and not getattr(actor, "is_authenticated", False):
            raise PermissionDenied()
    elif not is_operator(actor):
        require(actor, capability)


def action(
    *,
    capability: str | None = None,
    scope: Iterable[str] = (),
    scope_action: str = CHANGE,
    atomic: bool = True,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a keyword-only service write ``fn(*, actor, …)``.

    ``capability``: refused with 403 unless the actor holds it; operators (jobs, the command line,
    signed sources) act for the department and pass. Instead of a capability an action may name
    ``OPERATOR`` (jobs only; as a step of another action, that action checked), ``OWN`` (a person's
    own records, the body checks whose) or ``WORKFLOW`` (the workflow core: the record's workflow
    names the capability).
    ``scope``: names of keyword arguments holding model instances that must be inside the actor's
    scope (404 otherwise; ``None`` is let through; operators act for the whole department), for
    ``scope_action`` ("change", or "approve" for decisions; see ``RestrictedQuerySet.restrict``).
    ``atomic=False`` is for imports, which manage their own chunk transactions.
    """
    scoped = tuple(scope)

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = cast(Actor, kwargs.get("actor"))
            _check(capability, actor)
            if not is_operator(actor):
                for name in scoped:
                    obj = kwargs.get(name)
                    if isinstance(obj, models.Model):
                        ensure_in_scope(actor, obj, scope_action)
            if not atomic:
                token = _depth.set(_depth.get() + 1)
                try:
                    return fn(*args, **kwargs)
                finally:
                    _depth.reset(token)
            outer = _depth.get() == 0
            token = _depth.set(_depth.get() + 1)
            try:
                with transaction.atomic(durable=outer):
                    return fn(*args, **kwargs)
            finally:
                _depth.reset(token)

        run.__kefu_action__ = True  # type: ignore[attr-defined]
        run.__kefu_capability__ = capability  # type: ignore[attr-defined]
        return run

    return decorate
