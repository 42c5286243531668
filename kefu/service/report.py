"""The signed customer service report (客户服务报告) as a PDF, drawn with reportlab.

Chinese text uses reportlab's built-in CID font (STSong-Light): PDF readers supply the glyphs, so
no font file ships with Kefu. The customer's signature is redrawn from its SVG path data (M/L/Q
commands), the same data the page shows."""

from __future__ import annotations

import io
import re
from typing import Any

from django.utils.translation import gettext as _

from kefu.core import clock

from .models import ServiceRequest

FONT = "STSong-Light"
_COMMAND = re.compile(r"([MLQmlq])\s*([-0-9.,\s]*)")


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")


def signature_strokes(path: str, *, strict: bool = False) -> Any:
    """Strokes (lists of points) of the stored signature path; a Q draws to its end point. With
    ``strict`` a path that is not well formed (a number like "1.2.3", a command without its points,
    an odd coordinate) gives None; otherwise malformed numbers are skipped, so a signature stored
    before the check still draws (issue 16 §10: the signed PDF answered 500)."""
    strokes: list[list[tuple[float, float]]] = []
    commands = _COMMAND.findall(path or "")
    if strict and (not commands or "".join(c + a for c, a in commands).replace(" ", "") != path.replace(" ", "")):
        return None
    for command, args in commands:
        tokens = [n for n in re.split(r"[\s,]+", args.strip()) if n]
        good = [n for n in tokens if _NUMBER.match(n)]
        per = 4 if command in "Qq" else 2
        if strict and (len(good) != len(tokens) or not good or len(good) % per):
            return None
        numbers = [float(n) for n in good]
        points = [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers) - 1, 2)]
        if not points:
            continue
        if command in "Mm" or not strokes:
            strokes.append([points[0]])
            points = points[1:]
        if command in "Qq":
            points = points[1::2]  # control point, end point
        strokes[-1].extend(points)
    return strokes


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` points, broken between characters (Chinese has no
    spaces to break at) or at its own line breaks."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if font == FONT:
        _font()  # measured before any PDF of this process registered it
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        current = ""
        for char in paragraph:
            if current and stringWidth(current + char, font, size) > width:
                lines.append(current)
                current = ""
            current += char
        lines.append(current)
    return lines


def report_pdf(item: ServiceRequest, parts: list[dict[str, Any]], explanation: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{_('Customer service report')} {item.number}")
    _width, height = A4
    left, y = 18 * mm, height - 20 * mm

    def line(text: str, size: int = 10, gap: float = 6.5) -> None:
        """Draw ``text`` whole, wrapped at the page's right margin (the customer signs what the
        technician wrote, not its first 90 characters — issue 16 §10)."""
        nonlocal y
        for piece in wrap(text, font, size, _width - 2 * left):
            if y < 30 * mm:
                pdf.showPage()
                y = height - 20 * mm
            pdf.setFont(font, size)
            pdf.drawString(left, y, piece)
            y -= gap * mm

    def local(moment: Any) -> str:
        return clock.local_text(moment) if moment else "—"

    line(_("Customer service report"), 16, 10)
    line(f"{_('Request no.')}: {item.number}    {_('Shop')}: {item.shop.name}")
    line(f"{_('Contact')}: {item.contact_name}  {item.contact_phone}")
    line(f"{_('Service address')}: {item.address or '—'}")
    line(f"{_('Product')}: {item.product}  {_('Serial no.')}: {item.serial_no or '—'}")
    line(f"{_('Purchase date')}: {item.purchase_date:%Y-%m-%d}  {item.purchase_channel}")
    line(f"{_('Fault')}: {item.fault}")
    technician = item.technician.name if item.technician else "—"
    line(f"{_('Technician')}: {technician}  {_('arrived')}: {local(item.on_site_at)}")
    line(f"{_('Diagnosis')}: {item.diagnosis or '—'}")
    for text in explanation:
        line(f"· {text}", 9, 5.5)
    line(_("Parts"), 12, 7)
    for p in parts:
        line(f"{p['part'].code}  {p['part'].name}  × {p['quantity']}  ¥{p['price']}  = ¥{p['amount']}", 9, 5.5)
    if not parts:
        line(_("No parts."), 9, 5.5)
    if item.settled_at:
        line(
            f"{_('Parts')} ¥{item.parts_amount}  {_('Labour')} ¥{item.labour}  {_('Discount')} −¥{item.discount}  "
            f"{_('Amount due')} ¥{item.amount_due}",
            11,
            8,
        )
    line(f"{_('Signed by')}: {item.signed_by or '—'}  {local(item.signed_at)}", 10, 6)
    strokes = signature_strokes(item.signature)
    if strokes:
        box_w, box_h = 90 * mm, 27 * mm  # the 600 × 180 drawing area
        scale = box_w / 600
        top = y
        pdf.setLineWidth(1)
        for stroke in strokes:
            path = pdf.beginPath()
            x0, y0 = stroke[0]
            path.moveTo(left + x0 * scale, top - y0 * scale)
            for x1, y1 in stroke[1:]:
                path.lineTo(left + x1 * scale, top - y1 * scale)
            pdf.drawPath(path, stroke=1, fill=0)
        y = top - box_h - 4 * mm
    pdf.setFont(font, 8)
    printed = _("Printed")
    pdf.drawString(left, 15 * mm, f"{printed}: {clock.local_text(clock.now())}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def receipt_pdf(item: ServiceRequest) -> bytes:
    """R-SVC-9: the company's receipt (统一收据) of a paid repair, numbered, beside the signed report."""
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    font = _font()
    buffer = io.BytesIO()
    size = landscape(A5)
    pdf = canvas.Canvas(buffer, pagesize=size, pageCompression=1)
    pdf.setTitle(f"{_('Receipt')} {item.receipt_no}")
    width, height = size
    left, y = 15 * mm, height - 18 * mm

    def line(text: str, font_size: int = 11, gap: float = 8) -> None:
        nonlocal y
        pdf.setFont(font, font_size)
        pdf.drawString(left, y, text)
        y -= gap * mm

    line(_("Receipt"), 18, 11)
    line(f"{_('Receipt no.')}: {item.receipt_no}    {_('Request no.')}: {item.number}")
    line(f"{_('Received from')}: {item.contact_name}  {item.contact_phone}")
    line(f"{_('For')}: {item.product} {item.serial_no}  — {_('repair')}")
    line(
        f"{_('Parts')} ¥{item.parts_amount}  {_('Labour')} ¥{item.labour}  {_('Discount')} −¥{item.discount}",
    )
    line(f"{_('Amount received')}: ¥{item.amount_due}", 14, 10)
    line(f"{_('Date')}: {clock.local_text(item.settled_at) if item.settled_at else '—'}    {item.shop.name}")
    pdf.setFont(font, 8)
    pdf.drawString(left, 10 * mm, f"{_('Printed')}: {clock.local_text(clock.now())}")
    del width
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
