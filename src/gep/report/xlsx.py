"""The report's tables as an Excel workbook: one sheet per table, headers in the report's language."""

from __future__ import annotations

import re
from pathlib import Path

import xlsxwriter

from gep.report.model import Report


def _sheet_name(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title)[:28].strip() or "sheet"
    base, i = name, 2
    while name in used:
        name = f"{base[:25]}~{i}"
        i += 1
    used.add(name)
    return name


def render_xlsx(report: Report, path: Path) -> None:
    """Write every table of the report (as displayed) to its own sheet, plus the full accounts."""
    used: set[str] = set()
    with xlsxwriter.Workbook(str(path), {"constant_memory": True}) as book:
        bold = book.add_format({"bold": True, "bg_color": "#EEF4F0"})
        summary = book.add_worksheet(_sheet_name("摘要" if report.lang == "zh" else "Summary", used))
        summary.write_row(0, 0, [report.title], bold)
        summary.write_row(1, 0, [report.subtitle])
        for i, (k, v) in enumerate(report.key_figures, start=3):
            summary.write_row(i, 0, [k, v])
        summary.set_column(0, 1, 40)
        for table in report.all_tables():
            sheet = book.add_worksheet(_sheet_name(table.title, used))
            sheet.write_row(0, 0, table.columns, bold)
            sheet.freeze_panes(1, 0)
            for r, row in enumerate(table.rows, start=1):
                sheet.write_row(r, 0, [_number(c, i in table.numeric) for i, c in enumerate(row)])
            sheet.set_column(0, len(table.columns) - 1, 16)


def _number(value: object, numeric: bool) -> object:
    """Numbers displayed with separators and % go back to numbers, so the sheet can be computed on."""
    if not numeric or not isinstance(value, str):
        return value
    text = value.replace(",", "").strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return value
