"""Constants of the desk's writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import MessageKind

MAX_BATCH = 500
MAX_TEXT = 5000
HUMAN = (MessageKind.TEXT, MessageKind.IMAGE)
PLACE_BATCH = 1000  # messages placed by one pass


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    conversations: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "duplicates": self.duplicates, "failed": self.failed}
