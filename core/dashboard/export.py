"""Tables as downloadable files: CSV (UTF-8 with a BOM, so Excel reads Cyrillic) and Excel (.xlsx)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_COLUMN_WIDTH = 60


def csv_bytes(table: pl.DataFrame) -> bytes:
    """The table as CSV bytes with a header row."""
    return ("\ufeff" + table.write_csv()).encode("utf-8")


def _cell(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (str, int, float, bool, date, datetime)) or value is None:
        return value
    return str(value)


def xlsx_bytes(table: pl.DataFrame, sheet: str = "data") -> bytes:
    """The table as an Excel workbook with one sheet, a bold header and fitted column widths."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31] or "data"
    worksheet.append(table.columns)
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    for row in table.iter_rows():
        worksheet.append([_cell(value) for value in row])
    for index, name in enumerate(table.columns, start=1):
        longest = max([len(str(name)), *(len(str(value)) for value in table.get_column(name).head(500))])
        worksheet.column_dimensions[get_column_letter(index)].width = min(longest + 2, _MAX_COLUMN_WIDTH)
    worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_stem(*parts: str) -> str:
    """A safe file name stem from its parts: ("compare", "2024-11..2025-11") -> "compare_2024-11..2025-11"."""
    stem = "_".join(part for part in parts if part)
    return re.sub(r"[^\w.\-]+", "-", stem).strip("-") or "table"
