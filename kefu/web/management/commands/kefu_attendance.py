"""``kefu attendance statement --month YYYY-MM [--format json|csv|xlsx] [--output FILE] [--team NAME]``
and ``kefu attendance publish [--week YYYY-Www]`` (the Monday publication by hand; any past week)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Attendance: the monthly statement, or the weekly publication"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["statement", "publish"])
        parser.add_argument("--month", help="YYYY-MM")
        parser.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
        parser.add_argument("--output", help="file to write (default: standard output; required for xlsx)")
        parser.add_argument("--team", help="only this team")
        parser.add_argument("--staff", help="only this employee no.")
        parser.add_argument("--week", help="publish: the ISO week YYYY-Www (default: the last full week)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "publish":
            import datetime as dt

            from kefu.core import clock
            from kefu.workforce.publication import weekly_publish

            week = None
            if opts.get("week"):
                found = re.fullmatch(r"(\d{4})-W(\d{2})", opts["week"])
                try:
                    week = dt.date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1) if found else None
                except ValueError:
                    week = None
                if week is None or week + dt.timedelta(days=7) > clock.today():
                    raise CommandError("--week must be a past ISO week like 2026-W45")
            result = weekly_publish(week=week)
            if result.get("already"):
                self.stdout.write(f"week {result['week']} was already published")
                return
            self.stdout.write(result["text"])
            return
        from kefu.org.models import Staff
        from kefu.workforce.exports import to_csv, to_xlsx
        from kefu.workforce.selectors import statement_document

        match = re.fullmatch(r"(\d{4})-(\d{2})", opts.get("month") or "")
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise CommandError("--month YYYY-MM is required")
        from kefu.workforce.selectors import employed_in

        year, month = int(match.group(1)), int(match.group(2))
        qs = employed_in(Staff.objects.select_related("team").order_by("employee_no"), year, month)
        if opts.get("team"):
            qs = qs.filter(team__name=opts["team"])
        if opts.get("staff"):
            qs = qs.filter(employee_no=opts["staff"])
        document = statement_document(staff=list(qs), year=year, month=month)
        if opts["format"] == "json":
            data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        elif opts["format"] == "csv":
            data = to_csv(document)
        else:
            if not opts.get("output"):
                raise CommandError("--output FILE is required for xlsx")
            data = to_xlsx(document)
        if opts.get("output"):
            Path(opts["output"]).write_bytes(data)
            self.stderr.write(f"wrote {opts['output']} ({len(document['staff'])} staff)")
        else:
            sys.stdout.flush()
            self.stdout.write(data.decode("utf-8-sig"))
