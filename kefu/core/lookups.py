"""``field__in_array=values``: ``IN`` written as one array parameter on PostgreSQL.

A day's KPIs ask for 1,440 conversations and their buyers' orders at once (issue 20 §3). Written as
``IN (%s, %s, …)``, each value is resolved by the ORM and each placeholder parsed again by the driver
on every call — more CPU than the query itself. ``= ANY(%s)`` sends the values as one array, and the
statement's text is the same whatever their number. Elsewhere (SQLite) it is the ordinary ``IN``,
and so is a subquery or an expression on the right. On plain fields and primary keys only: a
relation (``owner__in_array``, ``owner_id__in_array``) has its own lookups and refuses this one: use ``__in`` there.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field
from django.db.models.lookups import In


@Field.register_lookup
class InArray(In):
    lookup_name = "in_array"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        direct = self.rhs_is_direct_value() and not any(hasattr(v, "resolve_expression") for v in self.rhs)
        if connection.vendor != "postgresql" or not direct:
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [v for v in self.rhs if v is not None]  # IN never matches NULL either
        return f"{lhs} = ANY(%s)", (*lhs_params, values)
