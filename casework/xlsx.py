"""Spreadsheet exports (XLSX): sheets of a header row and data rows, as a download.

    return xlsx.download("bulletin-2024H1.xlsx", [xlsx.Sheet(_("Bulletin"), header, rows)])

Cells are written as values, never formulas: a complaint text starting with "=" must
not run in the reader's spreadsheet (formula injection), so such strings are quoted.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
MAX_WIDTH = 60


@dataclass
class Sheet:
    title: str
    header: list
    rows: list = field(default_factory=list)
    # Lines above the header (title, period, generated at), each in column A.
    preamble: list = field(default_factory=list)


def _value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal | date | datetime):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def workbook(sheets: list[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        # Excel allows 31 characters and no []:*?/\ in a sheet title.
        title = "".join(c for c in str(sheet.title) if c not in "[]:*?/\\")[:31] or "Sheet"
        ws = book.create_sheet(title)
        for line in sheet.preamble:
            ws.append([_value(line)])
        if sheet.preamble:
            ws["A1"].font = Font(bold=True, size=13)
            ws.append([])
        header_row = ws.max_row + 1 if sheet.preamble else 1
        ws.append([_value(h) for h in sheet.header])
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in sheet.rows:
            ws.append([_value(v) for v in row])
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        for index, _header in enumerate(sheet.header, start=1):
            values = [sheet.header[index - 1], *(r[index - 1] for r in sheet.rows
                                                 if len(r) >= index)]
            width = max((len(str(v)) * (2 if any(ord(c) > 0x2E80 for c in str(v)) else 1)
                         for v in values if v is not None), default=8)
            ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8),
                                                                       MAX_WIDTH)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def download(filename: str, sheets: list[Sheet]) -> Response:
    """The workbook as an attachment; the name may be Chinese (RFC 5987 encoding)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "export.xlsx"
    response = Response(workbook(sheets), mimetype=MIME)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-store"
    return response
