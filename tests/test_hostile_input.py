"""Hostile and absurd input (issue: write path §5): a dimension bomb, a zip bomb and an amount of
1e30 get a clear error through the UI, the API and ``kefu import``; the server keeps answering and
the next good import lands."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.cli import main
from kefu.commerce.models import Order
from kefu.imports.tabular import FileFormatError, inspect_xlsx

from .conftest import PASSWORD, World
from .samples import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db


def dimension_bomb() -> bytes:
    """A few KB: one cell at A1, one at XFD1048576 — a reader laying out the range allocates ~17 G cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "订单编号"
    ws["XFD1048576"] = "x"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="session")
def zip_bomb() -> bytes:
    """About 2.5 MB on disk, 2.6 GB of sheet XML once inflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b"<worksheet><sheetData>")
            chunk = b" " * (1 << 20)
            for _ in range(2600):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def test_the_bombs_are_refused_before_parsing(zip_bomb: bytes) -> None:
    bomb = dimension_bomb()
    assert len(bomb) < 10_000
    with pytest.raises(FileFormatError, match=r"XFD|16384|columns"):
        inspect_xlsx(bomb)
    assert 2_000_000 < len(zip_bomb) < 3_000_000
    with pytest.raises(FileFormatError, match=r"MB|zip bomb"):
        inspect_xlsx(zip_bomb)


def _rewritten(data: bytes, sheet: Any, rename: dict[str, str] | None = None) -> bytes:
    """The workbook with its sheet XML passed through ``sheet`` and parts renamed (the workbook's
    relationships follow), as a hostile exporter could write it."""
    rename = rename or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = sheet(body)
            for old, new in rename.items():
                body = body.replace(old.removeprefix("xl/").encode(), new.removeprefix("xl/").encode())
            dst.writestr(rename.get(info.filename, info.filename), body)
    return out.getvalue()


def _straddling(sheet: bytes, *, quoted: bool = False) -> bytes:
    """The far cell's start tag straddles the scanner's 1 MB chunks, with 400 spaces inside it (past
    any small carried-over tail) — or, ``quoted``, with an attribute holding ">" before it and the
    boundary inside the reference; the padding before it is a comment of random text (not a zip bomb)."""
    tag = b'<c x=">" r="XFD1048576"' if quoted else b"<c" + b" " * 400 + b'r="XFD1048576"'
    sheet = sheet.replace(b'<c r="XFD1048576"', tag)
    split = sheet.index(tag) + (tag.index(b"XFD") + 5 if quoted else 200)
    at = sheet.index(b"<sheetData>") + len(b"<sheetData>")
    filler = (1 << 20) - split - len(b"<!---->")
    comment = b"<!--" + os.urandom(filler // 2).hex().encode()[:filler] + b"-->"
    padded = sheet[:at] + comment + sheet[at:]
    assert padded.index(tag) < (1 << 20) < padded.index(tag) + len(tag)
    return padded


@pytest.mark.parametrize(
    "variant",
    [
        "single quotes",
        "spaces around =",
        "sheet moved",
        "upper-case name",
        "entity",
        "leading zeros",
        "prefixed",
        "split tag",
        "no references",
        "named like a folder",
        "quoted > before a split reference",
        "junk before the root",
        "declared range only",
        "prefixed references",
        "broken early, marks split",
    ],
)
def test_a_dimension_bomb_is_refused_however_it_is_written(variant: str) -> None:
    """The review found the scan read only r="…" in xl/worksheets/*.xml; an XML reader reads the
    same cell from any of these spellings and parts, and lays out 17 G cells."""
    bomb = dimension_bomb()
    far = b'r="XFD1048576"'
    changes: dict[str, Any] = {
        "single quotes": lambda x: x.replace(b'r="1048576"', b"r='1048576'").replace(far, b"r='XFD1048576'"),
        "spaces around =": lambda x: x.replace(b'r="1048576"', b'r = "1048576"').replace(far, b'r = "XFD1048576"'),
        "entity": lambda x: x.replace(b'r="1048576"', b'r="&#49;048576"').replace(far, b'r="&#88;FD1048576"'),
        "leading zeros": lambda x: x.replace(b'r="1048576"', b'r="0001048576"').replace(far, b'r="XFD0001048576"'),
        "prefixed": lambda x: x.replace(b"<c ", b"<x:c ").replace(b"</c>", b"</x:c>"),
        "split tag": _straddling,
        # the second review: cells without references, placed by counting (60,002 rows × 16,384)
        "no references": lambda x: (
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
            + b"<row/>" * 60000
            + b"<row>"
            + b"<c/>" * 16383
            + b"<c><v>1</v></c></row></sheetData></worksheet>"
        ),
        # ... a ">" inside an attribute before the reference, the chunk boundary inside the reference
        "quoted > before a split reference": lambda x: _straddling(x, quoted=True),
        "junk before the root": lambda x: b"junk" + x,
        # the third review: references under a prefix the reader ignores (it counts those cells)
        "prefixed references": lambda x: (
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
            + b'<row x:r="1"/>' * 20000
            + b'<row x:r="1">'
            + b'<c x:r="A1"/>' * 16000
            + b'<c x:r="A1"><v>1</v></c></row></sheetData></worksheet>'
        ),
        # ... and sheet marks split by the chunk boundary in XML the parser gives up on early
        "broken early, marks split": lambda x: (
            b"<a></b>"
            + b"<!--"
            + os.urandom(300_000).hex().encode()[: (1 << 20) - 15]
            + b"-->"
            + b"<sheet"
            + b"Data>"
            + x[x.index(b"<sheetData>") + len(b"<sheetData>") :]
        ),
    }
    # without the declared range, only the cells themselves can give the bomb away
    declared = b'<dimension ref="A1:XFD1048576" />'
    assert declared in zipfile.ZipFile(io.BytesIO(bomb)).read("xl/worksheets/sheet1.xml")

    def undeclared(x: bytes) -> bytes:
        return x.replace(declared, b"")

    if variant in changes:
        data = _rewritten(bomb, lambda x: changes[variant](undeclared(x)))
    elif variant == "sheet moved":
        data = _rewritten(bomb, undeclared, {"xl/worksheets/sheet1.xml": "xl/ws/sheet1.xml"})
    elif variant == "named like a folder":
        data = _rewritten(bomb, undeclared, {"xl/worksheets/sheet1.xml": "xl/worksheets/sheet1.xml/"})
        assert any(i.is_dir() for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    elif variant == "declared range only":
        data = _rewritten(bomb, lambda x: x.replace(b'<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>', b""))
    else:
        data = _rewritten(bomb, undeclared, {"xl/worksheets/sheet1.xml": "xl/worksheets/sheet1.XML"})
    assert data != bomb
    with pytest.raises(FileFormatError, match=r"XFD|16384|columns|列|damaged|损坏"):
        inspect_xlsx(data)


def test_an_ordinary_workbook_written_with_single_quotes_passes() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in range(1, 50):
        ws.append([f"订单{row}", row, "备注"])
    out = io.BytesIO()
    wb.save(out)
    inspect_xlsx(_rewritten(out.getvalue(), lambda x: x.replace(b'"', b"'")))


def _good() -> bytes:
    return legacy_csv([legacy_row("900001"), legacy_row("900002")])


def _absurd() -> bytes:
    return legacy_csv([legacy_row("900003", paid="1e30"), legacy_row("900004")])


def test_through_the_ui(world: World, zip_bomb: bytes) -> None:
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    for name, data in (("dim.xlsx", dimension_bomb()), ("zip.xlsx", zip_bomb)):
        for kind in ("orders", "attendance", "staff"):
            upload = SimpleUploadedFile(name, data)
            response = client.post("/imports/", {"kind": kind, "shop": world.shop_a.pk, "file": upload})
            assert response.status_code == 200, (name, kind)  # the form again, with the error
            assert "XLSX" in response.content.decode(), (name, kind)
    absurd = client.post(
        "/imports/", {"kind": "orders", "shop": world.shop_a.pk, "file": SimpleUploadedFile("a.csv", _absurd())}
    )
    assert absurd.status_code in {200, 302}
    assert not Order.objects.filter(order_no="900003").exists() and Order.objects.filter(order_no="900004").exists()
    assert client.get("/orders/").status_code == 200  # still answering
    good = client.post(
        "/imports/", {"kind": "orders", "shop": world.shop_a.pk, "file": SimpleUploadedFile("g.csv", _good())}
    )
    assert good.status_code == 302 and Order.objects.filter(order_no__in=["900001", "900002"]).count() == 2
    # the money form and the case facts refuse 1e30 with a message, no 500
    from kefu.aftersales import services

    case = services.case_open(actor=world.supervisor, case_type="lost_parcel", order=world.order_a)
    response = client.post(f"/aftersales/{case.pk}/money/", {"kind": "compensation", "amount": "1e30"}, follow=True)
    assert response.status_code == 200 and not case.money.exists()
    assert client.post(f"/aftersales/{case.pk}/facts/", {"line_value": "1e30"}).status_code == 302
    case.refresh_from_db()
    assert case.facts.get("line_value") != "1e30"


def test_through_the_api(world: World, zip_bomb: bytes) -> None:
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    for data in (dimension_bomb(), zip_bomb):
        upload = SimpleUploadedFile("bomb.xlsx", data)
        response = client.post("/api/v1/orders/import", {"shop": world.shop_a.pk, "file": upload})
        assert response.status_code == 400 and response.json()["error"]["code"] == "import_format"
    push = {"shop": world.shop_a.pk, "orders": [{"order_no": "P9", "paid_amount": "1e30", "ordered_at": "2026-10-01"}]}
    answer = client.post("/api/v1/orders/push", push, content_type="application/json").json()
    assert answer["created"] == 0 and answer["failed"][0]["row"] == 1
    facts = {"case_type": "return", "line_value": "1e30"}
    evaluated = client.post("/api/v1/aftersales/evaluate", facts, content_type="application/json")
    assert evaluated.status_code == 400 and evaluated.json()["error"]["code"] == "validation_error"
    good = SimpleUploadedFile("g.csv", _good())
    assert client.post("/api/v1/orders/import", {"shop": world.shop_a.pk, "file": good}).json()["created"] == 2


def test_through_kefu_import(world: World, tmp_path: Path, zip_bomb: bytes, capsys: Any, monkeypatch: Any) -> None:
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)
    for name, data in (("dim.xlsx", dimension_bomb()), ("zip.xlsx", zip_bomb)):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(SystemExit) as stop:
            main(["import", "orders", str(path), "--shop", world.shop_a.name, "--json"])
        assert stop.value.code != 0
        assert "XLSX" in capsys.readouterr().out
    absurd = tmp_path / "absurd.csv"
    absurd.write_bytes(_absurd())
    with pytest.raises(SystemExit):
        main(["import", "orders", str(absurd), "--shop", world.shop_a.name, "--json"])
    assert "1e30" in capsys.readouterr().out
    good = tmp_path / "good.csv"
    good.write_bytes(_good())
    main(["import", "orders", str(good), "--shop", world.shop_a.name, "--json"])
    assert Order.objects.filter(order_no__in=["900001", "900002", "900004"]).count() == 3


def test_times_outside_2000_2100_are_refused_not_stored(world: World) -> None:
    """Year 1 in Asia/Shanghai is a BC timestamp PostgreSQL stores but cannot read back (found by review)."""
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    body = {"case_type": "return", "order_id": world.order_a.pk, "platform_deadline": "0001-01-01T00:00:00"}
    answer = client.post("/api/v1/aftersales/cases", body, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "validation_error"
    from kefu.org.models import Staff

    agent = Staff.objects.get(user=world.agent_a)
    punch = {"employee_no": agent.employee_no, "at": "0001-01-01T00:00:00", "kind": "on"}
    assert client.post("/api/v1/punches", punch, content_type="application/json").status_code == 400
    push = {"shop": world.shop_a.pk, "orders": [{"order_no": "Y1", "ordered_at": "0001-01-01T00:00:00"}]}
    result = client.post("/api/v1/orders/push", push, content_type="application/json").json()
    assert result["created"] == 0 and result["failed"][0]["row"] == 1
    assert client.get("/api/v1/aftersales/cases").status_code == 200
    assert client.get("/aftersales/").status_code == 200


def test_colleagues_salary_never_shows_in_the_history(world: World) -> None:
    from kefu.core.events import event_record
    from kefu.org.models import Staff

    mate = Staff.objects.get(user=world.agent_a)
    event_record(actor=None, verb="staff.created", subject=mate, after={"name": mate.name, "base_salary": "4321.00"})
    lead = Client()
    assert lead.login(username="lead_a", password=PASSWORD)
    assert "4321" not in lead.get(f"/staff/{mate.pk}/").content.decode()
    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    assert "4321" in boss.get(f"/staff/{mate.pk}/").content.decode()


@pytest.mark.parametrize(
    "parts", [["xl/workbook.bin", "xl/worksheets/sheet1.bin"], ["mimetype", "content.xml"], ["a.txt"]]
)
def test_only_office_open_xml_workbooks_are_read(parts: list[str]) -> None:
    """The reader would also open a binary workbook or an OpenDocument sheet, whose cells (and
    repeated-cell counts) the scan does not read: such files are refused up front."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in parts:
            archive.writestr(name, b"x")
    with pytest.raises(FileFormatError, match=r"xlsx|XLSX"):
        inspect_xlsx(buf.getvalue())


def test_a_workbook_that_passes_the_inspection_but_explodes_the_reader_is_refused_not_fatal() -> None:
    """The third review: a shared-string table declaring four billion entries makes the reader
    reserve 96 GB and abort its process. The reader runs in a child process with a memory limit:
    the file is refused with a message and this process carries on."""
    from kefu.imports.tabular import read_xlsx

    wb = openpyxl.Workbook()
    wb.active.append(["工号", "姓名"])
    out = io.BytesIO()
    wb.save(out)

    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    parts["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1"'
        b' uniqueCount="4000000000"><si><t>x</t></si></sst>'
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in parts.items():
            dst.writestr(name, body)
    inspect_xlsx(bomb.getvalue())  # nothing the inspection knows of …
    with pytest.raises(FileFormatError, match="MB"):  # … and still no dead process
        read_xlsx(bomb.getvalue())
    assert read_xlsx(out.getvalue())["Sheet"][0] == ["工号", "姓名"]  # the next good file reads


def test_many_sheets_within_the_limit_each_are_refused_together() -> None:
    """Third review: 500 sheets of 1000 × 1000 laid out together (two cells each) need gigabytes;
    each sheet here passes alone, 25 of them together do not."""
    wb = openpyxl.Workbook()
    for n in range(25):
        ws = wb.active if n == 0 else wb.create_sheet(f"S{n}")
        ws["A1"] = "x"
        ws["ALL900"] = "y"  # 1000 × 900 laid-out cells per sheet (under the sparse check), 22.5 M in all
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FileFormatError, match=r"in all|总共|合计"):
        inspect_xlsx(out.getvalue())


def test_a_binary_workbook_behind_a_backslash_name_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("xl/workbook.xml", b"<not a workbook")
        archive.writestr("xl\\workbook.bin", b"\x00\x01")
    with pytest.raises(FileFormatError, match=r"xlsx|XLSX"):
        inspect_xlsx(buf.getvalue())


def test_a_dense_workbook_beyond_what_any_import_reads_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell comes back to the importing process as a Python object: a small, dense, highly
    compressible workbook of tens of millions of cells would fill a web worker's memory."""
    from kefu.imports import tabular

    monkeypatch.setattr(tabular, "XLSX_MAX_FILLED", 1000)  # the same rule, at a size a test can write
    wb = openpyxl.Workbook()
    for _row in range(60):
        wb.active.append(list(range(20)))
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FileFormatError, match="1,200"):
        inspect_xlsx(out.getvalue())
    monkeypatch.setattr(tabular, "XLSX_MAX_FILLED", 1200)
    inspect_xlsx(out.getvalue())


def test_a_workbook_is_inspected_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload form inspects a workbook and the reader would again: the second time is skipped."""
    from kefu.imports import tabular

    wb = openpyxl.Workbook()
    wb.active.append(["工号", "once"])
    out = io.BytesIO()
    wb.save(out)
    calls: list[int] = []
    real = tabular._inspect
    monkeypatch.setattr(tabular, "_inspect", lambda data: calls.append(1) or real(data))
    inspect_xlsx(out.getvalue())
    inspect_xlsx(out.getvalue())
    assert calls == [1]
    with pytest.raises(FileFormatError):  # a refused one is refused every time
        inspect_xlsx(dimension_bomb())
    with pytest.raises(FileFormatError):
        inspect_xlsx(dimension_bomb())
