"""Fast multi-row INSERT for imports (ADR 0004).

``bulk_create`` compiles SQL per object and per field, which dominates a 100,000-order import.
Here values are adapted once per column with a per-type adapter and sent with ``executemany``.
Only plain concrete columns are supported; model ``save()`` logic and signals are not run
(the import services record their own events).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

Adapter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


@functools.cache
def _adapter(field: models.Field[Any, Any]) -> Adapter:
    """How a column's Python values are sent (one database vendor per process: cached per field)."""
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


def _values(fields: Sequence[models.Field[Any, Any]], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """``(%s, …), (%s, …)`` for the rows, and their values adapted per column, flattened."""
    adapters = [_adapter(f) for f in fields]
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [a(v) for row in rows for a, v in zip(adapters, row, strict=True)]
    return ", ".join([one] * len(rows)), params


def _insert_new_sql(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], returning: Sequence[str]
) -> tuple[str, list[Any]]:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING`` of the rows (attribute names throughout)."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in columns]
    quote = connection.ops.quote_name
    values, params = _values(fields, rows)
    back = ", ".join(quote(str(by_attname[name].column)) for name in returning)
    sql = (
        f"INSERT INTO {quote(str(model._meta.db_table))} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES {values} ON CONFLICT DO NOTHING RETURNING {back}"
    )
    return sql, params


def insert_new(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """INSERT rows, skipping any that a unique constraint already holds (ON CONFLICT DO NOTHING), and
    return ``returning`` columns of the rows really inserted — so a redelivered or concurrently
    delivered row is told apart from a new one by the database itself, in one statement."""
    if not rows:
        return []
    sql, params = _insert_new_sql(model, columns, rows, returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]


def insert_new_flagged(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    already_in: type[models.Model],
    keys: Sequence[str],
) -> list[tuple[int, bool]]:
    """``insert_new`` returning ``(id, already)`` for each row really inserted, where ``already``
    says ``already_in`` holds a row with the same ``keys`` (attribute names present in both
    models). On PostgreSQL one statement (the INSERT in a CTE); elsewhere an INSERT and a SELECT."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    mine = {f.attname: str(f.column) for f in model._meta.concrete_fields}
    theirs = {f.attname: str(f.column) for f in already_in._meta.concrete_fields}
    other = quote(str(already_in._meta.db_table))
    if connection.vendor != "postgresql":
        inserted = insert_new(model, columns, rows, returning=["id", *keys])
        if not inserted:
            return []
        cond = " OR ".join(["(" + " AND ".join(f"{quote(theirs[k])} = %s" for k in keys) + ")"] * len(inserted))
        params = [value for row in inserted for value in row[1:]]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(quote(theirs[k]) for k in keys)} FROM {other} WHERE {cond}", params)  # noqa: S608
            found = {tuple(r) for r in cursor.fetchall()}
        return [(row[0], tuple(row[1:]) in found) for row in inserted]
    insert, params = _insert_new_sql(model, columns, rows, ["id", *keys])
    match = " AND ".join(f"o.{quote(theirs[k])} = new.{quote(mine[k])}" for k in keys)
    sql = (
        f"WITH new AS ({insert}) "  # noqa: S608
        f"SELECT new.{quote(mine['id'])}, EXISTS (SELECT 1 FROM {other} o WHERE {match}) FROM new"
    )
    return [(int(r[0]), bool(r[1])) for r in _prepared(sql, params)]


def _prepared(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """PostgreSQL: run a hot statement prepared, with server-side parameters: the connection keeps
    it, and PostgreSQL reuses its plan instead of parsing and planning it again (Django's cursors
    bind on the client and prepare nothing). The desk's accept statement runs once per webhook
    request (ADR 0017)."""
    import psycopg

    with (
        connection.cursor() as wrapper,
        connection.wrap_database_errors,
        psycopg.Cursor(wrapper.cursor.connection) as cursor,
    ):
        cursor.execute(sql, params, prepare=True)
        return [tuple(r) for r in cursor.fetchall()]


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """UPDATE many rows to different values in one statement: ``rows`` are ``(pk, *values)`` in
    ``columns`` order (attribute names). ``UPDATE … FROM (VALUES …)`` costs one pass, where
    ``bulk_update``'s ``CASE WHEN`` per column grows with the square of the rows."""
    if not rows:
        return 0
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    pk = opts.pk
    assert pk is not None
    fields = [pk, *(by_attname[name] for name in columns)]
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"

    def value(i: int) -> str:
        ref = f"v.column{i + 1}"
        return f"CAST({ref} AS {fields[i].db_type(connection)})" if postgres else ref

    table = quote(str(opts.db_table))
    values, params = _values(fields, rows)
    sets = ", ".join(f"{quote(str(f.column))} = {value(i)}" for i, f in enumerate(fields) if i)
    sql = (
        f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v "  # noqa: S608
        f"WHERE {table}.{quote(str(pk.column))} = {value(0)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
