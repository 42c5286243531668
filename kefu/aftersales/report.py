"""R-AS-15: the weekly after-sales report as XLSX and as the Monday mail to the supervisors."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.aftersales.rules import Verb
from kefu.core import clock
from kefu.core.actions import OPERATOR, action
from kefu.core.actors import Actor
from kefu.core.events import event_record
from kefu.core.exports import append, safe_workbook
from kefu.core.outbox import outbox_handler, outbox_put
from kefu.core.scoping import DEPARTMENT
from kefu.core.wording import label
from kefu.org.models import Position, Staff

from .selectors import weekly_report


def report_xlsx(report: dict[str, Any]) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.create_sheet(_("Weekly after-sales report")[:31], 0)
    wb.remove(wb.worksheets[1])
    bold = Font(bold=True)
    append(ws, [f"{_('Weekly after-sales report')} {report['monday']:%Y-%m-%d} ~ {report['sunday']:%Y-%m-%d}"])
    append(
        ws,
        [
            _("Cases"),
            report["total"],
            _("Wrong items"),
            report["wrong_items"],
            _("Overdue, still open"),
            report["overdue_count"],
            _("Negative reviews"),
            report["reviews"],
        ],
    )
    append(ws, [])
    append(ws, [_("By type"), _("Count")])
    ws[ws.max_row][0].font = bold
    for row in report["by_type"]:
        append(ws, [str(label(row["case_type"])), row["n"]])
    append(ws, [])
    append(ws, [_("By responsibility"), _("Count")])
    ws[ws.max_row][0].font = bold
    for row in report["by_responsibility"]:
        append(ws, [str(label(row["responsibility"])), row["n"]])
    append(ws, [])
    append(ws, [_("Money"), _("Amount")])
    ws[ws.max_row][0].font = bold
    for kind, amount in report["money"].items():
        append(ws, [str(label(kind)), float(amount)])
    products = wb.create_sheet(_("Product feedback")[:31])
    append(products, [_("SKU"), _("Product"), _("Reason"), _("Count")])
    for row in report["products"]:
        append(products, [row["product__sku"], row["product__title"], str(label(row["case_type"])), row["n"]])
    for row in report["feedback"]:
        append(products, [row["product__sku"], row["product__title"], row["feedback_reason"], row["n"]])
    overdue = wb.create_sheet(_("Overdue cases")[:31])
    append(overdue, [_("Case"), _("Shop"), _("Type"), _("Owner"), _("SLA due"), _("Platform deadline")])
    for case in report["overdue"]:
        append(
            overdue,
            [
                case.number,
                case.shop.name,
                case.get_case_type_display(),
                case.owner.name if case.owner else "",
                clock.local_text(case.sla_due_at),
                clock.local_text(case.platform_deadline),
            ],
        )
    out = io.BytesIO()
    safe_workbook(wb).save(out)
    return out.getvalue()


REPORT_MAIL = "aftersales.weekly_report"


@action(capability=OPERATOR)
def weekly_report_send(*, actor: Actor = None, monday: dt.date) -> dict[str, Any]:
    """Queue last week's report mail (XLSX attached) to every active supervisor with an e-mail address,
    once a week: the outbox key decides; the mail leaves after commit (ADR 0008)."""
    recipients = sorted(
        {
            s.user.email
            for s in Staff.objects.select_related("user").filter(
                position=Position.SUPERVISOR, active=True, user__isnull=False
            )
            if s.user and s.user.email
        }
    )
    queued = outbox_put(REPORT_MAIL, {"monday": monday, "to": recipients}, key=f"{REPORT_MAIL}:{monday.isoformat()}")
    if queued is None:
        return {"week": monday.isoformat(), "queued": False, "already": True}
    event_record(actor=actor, verb=Verb.AFTERSALES_REPORT_SENT, data={"week": monday.isoformat(), "to": recipients})
    return {"week": monday.isoformat(), "queued": bool(recipients), "recipients": recipients}


@outbox_handler(REPORT_MAIL, gettext_lazy("Weekly after-sales report mail"))
def _deliver_report(payload: dict[str, Any]) -> int:
    recipients = list(payload.get("to") or [])
    if not recipients:
        return 0
    monday = dt.date.fromisoformat(str(payload["monday"]))
    report = weekly_report(actor=DEPARTMENT, monday=monday)
    body = (
        f"{_('Weekly after-sales report')} {report['monday']:%m-%d} ~ {report['sunday']:%m-%d}\n"
        + _("%(total)s cases (%(wrong)s wrong items), %(overdue)s overdue and still open, %(reviews)s negative reviews")
        % {
            "total": report["total"],
            "wrong": report["wrong_items"],
            "overdue": report["overdue_count"],
            "reviews": report["reviews"],
        }
        + "\n"
        + "\n".join(f"{label(kind)}: ¥{amount}" for kind, amount in report["money"].items())
    )
    message = EmailMessage(
        subject=f"{_('Weekly after-sales report')} {monday:%Y-%m-%d}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach(
        f"aftersales-{monday:%Y%m%d}.xlsx",
        report_xlsx(report),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return message.send()
