"""``manage.py flush``, which may empty the ledgers: Kefu's PostgreSQL triggers refuse a TRUNCATE
of a ledger anywhere else (ADR 0009). The test runner empties its database with this command."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        postgres = connection.vendor == "postgresql"
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET kefu.flush = 'on'")
        try:
            super().handle(**options)
        finally:
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute("RESET kefu.flush")
