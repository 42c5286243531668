"""Ledgers: tables that only ever grow (events, policy versions, money lines, red-packet and point
entries, agent charges).

Three locks, each tested: the model refuses ``save()`` of an existing row and ``delete()``; the
queryset refuses ``update()`` and ``delete()`` (so ``bulk_update`` and admin bulk actions fail too),
and it is Django's internal (base) manager as well; on PostgreSQL triggers refuse UPDATE, DELETE
and TRUNCATE from any client, raw SQL included — TRUNCATE only inside ``manage.py flush``, which
empties a test database (it sets ``kefu.flush``).
A ledger row that carries a one-time decision (a refund's requested → approved/rejected) changes
only through its queryset's ``decide`` method, and the trigger allows exactly that transition.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AppendOnlyError
from .scoping import RestrictedQuerySet


class AppendOnlyMixin:
    _ledger_name = "ledger"

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")  # type: ignore[attr-defined]

    def _raw_update(self, **kwargs: Any) -> int:
        """For the one allowed transition of a decision-carrying ledger (see ``decide``)."""
        return models.QuerySet.update(self, **kwargs)  # type: ignore[arg-type]


class LedgerQuerySet(AppendOnlyMixin, models.QuerySet[Any]):
    pass


class ScopedLedgerQuerySet(AppendOnlyMixin, RestrictedQuerySet[Any]):
    pass


class LedgerModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only")


_FUNCTION = """
CREATE OR REPLACE FUNCTION kefu_ledger_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'kefu: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def refuse_changes_sql(table: str, *, when: str | None = None) -> list[str]:
    """SQL for a PostgreSQL trigger that refuses UPDATE and DELETE on ``table`` (``when``: an
    optional condition on OLD/NEW under which an UPDATE is refused; DELETE is always refused)."""
    name = f"{table}_append_only"
    update_when = f" WHEN (NOT ({when}))" if when else ""
    return [
        _FUNCTION,
        f"DROP TRIGGER IF EXISTS {name}_upd ON {table};",
        f"DROP TRIGGER IF EXISTS {name}_del ON {table};",
        f"CREATE TRIGGER {name}_upd BEFORE UPDATE ON {table} FOR EACH ROW{update_when} "
        f"EXECUTE FUNCTION kefu_ledger_refuse();",
        f"CREATE TRIGGER {name}_del BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION kefu_ledger_refuse();",
    ]


_TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION kefu_ledger_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('kefu.flush', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'kefu: % is append-only (TRUNCATE refused)', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def ledger_tables() -> list[str]:
    """Every ledger's table: the ``LedgerModel`` subclasses and core's events and policy versions."""
    from django.apps import apps

    from .models import Event, PolicyVersion

    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, LedgerModel) or model in (Event, PolicyVersion)
    )


def install_truncate_guards(connection: Any) -> None:
    """PostgreSQL: a statement trigger on every ledger refusing TRUNCATE (row triggers do not see
    it). Installed after every ``migrate`` (idempotent), so a new ledger is covered at once."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(_TRUNCATE_FUNCTION)
        for table in ledger_tables():
            name = f"{table}_append_only_trunc"
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION kefu_ledger_refuse_truncate()"
            )


def ledger_triggers(specs: list[tuple[str, str | None]]) -> Any:
    """A migration operation installing the triggers on PostgreSQL (other databases: nothing)."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, when in specs:
            for statement in refuse_changes_sql(table, when=when):
                schema_editor.execute(statement, params=None)

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, _when in specs:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_upd ON {table};")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_del ON {table};")

    return migrations.RunPython(forwards, backwards)


def keyed_row(model: type[models.Model], key: str | None) -> Any:
    """The ledger row already written under an idempotency key, or None."""
    return model._default_manager.filter(idempotency_key=key).first() if key else None


def create_once(model: type[models.Model], *, key: str | None, **fields: Any) -> tuple[Any, bool]:
    """Append one ledger row under an idempotency key: the unique key decides between simultaneous
    requests; the losers get the winner's row. Returns (row, created). Without a key: a plain insert."""
    from django.db import IntegrityError, transaction

    try:
        with transaction.atomic():
            return model._default_manager.create(idempotency_key=key or None, **fields), True
    except IntegrityError:
        if not key:
            raise
        return model._default_manager.get(idempotency_key=key), False
