"""``kefu sync [--connector NAME] [--since ISO] [--stream S] [--json]``: run connectors now and print
each run's counts as the imports do; exit 1 when a run failed or refused records."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.errors import ApplicationError
from kefu.core.params import parse_moment


def run_json(run: Any) -> dict[str, Any]:
    return {
        "connector": run.connector.name,
        "stream": run.stream,
        "outcome": run.outcome,
        "window": [
            run.window_start.isoformat() if run.window_start else None,
            run.window_end.isoformat() if run.window_end else None,
        ],
        "pages": run.pages,
        "fetched": run.fetched,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "failed": run.failures,
        "retries": run.retries,
        "error": run.error,
    }


class Command(BaseCommand):
    help = "Sync connectors now"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connector", help="one connector by name (default: every enabled one)")
        parser.add_argument("--since", help="read again from this instant (ISO 8601); cursors do not move back")
        parser.add_argument("--stream", action="append", help="only these streams (orders, refunds, punches …)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        from kefu.connectors.base import adapters
        from kefu.connectors.models import Connector, Outcome, Trigger
        from kefu.connectors.services import connector_sync
        from kefu.core import clock

        since = None
        if opts.get("since"):
            try:
                since = parse_moment(opts["since"])
            except ValueError as exc:
                raise CommandError(f"--since: {exc}") from None
            if since > clock.now():
                raise CommandError("--since: the time is in the future")
        targets = Connector.objects.select_related("shop").order_by("name")
        if opts.get("connector"):
            targets = targets.filter(name=opts["connector"])
            if not targets.exists():
                raise CommandError(f"no connector named {opts['connector']!r}")
        else:
            targets = targets.filter(enabled=True)
        if opts.get("stream"):
            platforms = adapters()
            known = {s.name for c in targets for s in platforms[c.platform].streams}
            unknown = sorted(set(opts["stream"]) - known)
            if unknown:
                raise CommandError(f"unknown stream {', '.join(unknown)}; the streams are {', '.join(sorted(known))}")
        out: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for connector in targets:
            try:
                runs = connector_sync(connector=connector, trigger=Trigger.CLI, since=since, streams=opts.get("stream"))
            except ApplicationError as exc:
                errors.append({"connector": connector.name, **exc.as_dict()})
                continue
            out += [run_json(r) for r in runs]
            connector.refresh_from_db()
            if connector.last_error and not runs:
                errors.append({"connector": connector.name, "error": connector.last_error})
        if opts["json"]:
            self.stdout.write(json.dumps({"runs": out, "errors": errors}, ensure_ascii=False))
        else:
            for r in out:
                self.stdout.write(
                    f"{r['connector']} {r['stream']}: {r['outcome']} fetched {r['fetched']}, created {r['created']}, "
                    f"updated {r['updated']}, unchanged {r['unchanged']}, failed {len(r['failed'])}"
                    + (f" — {r['error']}" if r["error"] else "")
                )
            for e in errors:
                self.stdout.write(f"{e['connector']}: {e.get('error')}")
        if errors or any(r["outcome"] in {Outcome.FAILED, Outcome.PARTIAL} for r in out):
            raise SystemExit(1)
