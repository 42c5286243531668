"""Fast multi-row INSERT for imports (ADR 0004).

``bulk_create`` compiles SQL per object and per field, which dominates a 100,000-order import.
Here values are adapted once per column with a per-type adapter and sent with ``executemany``.
Only plain concrete columns are supported; model ``save()`` logic and signals are not run
(the import services record their own events).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

Adapter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _adapter(field: models.Field[Any, Any]) -> Adapter:
    vendor = connection.vendor
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if vendor == "sqlite":
        if isinstance(field, models.DecimalField):
            return lambda v: None if v is None else str(v)
        if isinstance(field, models.DateTimeField):
            utc = dt.UTC

            def adapt_dt(v: dt.datetime | None) -> str | None:
                if v is None:
                    return None
                return v.astimezone(utc).replace(tzinfo=None).isoformat(" ")

            return adapt_dt
        if isinstance(field, models.DateField):
            return lambda v: None if v is None else v.isoformat()
    return _identity


def bulk_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    batch_size: int = 5000,
) -> int:
    """INSERT rows (values in ``columns`` order, by attribute name, e.g. ``shop_id``). Returns rows sent."""
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    fields = [by_attname[name] for name in columns]
    db_columns = [str(f.column) for f in fields]
    adapters = [_adapter(f) for f in fields]
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(columns))
    # Identifiers come from model metadata and are quoted; values are always parameters.
    sql = f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(c) for c in db_columns)}) VALUES ({placeholders})" + (  # noqa: S608
        " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    )
    if connection.vendor == "postgresql" and not ignore_conflicts:
        return _copy(opts.db_table, db_columns, adapters, rows)
    sent = 0
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(tuple(a(v) for a, v in zip(adapters, row, strict=True)))
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                sent += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            sent += len(batch)
    return sent


def _copy(table: str, columns: list[str], adapters: list[Adapter], rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL: COPY … FROM STDIN, the fastest way in (psycopg 3 adapts the Python values)."""
    quote = connection.ops.quote_name
    sent = 0
    # The raw psycopg cursor bypasses Django's error wrapping: a unique violation (a concurrent
    # import of the same rows) is re-raised as Django's IntegrityError so callers can retry.
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor  # the psycopg cursor
        statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([a(v) for a, v in zip(adapters, row, strict=True)])
                sent += 1
    return sent


def insert_new(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """INSERT rows, skipping any that a unique constraint already holds (ON CONFLICT DO NOTHING), and
    return ``returning`` columns of the rows really inserted — so a redelivered or concurrently
    delivered row is told apart from a new one by the database itself, in one statement."""
    if not rows:
        return []
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    fields = [by_attname[name] for name in columns]
    adapters = [_adapter(f) for f in fields]
    quote = connection.ops.quote_name
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    back = ", ".join(quote(str(by_attname[name].column)) for name in returning)
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([one] * len(rows))} ON CONFLICT DO NOTHING RETURNING {back}"
    )
    params = [a(v) for row in rows for a, v in zip(adapters, row, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]
