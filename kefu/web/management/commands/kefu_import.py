"""``kefu import KIND FILE``: staff lists and Taobao/Tmall order exports, with a JSON summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from kefu.core.actors import Actor
from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.imports import ImportSummary
from kefu.core.params import json_loads
from kefu.org.models import Shop


class Command(BaseCommand):
    help = "Import a file: staff FILE.csv | orders FILE --shop NAME [--create-shop] | attendance FILE.xlsx"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["staff", "orders", "attendance", "chats"])
        parser.add_argument("file")
        parser.add_argument("--shop", help="shop name (orders)")
        parser.add_argument("--create-shop", action="store_true", help="create the shop if it does not exist")
        parser.add_argument("--platform", default="tmall", help="platform of a created shop")
        parser.add_argument("--channel", default="import", help="channel code of a chat-log import (chats)")
        parser.add_argument("--json", action="store_true", help="print one JSON summary")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        data = path.read_bytes()
        actor = SystemActor(label="cli")
        try:
            if opts["kind"] == "staff":
                from kefu.org.services import staff_import

                summary = staff_import(actor=actor, data=data, file_name=path.name)
            elif opts["kind"] == "chats":
                return self._chats(opts, data, actor)
            elif opts["kind"] == "attendance":
                from kefu.workforce.services import attendance_import

                summary = attendance_import(actor=actor, data=data, file_name=path.name)
            else:
                summary = self._orders(opts, data, path.name, actor)
        except ApplicationError as exc:
            if opts["json"]:
                self.stdout.write(json.dumps(exc.as_dict(), ensure_ascii=False))
            raise CommandError(exc.message) from exc
        self._report(summary, opts["json"])
        if summary.failed:
            raise SystemExit(1)

    def _chats(self, opts: dict[str, Any], data: bytes, actor: Actor) -> None:
        """One message per line (JSON Lines), through the desk's one pipeline in batches; a bad line
        is reported by its number (1-based) and the rest kept."""
        from kefu.desk.services import MAX_BATCH, channel_default, messages_ingest

        channel = channel_default(opts["channel"])
        if channel is None:
            raise CommandError(f"unknown channel {opts['channel']!r}")
        created = duplicates = 0
        failed: list[dict[str, Any]] = []
        batch: list[tuple[int, Any]] = []

        def flush() -> None:
            nonlocal created, duplicates
            if not batch:
                return
            result = messages_ingest(actor=actor, channel=channel, items=[item for _n, item in batch], place=True)
            created += result.created
            duplicates += result.duplicates
            failed.extend({"line": batch[f["index"]][0], "reason": f["reason"]} for f in result.failed)
            batch.clear()

        for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
            if not raw.strip():
                continue
            try:  # one line that is not UTF-8 or not JSON is that line's failure, never the file's
                batch.append((number, json_loads(raw.decode("utf-8"))))
            except ValueError:
                failed.append({"line": number, "reason": gettext("not a JSON object")})
                continue
            if len(batch) >= MAX_BATCH:
                flush()
        flush()
        failed.sort(key=lambda f: f["line"])
        summary = {"format": "chats.jsonl", "created": created, "duplicates": duplicates, "failed": failed}
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(f"created {created}, duplicates {duplicates}, failed {len(failed)}")
            for f in failed:
                self.stdout.write(f"  line {f['line']}: {f['reason']}")
        if failed:
            raise SystemExit(1)

    def _orders(self, opts: dict[str, Any], data: bytes, name: str, actor: Actor) -> ImportSummary:
        from kefu.commerce.services import orders_import
        from kefu.org.services import shop_create

        shop_name = opts.get("shop")
        if not shop_name:
            raise CommandError("--shop NAME is required for orders")
        shop = Shop.objects.filter(name=shop_name).first() or Shop.objects.filter(code=shop_name).first()
        if shop is None:
            if not opts["create_shop"]:
                raise CommandError(f"unknown shop {shop_name!r} (use --create-shop to create it)")
            code = "".join(ch for ch in shop_name.lower() if ch.isascii() and ch.isalnum()) or "shop"
            code = f"{code}-{Shop.objects.count() + 1}"
            shop = shop_create(actor=actor, name=shop_name, code=code, platform=opts["platform"])
        return orders_import(actor=actor, shop=shop, data=data, file_name=name)

    def _report(self, summary: ImportSummary, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            f"format {summary.fmt}: created {summary.created}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, failed {len(summary.failed)}"
        )
        for failure in sorted(summary.failed, key=lambda f: f["row"]):
            self.stdout.write(f"  row {failure['row']}: {failure['reason']}")
