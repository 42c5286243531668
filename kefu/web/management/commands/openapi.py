from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

SNAPSHOT = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def current_schema() -> str:
    from kefu.api.api import api

    return json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI snapshot (docs/openapi.json), or --check that it matches the code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        schema = current_schema()
        if opts["check"]:
            if not SNAPSHOT.exists() or SNAPSHOT.read_text("utf-8") != schema:
                raise CommandError("docs/openapi.json is out of date: run `python manage.py openapi`")
            self.stdout.write("OpenAPI snapshot matches the code")
            return
        SNAPSHOT.write_text(schema, "utf-8")
        self.stdout.write(f"wrote {SNAPSHOT}")
