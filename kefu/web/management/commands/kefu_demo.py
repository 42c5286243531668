from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Load the deterministic demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders-per-shop", type=int, default=400)

    def handle(self, *args: Any, **opts: Any) -> None:
        from kefu.demo.load import load_demo

        logins = load_demo(orders_per_shop=opts["orders_per_shop"])
        self.stdout.write("")
        self.stdout.write("Demo logins (演示账号) — password for all: " + logins[0][1])
        for username, _password, description in logins:
            self.stdout.write(f"  {username:<14} {description}")
        self.stdout.write("")
