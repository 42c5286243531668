from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    """The embedded default cache is the database (shared sign-in counters); create its table here so
    `kefu migrate` is the only set-up step (a no-op when the cache is Redis or in memory)."""
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_outbox_and_ledger_triggers")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
