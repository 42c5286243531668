from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor


class Command(BaseCommand):
    help = "user create USERNAME --password P --position POSITION [--staff EMPLOYEE_NO] | token create USERNAME"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["user", "token"])
        parser.add_argument("action", choices=["create"])
        parser.add_argument("username")
        parser.add_argument("--password")
        parser.add_argument("--position")
        parser.add_argument("--staff", dest="employee_no")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--expires-in-days", type=int, default=None, help="token lifetime (default: until revoked)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from kefu.org.services import token_create, user_create

        actor = SystemActor(label="cli")
        try:
            if opts["what"] == "user":
                if not opts["password"] or not opts["position"]:
                    raise CommandError("--password and --position are required")
                user = user_create(
                    actor=actor,
                    username=opts["username"],
                    password=opts["password"],
                    position=opts["position"],
                    employee_no=opts["employee_no"],
                )
                self.stdout.write(f"created user {user.get_username()}")
            else:
                user = get_user_model().objects.filter(username=opts["username"]).first()
                if user is None:
                    raise CommandError(f"no such user {opts['username']!r}")
                self.stdout.write(
                    token_create(actor=actor, user=user, name=opts["name"], expires_in_days=opts["expires_in_days"])
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
