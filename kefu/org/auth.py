"""The sign-in backend: Django's ``ModelBackend`` whose ``get_user`` — run on every signed-in request
— reads the user and their scope (R-ORG-2: the active staff record and the team's shops) in one
query, where the page otherwise asked the ORM twice (the user, then ``scope_for``) before doing
anything of its own (issue 20 §2, ADR 0025).

Nothing is remembered between requests: a deactivated user, a changed password (the session's
hash no longer matches) or a move to another team takes effect on the next request, as before.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router

from kefu.core.scoping import scope_from_rows

from .models import Staff, Team

_EXTRA = ("kefu_staff_id", "kefu_position", "kefu_team_id", "kefu_staff_name", "kefu_shop_id")


@cache
def _statement(vendor: str) -> str:
    """The query (``vendor`` keys it: the quoting is the database's)."""
    user_model = get_user_model()
    qn = connections[router.db_for_read(user_model)].ops.quote_name
    user: Any = user_model._meta
    staff: Any = Staff._meta
    shops: Any = Team.shops.through._meta

    def col(meta: Any, name: str) -> str:
        return str(qn(meta.get_field(name).column))

    user_columns = ", ".join(f"u.{qn(f.column)}" for f in user.concrete_fields)
    staff_columns = ", ".join(
        f"s.{col(staff, name)} AS {alias}"
        for name, alias in zip(("id", "position", "team", "name"), _EXTRA, strict=False)
    )
    return (
        f"SELECT {user_columns}, {staff_columns}, ts.{col(shops, 'shop')} AS {_EXTRA[-1]} "  # noqa: S608 (quoted identifiers)
        f"FROM {qn(user.db_table)} u "
        f"LEFT JOIN {qn(staff.db_table)} s ON s.{col(staff, 'user')} = u.{qn(user.pk.column)} "
        f"AND s.{col(staff, 'active')} = %s "
        f"LEFT JOIN {qn(shops.db_table)} ts ON ts.{col(shops, 'team')} = s.{col(staff, 'team')} "
        f"WHERE u.{qn(user.pk.column)} = %s"
    )


class SignInBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(user_id)
        except (ValidationError, TypeError, ValueError):
            return None
        if pk is None:
            return None
        alias = router.db_for_read(user_model)
        sql = _statement(connections[alias].vendor)
        found: list[Any] = list(user_model._default_manager.db_manager(alias).raw(sql, [True, pk]))
        if not found:
            return None
        user: Any = found[0]
        if not self.user_can_authenticate(user):
            return None
        rows = [tuple(getattr(row, name) for name in _EXTRA) for row in found if row.kefu_staff_id is not None]
        for name in _EXTRA:
            delattr(user, name)
        user._kefu_scope = scope_from_rows(user, rows)
        return user
