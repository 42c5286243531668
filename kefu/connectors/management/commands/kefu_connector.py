"""``kefu connector add PLATFORM …`` / ``kefu connector list [--json]`` / ``kefu connector set NAME …``.

The command line is the server's operator: it adds connectors for any shop. Secrets may come from
the environment instead of the command line (``--app-secret-env VAR``, ``--session-env VAR``), so
they stay out of the shell's history and the process list.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.params import parse_moment
from kefu.org.models import Shop


def _when(text: str | None, what: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise CommandError(f"{what}: {exc}") from None


def _secret(opts: dict[str, Any], name: str) -> str:
    env = opts.get(f"{name}_env")
    if env:
        value = os.environ.get(env, "")
        if not value:
            raise CommandError(f"the environment variable {env} is empty")
        return value
    return str(opts.get(name) or "")


def connector_json(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "platform": c.platform,
        "shop": c.shop.name if c.shop else None,
        "gateway": c.gateway,
        "app_key": c.app_key,
        "enabled": c.enabled,
        "interval_minutes": c.interval_minutes,
        "session_expires_at": c.session_expires_at.isoformat() if c.session_expires_at else None,
        "cursors": c.cursors,
        "last_success_at": c.last_success_at.isoformat() if c.last_success_at else None,
        "failing_since": c.failing_since.isoformat() if c.failing_since else None,
        "last_error": c.last_error,
    }


class Command(BaseCommand):
    help = "Platform and DingTalk connectors: add, set, list"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a connector")
        add.add_argument("platform", choices=["taobao", "pinduoduo", "dingtalk"])
        add.add_argument("--name", required=True)
        add.add_argument("--shop", help="the shop's name (shop platforms)")
        add.add_argument("--app-key", required=True)
        add.add_argument("--app-secret")
        add.add_argument("--app-secret-env", help="read the app secret from this environment variable")
        add.add_argument("--session", default="", help="the seller's session key / access token")
        add.add_argument("--session-env", help="read the session key from this environment variable")
        add.add_argument("--session-expires", help="when the session key expires (ISO 8601)")
        add.add_argument("--gateway", default="", help="the platform's gateway URL (a sandbox, a test double)")
        add.add_argument("--sign-method", default="md5", choices=["md5", "hmac", "hmac-sha256"])
        add.add_argument("--admin-user", default="", help="DingTalk: an administrator's userid (leave types)")
        add.add_argument(
            "--trip-process-code", default="", help="DingTalk: the business-trip approval form's process code"
        )
        add.add_argument("--every", type=int, default=10, help="minutes between runs")
        add.add_argument("--start-from", help="the first run reads from this instant (ISO 8601)")
        add.add_argument("--json", action="store_true")
        setp = sub.add_parser("set", help="renew keys, change the gateway or the schedule, switch on or off")
        setp.add_argument("name")
        setp.add_argument("--app-secret")
        setp.add_argument("--app-secret-env")
        setp.add_argument("--session")
        setp.add_argument("--session-env")
        setp.add_argument("--session-expires")
        setp.add_argument("--gateway")
        setp.add_argument("--every", type=int)
        setp.add_argument("--enable", action="store_true")
        setp.add_argument("--disable", action="store_true")
        setp.add_argument("--json", action="store_true")
        listing = sub.add_parser("list", help="list the connectors and their health")
        listing.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        from kefu.connectors import services
        from kefu.connectors.models import Connector

        actor = SystemActor(label="cli")
        try:
            if opts["action"] == "list":
                rows = [connector_json(c) for c in Connector.objects.select_related("shop").order_by("name")]
                if opts["json"]:
                    self.stdout.write(json.dumps(rows, ensure_ascii=False))
                else:
                    for r in rows:
                        state = "failing: " + r["last_error"] if r["failing_since"] else "ok"
                        self.stdout.write(f"{r['name']}\t{r['platform']}\t{r['shop'] or '-'}\t{state}")
                return
            if opts["action"] == "add":
                shop = None
                if opts.get("shop"):
                    shop = Shop.objects.filter(name=opts["shop"]).first()
                    if shop is None:
                        raise CommandError(f"no shop named {opts['shop']!r}")
                secret = _secret(opts, "app_secret")
                connector = services.connector_add(
                    actor=actor,
                    platform=opts["platform"],
                    name=opts["name"],
                    shop=shop,
                    app_key=opts["app_key"],
                    app_secret=secret,
                    session=_secret(opts, "session"),
                    session_expires_at=_when(opts.get("session_expires"), "--session-expires"),
                    gateway=opts["gateway"],
                    sign_method=opts["sign_method"],
                    interval_minutes=opts["every"],
                    start_from=_when(opts.get("start_from"), "--start-from"),
                    admin_user=opts.get("admin_user") or "",
                    trip_process_code=opts.get("trip_process_code") or "",
                )
            else:
                found = Connector.objects.filter(name=opts["name"]).first()
                if found is None:
                    raise CommandError(f"no connector named {opts['name']!r}")
                connector = services.connector_update(
                    actor=actor,
                    connector=found,
                    app_secret=_secret(opts, "app_secret") or None,
                    session=_secret(opts, "session") or None,
                    session_expires_at=_when(opts.get("session_expires"), "--session-expires"),
                    gateway=opts.get("gateway"),
                    interval_minutes=opts.get("every"),
                    enabled=True if opts["enable"] else False if opts["disable"] else None,
                )
        except ApplicationError as exc:
            if opts.get("json"):
                self.stdout.write(json.dumps(exc.as_dict(), ensure_ascii=False))
            raise CommandError(str(exc.message)) from exc
        if opts.get("json"):
            self.stdout.write(json.dumps(connector_json(connector), ensure_ascii=False))
        else:
            self.stdout.write(f"connector {connector.name} saved")
