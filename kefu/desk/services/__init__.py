"""Service-desk writes, by concern (issue 19): messages in (ingest), placed (placement), the state
of a conversation and routing, what agents do, channels, the logs, KPIs and the daily summary, and
payment urging. Every write is an action; live notifications leave only after commit."""

from __future__ import annotations

from .agents import (
    access_conversation_by_id,
    conversation_close,
    conversation_transfer,
    presence_set,
    reply_send,
)
from .base import (
    HUMAN,
    MAX_BATCH,
    MAX_TEXT,
    PLACE_BATCH,
    IngestResult,
)
from .channels import (
    DEFAULT_CHANNELS,
    channel_create,
    channel_default,
    channel_for_pusher,
    channel_update,
)
from .chases import (
    URGE_CATEGORY,
    chase_lost,
    chase_urge,
    no_sale_reasons,
    payment_chases_due,
    urge_script,
    urge_text,
)
from .ingest import (
    INBOUND_COLUMNS,
    PLACE_FLAG,
    messages_ingest,
    place_flag_clear,
    text_storable,
    wake_placer,
)
from .kpis import (
    daily_summaries_due,
    kpi_days_paid_into,
    kpi_rollup,
    kpi_rollup_due,
)
from .logs import (
    followup_create,
    followup_done,
    question_answer,
    question_record,
    script_decide,
    script_propose,
    script_used,
)
from .placement import (
    MESSAGE_COLUMNS,
    inbound_prune,
    messages_place,
    messages_place_pending,
)
from .routing import (
    STATE_COLUMNS,
    queues_for,
)

__all__ = [
    "DEFAULT_CHANNELS",
    "HUMAN",
    "INBOUND_COLUMNS",
    "MAX_BATCH",
    "MAX_TEXT",
    "MESSAGE_COLUMNS",
    "PLACE_BATCH",
    "PLACE_FLAG",
    "STATE_COLUMNS",
    "URGE_CATEGORY",
    "IngestResult",
    "access_conversation_by_id",
    "channel_create",
    "channel_default",
    "channel_for_pusher",
    "channel_update",
    "chase_lost",
    "chase_urge",
    "conversation_close",
    "conversation_transfer",
    "daily_summaries_due",
    "followup_create",
    "followup_done",
    "inbound_prune",
    "kpi_days_paid_into",
    "kpi_rollup",
    "kpi_rollup_due",
    "messages_ingest",
    "messages_place",
    "messages_place_pending",
    "no_sale_reasons",
    "payment_chases_due",
    "place_flag_clear",
    "presence_set",
    "question_answer",
    "question_record",
    "queues_for",
    "reply_send",
    "script_decide",
    "script_propose",
    "script_used",
    "text_storable",
    "urge_script",
    "urge_text",
    "wake_placer",
]
