"""R-AS-15: the weekly after-sales report as XLSX and as the Monday mail to the supervisors."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from kefu.core.actions import action
from kefu.core.events import event_record
from kefu.core.exports import safe_workbook
from kefu.core.outbox import outbox_handler, outbox_put
from kefu.core.scoping import DEPARTMENT
from kefu.org.models import Position, Staff

from .selectors import weekly_report


def report_xlsx(report: dict[str, Any]) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.create_sheet("售后周报", 0)
    wb.remove(wb.worksheets[1])
    bold = Font(bold=True)
    ws.append([f"售后周报 {report['monday']:%Y-%m-%d} ~ {report['sunday']:%Y-%m-%d}"])
    ws.append(
        [
            "案件总数",
            report["total"],
            "错发",
            report["wrong_items"],
            "逾期未结",
            report["overdue_count"],
            "差评",
            report["reviews"],
        ]
    )
    ws.append([])
    ws.append(["按类型", "数量"])
    ws[ws.max_row][0].font = bold
    for row in report["by_type"]:
        ws.append([row["case_type"], row["n"]])
    ws.append([])
    ws.append(["按责任", "数量"])
    ws[ws.max_row][0].font = bold
    for row in report["by_responsibility"]:
        ws.append([row["responsibility"], row["n"]])
    ws.append([])
    ws.append(["款项", "金额"])
    ws[ws.max_row][0].font = bold
    for kind, amount in report["money"].items():
        ws.append([kind, float(amount)])
    products = wb.create_sheet("商品反馈")
    products.append(["商家编码", "商品", "原因", "数量"])
    for row in report["products"]:
        products.append([row["product__sku"], row["product__title"], row["case_type"], row["n"]])
    for row in report["feedback"]:
        products.append([row["product__sku"], row["product__title"], row["feedback_reason"], row["n"]])
    overdue = wb.create_sheet("逾期案件")
    overdue.append(["案件", "店铺", "类型", "负责人", "SLA到期", "平台时限"])
    for case in report["overdue"]:
        overdue.append(
            [
                case.number,
                case.shop.name,
                case.case_type,
                case.owner.name if case.owner else "",
                case.sla_due_at.isoformat() if case.sla_due_at else "",
                case.platform_deadline.isoformat() if case.platform_deadline else "",
            ]
        )
    out = io.BytesIO()
    safe_workbook(wb).save(out)
    return out.getvalue()


REPORT_MAIL = "aftersales.weekly_report"


@action()
def weekly_report_send(*, actor: Any = None, monday: dt.date) -> dict[str, Any]:
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
    event_record(actor=actor, verb="aftersales.report_sent", data={"week": monday.isoformat(), "to": recipients})
    return {"week": monday.isoformat(), "queued": bool(recipients), "recipients": recipients}


@outbox_handler(REPORT_MAIL)
def _deliver_report(payload: dict[str, Any]) -> int:
    recipients = list(payload.get("to") or [])
    if not recipients:
        return 0
    monday = dt.date.fromisoformat(str(payload["monday"]))
    report = weekly_report(actor=DEPARTMENT, monday=monday)
    body = (
        f"售后周报 {report['monday']:%m-%d} ~ {report['sunday']:%m-%d}\n"
        f"案件 {report['total']} 件(错发 {report['wrong_items']}),"
        f"逾期未结 {report['overdue_count']},差评 {report['reviews']}\n"
        + "\n".join(f"{kind}: ¥{amount}" for kind, amount in report["money"].items())
    )
    message = EmailMessage(
        subject=f"售后周报 {monday:%Y-%m-%d}", body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=recipients
    )
    message.attach(
        f"aftersales-{monday:%Y%m%d}.xlsx",
        report_xlsx(report),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return message.send()
