"""Quality inspection's jobs: inspect what was placed since the last run, a few seconds behind the
desk (woken by the desk's placing, and every minute as a safety net)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.events import SystemActor
from kefu.core.signals import messages_placed

from .services import inspect_due

FLAG = "kefu:quality:inspect-queued"


@db_task()
def inspect_task() -> int:
    cache.delete(FLAG)
    return inspect_due(actor=SystemActor("quality"))


@db_periodic_task(crontab(minute="*"))
def inspect_periodic() -> int:
    return inspect_due(actor=SystemActor("quality"))


@receiver(messages_placed)
def _wake(sender: Any, conversations: list[int], **kwargs: Any) -> None:
    if cache.add(FLAG, 1, timeout=30):
        inspect_task()
