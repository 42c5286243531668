from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.errors import error_codes_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "errors.md"


class Command(BaseCommand):
    help = "Write docs/errors.md from kefu.core.errors.ErrorCode, or --check that it is current."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        text = error_codes_markdown()
        if opts["check"]:
            if not DOC.exists() or DOC.read_text("utf-8") != text:
                raise CommandError("docs/errors.md is out of date: run `python manage.py errorcodes`")
            self.stdout.write("Error code list matches the code")
            return
        DOC.write_text(text, "utf-8")
        self.stdout.write(f"wrote {DOC}")
