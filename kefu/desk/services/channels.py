"""Chat channels: the supervisor's (create, rotate the secret) and the built-in ones."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core.actions import action
from kefu.core.actors import Actor
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record
from kefu.core.scoping import scope_for
from kefu.desk.rules import Verb
from kefu.org.models import Shop, Team

from ..models import (
    Channel,
    ChannelKind,
)


@action(capability="org.manage")
def channel_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str = "platform",
    shop: Shop | None = None,
    origins: list[str] | None = None,
) -> Channel:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", code or ""):
        raise ApplicationError("channel_code", _("A channel code is 2–40 lower-case letters, digits or dashes."))
    if Channel.objects.filter(code=code).exists():
        raise ApplicationError("channel_code", _("A channel with this code exists."))
    if kind not in ChannelKind.values:
        raise ApplicationError("validation_error", _("Choose the kind of channel."))
    if kind == ChannelKind.WIDGET and shop is None:
        raise ApplicationError("channel_shop", _("A web chat widget belongs to one shop."))
    name = (name or code).strip()[:60]
    channel = Channel.objects.create(code=code, name=name, kind=kind, shop=shop, origins=origins or [])
    event_record(actor=actor, verb=Verb.CHANNEL_CREATED, subject=channel, after={"code": code, "name": name})
    return channel


@action(capability="org.manage", scope=("channel",))
def channel_update(
    *, actor: Actor, channel: Channel, name: str, active: bool, origins: list[str], rotate_secret: bool = False
) -> Channel:
    """Rename, switch on or off, set a widget's allowed origins, or issue a new signing secret."""
    import secrets as _secrets

    clean = []
    for origin in origins:
        origin = origin.strip().rstrip("/")
        if not origin:
            continue
        if not origin.startswith(("https://", "http://")) or " " in origin or len(origin) > 200:
            raise ApplicationError("channel_origin", _("An origin looks like https://shop.example.com."))
        clean.append(origin)
    before = {"name": channel.name, "active": channel.active, "origins": channel.origins}
    fields: dict[str, Any] = {"name": (name or channel.name).strip()[:60], "active": active, "origins": clean}
    if rotate_secret:
        fields["secret"] = _secrets.token_hex(32)
    Channel.objects.filter(pk=channel.pk).update(**fields)
    channel.refresh_from_db()
    from ..selectors import directory_forget

    transaction.on_commit(directory_forget)  # this process at once; others within the TTL
    event_record(
        actor=actor,
        verb=Verb.CHANNEL_UPDATED,
        subject=channel,
        before=before,
        after={"name": channel.name, "active": channel.active, "origins": channel.origins},
        data={"note": "secret rotated" if rotate_secret else ""},
    )
    return channel


DEFAULT_CHANNELS = {"api": ("API", ChannelKind.PLATFORM), "import": ("聊天记录导入", ChannelKind.IMPORT)}


def channel_default(code: str) -> Channel | None:
    """The built-in channels (``api`` for token pushes, ``import`` for chat logs) always exist:
    recreated if someone deleted them; any other code is looked up as it is."""
    if code in DEFAULT_CHANNELS:
        name, kind = DEFAULT_CHANNELS[code]
        return _channel_ensure(code, name, kind)
    from .. import selectors

    return selectors.channel_by_code(code)


def channel_for_pusher(actor: Actor) -> Channel | None:
    """The channel a person's token pushes into: one per team (``api-t<team id>``), so message ids
    are each team's own — one shared ``api`` channel let the Haifeng lead's id silently drop the
    Yangzhou lead's real message, and the duplicate count told which ids existed (issue 16 §5).
    The supervisor and the deputy push into ``api``."""

    scope = scope_for(actor)
    if scope.all or not scope.team_ids:
        return channel_default("api")
    team = Team.objects.get(pk=min(scope.team_ids))
    return _channel_ensure(f"api-t{team.pk}", f"API · {team.name}"[:60], ChannelKind.PLATFORM)


def _channel_ensure(code: str, name: str, kind: str) -> Channel | None:
    """A channel the system keeps (built-in or a team's push channel), created on first use with a
    fresh secret; None while an administrator has switched it off."""
    import secrets as _secrets

    channel, _created = Channel.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "secret": _secrets.token_hex(32)}
    )
    return channel if channel.active else None
