"""SPEC §8 knowledge search: on PostgreSQL, trigram indexes serve ``icontains`` (``UPPER(col) LIKE
UPPER('%term%')``) over canned replies and the question log (ADR 0014)."""

from typing import Any

from django.db import migrations

INDEXES = [
    ("desk_script_title_trgm", "desk_script", "title"),
    ("desk_script_text_trgm", "desk_script", "text"),
    ("desk_question_question_trgm", "desk_question", "question"),
    ("desk_question_answer_trgm", "desk_question", "answer"),
    ("desk_script_category_trgm", "desk_script", "category"),
]
# the result orders, so a common term (many matches, too short for trigrams) stops after 20 rows
ORDERS = [
    ("desk_question_knowledge_order", "desk_question (answered_at DESC NULLS LAST, asked_at DESC)"),
    ("desk_script_knowledge_order", "desk_script (uses DESC, id)"),
]


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)")
    for name, target in ORDERS:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [i[0] for i in INDEXES] + [o[0] for o in ORDERS]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("desk", "0006_payment_chase")]

    operations = [migrations.RunPython(create, drop)]
