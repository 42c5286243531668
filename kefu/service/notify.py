"""Messages to field-service customers (appointment confirmations), sent from the outbox after
commit with retries. The sender is ``KEFU_SERVICE_SENDER`` (a dotted path to ``send(phone, text)``,
an SMS or WeChat gateway); the embedded default writes to the log."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

from kefu.core.outbox import outbox_handler

log = logging.getLogger("kefu.service")
NOTIFY = "service.notify"


def logging_sender(phone: str, text: str) -> None:
    log.info("message to %s: %s", phone, text[:300])


@outbox_handler(NOTIFY, gettext_lazy("Message to a service customer"))
def _notify(payload: dict[str, Any]) -> None:
    path = getattr(settings, "KEFU_SERVICE_SENDER", "") or "kefu.service.notify.logging_sender"
    import_string(path)(str(payload.get("phone") or ""), str(payload.get("text") or ""))
