"""A department's workbook: the template it downloads (one row per assessed unit and indicator it provides, the
unit of measure and the plausible range beside each, the value column left blank) and the reading of the filled
workbook back into rows. Formulas are refused: the value a department vouches for must be in the cell."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from gep.assessment import rules
from gep.errors import N_, FileError, Problem

# header cells read "中文 key": the key after the last space is what the import reads
HEADERS = (("单位代码", "unit_code"), ("单位名称", "unit_name"), ("指标代码", "indicator"),
           ("指标名称", "indicator_name"), ("计量单位", "unit"), ("合理范围", "range"), ("数值", "value"),
           ("说明", "note"))
MAX_BYTES = 5 * 1024 * 1024


def template(s: rules.IndicatorSet, year: int, units: dict[str, str], indicators: Sequence[rules.Indicator],
             department: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{year}"
    ws.append([f"{zh} {key}" for zh, key in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEEDD")
    for code, name in sorted(units.items()):
        for ind in indicators:
            span = f"{ind.low}–{ind.high}" if ind.low is not None else ""
            ws.append([code, name, ind.code, ind.name_zh, ind.unit, span, None, ""])
    last = ws.max_row
    if last > 1:
        numbers = DataValidation(type="decimal", operator="between", formula1="-1E12", formula2="1E12",
                                 showErrorMessage=True, error="请填写数字 / a number, please")
        ws.add_data_validation(numbers)
        numbers.add(f"G2:G{last}")
    for col, width in zip("ABCDEFGH", (12, 18, 10, 40, 12, 14, 14, 30), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明 notes")
    notes.append([f"{s.name_zh} · {year} · {department}"])
    notes.append(["每行填写一个数值（G 列），不要使用公式；代码列请勿修改。"])
    notes.append(["One value per row (column G), no formulas; do not change the code columns."])
    notes.append([s.source])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read(data: bytes, filename: str) -> tuple[list[dict[str, str]], int]:
    """The rows of the workbook's first sheet by column key, and the spreadsheet row of the first one."""
    if len(data) > MAX_BYTES:
        raise FileError(filename, [Problem(N_("file"), N_("at most 5 MB in one workbook"))])
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileError(filename, [Problem(N_("file"), N_("not an Excel workbook (.xlsx)"))])
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a broken file; all mean the same here
        raise FileError(filename, [Problem(N_("file"), N_("not an Excel workbook (.xlsx)"))]) from None
    if getattr(wb, "vba_archive", None) is not None:
        raise FileError(filename, [Problem(N_("file"), N_("workbooks with macros are not accepted"))])
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None) or ()
    keys = [str(h).strip().split()[-1].lower() if h is not None and str(h).strip() else "" for h in header]
    missing = [k for k in ("unit_code", "indicator", "value", "unit") if k not in keys]
    if missing:
        raise FileError(filename, [Problem(N_("header"), N_("missing columns: {columns} (expected {expected})"),
                                           columns=", ".join(missing),
                                           expected=", ".join(f"{zh} {k}" for zh, k in HEADERS))])
    rows: list[dict[str, str]] = []
    problems: list[Problem] = []
    for n, values in enumerate(it, start=2):
        cells = dict(zip(keys, values, strict=False))
        if all(v is None or str(v).strip() == "" for v in cells.values()):
            continue
        if cells.get("value") is None or str(cells.get("value")).strip() == "":
            continue  # a row left blank is a value not given (yet)
        formula = [k for k, v in cells.items() if isinstance(v, str) and v.startswith("=")]
        if formula:
            problems.append(Problem(N_("row {row}, {field}"), N_("formulas are not accepted; paste the value"),
                                    row=n, field=formula[0]))
            continue
        rows.append({k: _text(v) for k, v in cells.items() if k})
        rows[-1]["_row"] = str(n)
        if len(rows) > 20_000:
            raise FileError(filename, [Problem(N_("rows"), N_("at most {n} rows in one file"), n=20_000)])
    wb.close()
    if problems:
        raise FileError(filename, problems)
    return rows, 2


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()
