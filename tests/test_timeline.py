"""The timeline is append-only and records actor, verb, before/after."""

from __future__ import annotations

import pytest

from kefu.core.events import event_record, timeline
from kefu.core.models import AppendOnlyError, Event

from .factories import ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_events_cannot_be_edited_or_deleted() -> None:
    shop = ShopFactory()
    user = UserFactory()
    event = event_record(actor=user, verb="shop.renamed", subject=shop, before={"name": "a"}, after={"name": "b"})
    assert timeline(shop)[0].pk == event.pk and event.actor_label == user.username
    event.verb = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).verb == "shop.renamed"
