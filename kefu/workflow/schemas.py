"""The API's view of a record on the workflow core: its status label's name and its category."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class WorkItemStatus(Schema):
    """Mixed into a module's output schema: ``status`` (the label people see) and ``category``."""

    status: str
    category: str

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.status.name)

    @staticmethod
    def resolve_category(obj: Any) -> str:
        return str(obj.status.category)
