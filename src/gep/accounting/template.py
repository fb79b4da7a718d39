"""The statistics template: an Excel workbook a statistics bureau fills in, and the figures read back from it.

`write_template` lists, for a region, a year and a method, every statistic the method's indicators read, on one
sheet per level with every zone's code and name filled in, units in the headers, cells that accept only
non-negative numbers, the figures the package already has, and a notes sheet saying what each item is and where
such figures are usually published. `read_template` reads a filled workbook back into statistics rows, checked
like a statistics file (unknown zones or items, non-numbers, negatives, formulas, duplicates), every problem with
its sheet and cell. `merge_template` adds the new figures to the package as one CSV file, validated with the
whole package first and written atomically.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gep.accounting.catalogue import item_spec
from gep.accounting.methods import MethodProfile
from gep.accounting.region import Region
from gep.accounting.zones import LEVEL_NAMES
from gep.errors import N_, FileError, Problem

HEAD_ROWS = 2  # row 1: "item [unit]"; row 2: the item's Chinese name; figures from row 3
FIXED_COLUMNS = ("zone_code", "zone_name", "parent_code")
NOTES_SHEET = "说明 Notes"
HEADER = re.compile(r"^\s*(?P<item>[\w.\-]+)\s*\[(?P<unit>[^\]]+)\]\s*$")
CELL = N_("{file}, sheet {sheet}, cell {cell}")  # where a problem is

# Where figures of an item are usually published (Chinese statistical practice); shown on the notes sheet.
PUBLISHED_IN = {
    "output_value": "统计年鉴·农林牧渔业总产值 (statistical yearbook, gross output of agriculture, forestry, "
                    "animal husbandry and fishery)",
    "water_supply": "水资源公报·用水量 (water resources bulletin, water use by sector)",
    "hydropower": "电力统计或水利统计年报 (power or water statistics: hydropower generation)",
    "air_purification": "生态环境统计年报·废气污染物排放 (environmental statistics, air emissions)",
    "water_purification": "生态环境统计年报·废水污染物排放 (environmental statistics, water emissions)",
    "flood_regulation": "水库名录或水利普查·总库容 (reservoir register: total capacity)",
    "tourism": "文化和旅游局统计·接待游客人次 (culture and tourism bureau: visits)",
    "landscape_value": "住建或房管部门·住宅面积与均价 (housing authority: floor area and prices)",
    "gdp": "统计年鉴或统计公报·地区生产总值 (statistical yearbook or communiqué: GDP)",
    "population": "统计年鉴或统计公报·常住人口 (statistical yearbook or communiqué: resident population)",
    "forest_stock": "森林资源年度监测或二类调查·活立木蓄积 (forest inventory: standing stock)",
}


@dataclass(frozen=True)
class TemplateItem:
    item: str
    unit: str  # canonical unit the figures are written and read in
    name_zh: str
    description: str
    used_by: str  # indicator ids, or "report"
    published_in: str


def template_items(profile: MethodProfile) -> list[TemplateItem]:
    """Every statistic the profile's indicators read (products with their own names are left to a free table),
    then the value items, then GDP and population for the report."""
    from gep.accounting.run import check_profile

    items: dict[str, TemplateItem] = {}
    for cls in check_profile(profile):
        spec = cls.SPEC
        for item in spec.statistics:
            if "<" in item:
                continue
            found = item_spec(item)
            if found is None:
                continue
            unit = found.unit
            if unit == "*":
                value_item = profile.value_items.get(item.removeprefix("value_item."))
                unit = value_item.unit if value_item else "yuan"
            key = next((k for k in PUBLISHED_IN if item.startswith(k) or item.endswith(k)), "")
            old = items.get(item)
            used = f"{old.used_by}, {spec.id}" if old else spec.id
            items[item] = TemplateItem(item, unit, found.name_zh if found.unit != "*" else spec.name_zh,
                                       found.description, used, PUBLISHED_IN.get(key, spec.reference))
    for item, used in (("gdp", "report"), ("population", "report"), ("tourism.revenue", "report (reference)"),
                       ("forest_stock", "tenure audit")):
        found = item_spec(item)
        assert found is not None
        items.setdefault(item, TemplateItem(item, found.unit, found.name_zh, found.description, used,
                                            PUBLISHED_IN.get(item.split(".")[0], "")))
    return list(items.values())


def write_template(region: Region, year: int, path: Path, method: str | None = None) -> Path:
    """The workbook for `region`, `year` and the method (the region's by default), written atomically."""
    import xlsxwriter

    profile = region.profile(method)
    items = template_items(profile)
    known = region.statistics.for_year(year).frame
    given = {(r.zone_code, r.item): r.value for r in known.itertuples()}
    table = region.zones.table()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with xlsxwriter.Workbook(str(tmp)) as book:
        bold = book.add_format({"bold": True, "bg_color": "#e8f0e8", "text_wrap": True, "valign": "top"})
        text = book.add_format({"num_format": "@"})
        number = book.add_format({"num_format": "#,##0.####"})
        for level in region.zones.levels:
            zones = table[table["level"] == level]
            sheet = book.add_worksheet(sheet_name(level))
            heads = [*FIXED_COLUMNS, *(f"{i.item} [{i.unit}]" for i in items)]
            names = ["区划代码", "区划名称", "上级代码", *(i.name_zh for i in items)]
            sheet.write_row(0, 0, heads, bold)
            sheet.write_row(1, 0, names, bold)
            sheet.set_row(0, 30)
            sheet.set_column(0, 2, 16)
            sheet.set_column(3, 2 + len(items), 22)
            sheet.freeze_panes(HEAD_ROWS, 2)
            for r, z in enumerate(zones.itertuples(), start=HEAD_ROWS):
                sheet.write_string(r, 0, str(z.zone_code), text)
                sheet.write_string(r, 1, str(z.zone_name))
                sheet.write_string(r, 2, str(z.parent_code or ""), text)
                for c, item in enumerate(items, start=len(FIXED_COLUMNS)):
                    value = given.get((str(z.zone_code), item.item))
                    if value is not None:
                        sheet.write_number(r, c, float(value), number)
            if len(zones):
                sheet.data_validation(HEAD_ROWS, len(FIXED_COLUMNS), HEAD_ROWS + len(zones) - 1,
                                      len(FIXED_COLUMNS) + len(items) - 1,
                                      {"validate": "decimal", "criteria": ">=", "value": 0,
                                       "error_title": "只能填写非负数字 Numbers only",
                                       "error_message": "请填写不小于 0 的数字，单位见表头。A number ≥ 0, in the unit "
                                                        "of the header."})
        notes = book.add_worksheet(NOTES_SHEET)
        notes.write_row(0, 0, ["item", "unit", "名称", "what", "used by", "usually published in"], bold)
        for r, i in enumerate(items, start=1):
            notes.write_row(r, 0, [i.item, i.unit, i.name_zh, i.description, i.used_by, i.published_in])
        notes.write(len(items) + 2, 0, f"region {region.id}, year {year}, method {profile.id}. Fill the figures in "
                                       "the unit of each header, at the level they are published; leave unknown "
                                       "cells empty. Figures below a zone must not exceed the zone's own. "
                                       "Values only: formulas are refused.")
        notes.set_column(0, 0, 36)
        notes.set_column(3, 5, 48)
    os.replace(tmp, path)
    return path


def sheet_name(level: str) -> str:
    zh, en = LEVEL_NAMES[level]
    return f"{zh.split('(')[0]} {en}"


def read_template(path: Path, region: Region, year: int, name: str | None = None) -> pd.DataFrame:
    """The figures of a filled template as statistics rows (canonical units); raises FileError listing every
    problem with its sheet and cell. Formulas and macros are refused: the figures must be values."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    label = name or Path(path).name
    problems: list[Problem] = []
    if not zipfile.is_zipfile(path):
        raise FileError(label, [Problem("{file}", N_("not an Excel workbook (.xlsx)"), file=label)])
    with zipfile.ZipFile(path) as archive:
        if any(n.lower().endswith("vbaproject.bin") for n in archive.namelist()):
            raise FileError(label, [Problem("{file}", N_("holds macros; save it as a plain .xlsx workbook"),
                                            file=label)])
    try:
        with Path(path).open("rb") as fh:  # a file object: openpyxl would judge a path by its extension
            book = openpyxl.load_workbook(fh, data_only=False)  # not read-only: formulas and cell names
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileError(label, [Problem("{file}", N_("cannot be read as a workbook: {detail}"), file=label,
                                        detail=type(exc).__name__)]) from None
    levels = {sheet_name(lv): lv for lv in region.zones.levels}
    codes = region.zones.all_codes()
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], str] = {}
    for ws in book.worksheets:
        level = levels.get(ws.title)
        if level is None:
            continue
        values = list(ws.iter_rows(values_only=False))
        if not values:
            continue
        header = [c.value for c in values[0]]
        columns: dict[int, tuple[str, str]] = {}
        for c, head in enumerate(header[len(FIXED_COLUMNS):], start=len(FIXED_COLUMNS)):
            if head is None:
                continue
            m = HEADER.match(str(head))
            at = {"file": label, "sheet": ws.title, "cell": f"{get_column_letter(c + 1)}1"}
            spec = item_spec(m.group("item")) if m else None
            if m is None or spec is None:
                problems.append(Problem(CELL, N_("header {value} is not an item of the catalogue written as "
                                                 "'item [unit]'"), **at, value=repr(head)))
                continue
            columns[c] = (m.group("item"), m.group("unit"))
        for row in values[HEAD_ROWS:]:
            if not row or row[0].value is None:
                continue
            code = str(row[0].value).strip()
            where = {"file": label, "sheet": ws.title, "cell": f"A{row[0].row}"}
            if codes.get(code) != level:
                problems.append(Problem(CELL, N_("zone {code} is not a {level} of the region"), **where,
                                        code=repr(code), level=level))
                continue
            for c, (item, unit) in columns.items():
                if c >= len(row):
                    continue
                cell = row[c]
                at = {"file": label, "sheet": ws.title, "cell": cell.coordinate}
                if cell.data_type == "f":
                    problems.append(Problem(CELL, N_("holds a formula; paste the value instead"), **at))
                    continue
                if cell.value is None or (isinstance(cell.value, str) and not cell.value.strip()):
                    continue
                try:
                    value = float(str(cell.value).replace(",", ""))
                except ValueError:
                    problems.append(Problem(CELL, N_("{value} is not a number"), **at, value=repr(cell.value)))
                    continue
                if value < 0 or value != value:
                    problems.append(Problem(CELL, N_("{value} is negative or not a number; expected >= 0"), **at,
                                            value=value))
                    continue
                if (code, item) in seen:
                    problems.append(Problem(CELL, N_("zone {code} has {item} twice (also {other})"), **at,
                                            code=code, item=item, other=seen[(code, item)]))
                    continue
                seen[(code, item)] = f"{ws.title}!{cell.coordinate}"
                rows.append({"zone_code": code, "year": year, "item": item, "value": value, "unit": unit,
                             "source": f"{label} {ws.title}!{cell.coordinate}", "synthetic": False})
    book.close()
    if problems:
        raise FileError(label, problems)
    return pd.DataFrame(rows, columns=["zone_code", "year", "item", "value", "unit", "source", "synthetic"])


@dataclass
class MergeResult:
    added: int  # figures new to the package
    unchanged: int  # figures the package already had, with the same value
    file: str | None  # the CSV written (relative to the package), or None when nothing was new
    missing: list[dict[str, str]]  # indicators that will be skipped for lack of statistics, with the reason
    region: Region  # the package as validated with the new figures


def merge_template(root: Path, figures: pd.DataFrame, year: int, label: str,
                   region: Region | None = None) -> MergeResult:
    """Add a template's new figures to the package at `root` as `statistics/template_<year>.csv` (replacing that
    file's earlier upload), after validating the whole package with them; a figure that differs from one in
    another file is a problem named with both places. Nothing is written unless the result is valid. `region` is
    the package as loaded already (to read the template), if the caller has it."""
    import tomlkit

    from gep.accounting.region import load_region

    region = region or load_region(root)
    target_rel = f"statistics/template_{year}.csv"
    others = region.statistics.frame
    others = others[(others["year"] == year) & (others["file"] != target_rel)]
    existing = {(r.zone_code, r.item): r for r in others.itertuples()}
    new_rows, unchanged, problems = [], 0, []
    for r in figures.itertuples():
        old = existing.get((r.zone_code, r.item))
        if old is None:
            new_rows.append(r._asdict())
        elif abs(float(old.value) - _canonical(r.item, float(r.value), str(r.unit))) <= 1e-9 * max(
                1.0, abs(float(old.value))):
            unchanged += 1
        else:
            problems.append(Problem("{file}", N_("{place}: {item} of {zone} is {value} here but {old} in {old_where}; "
                                                 "change it in one place"), file=label, place=r.source,
                                    item=r.item, zone=r.zone_code, value=r.value, old=old.value,
                                    old_where=old.where))
    if problems:
        raise FileError(label, problems)
    manifest = root / "region.toml"
    doc = tomlkit.parse(manifest.read_text(encoding="utf-8"))
    stats = doc.setdefault("statistics", tomlkit.table())
    files = stats.setdefault("files", tomlkit.array())
    target = root / target_rel
    backup_manifest = manifest.read_text(encoding="utf-8")
    backup_target = target.read_bytes() if target.exists() else None
    frame = pd.DataFrame(new_rows, columns=["zone_code", "year", "item", "value", "unit", "source", "synthetic"])
    new_dir = not target.parent.exists()
    try:
        if not new_rows:
            if backup_target is not None:  # an upload that adds nothing replaces the earlier upload's file
                target.unlink()
                if target_rel in files:
                    files.remove(target_rel)
                    write_text_atomic(manifest, tomlkit.dumps(doc))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(target, frame.to_csv(index=False))
            if target_rel not in files:
                files.append(target_rel)
                write_text_atomic(manifest, tomlkit.dumps(doc))
        region = load_region(root)  # the whole package, with the new figures: consistency across files and levels
    except BaseException:
        write_text_atomic(manifest, backup_manifest)
        if backup_target is None:
            target.unlink(missing_ok=True)
            if new_dir and target.parent.exists() and not any(target.parent.iterdir()):
                target.parent.rmdir()
        else:
            target.write_bytes(backup_target)
        raise
    return MergeResult(len(new_rows), unchanged, target_rel if new_rows else None, missing_statistics(region, year),
                       region)


def missing_statistics(region: Region, year: int, method: str | None = None) -> list[dict[str, str]]:
    """The statistics-based indicators that will be skipped for `year` for lack of figures."""
    from gep.accounting.run import check_profile

    stats = region.statistics.for_year(year)
    out = []
    for cls in check_profile(region.profile(method)):
        needed = [i for i in cls.SPEC.statistics if "<" not in i and item_spec(i) is not None
                  and not item_spec(i).is_price]  # type: ignore[union-attr]
        if needed and not cls.SPEC.layers and not any(stats.has(i) for i in needed):
            out.append({"indicator": cls.SPEC.id, "name_zh": cls.SPEC.name_zh, "name_en": cls.SPEC.name_en,
                        "items": ", ".join(needed), "reason": "no figure for " + ", ".join(needed)})
    return out


def _canonical(item: str, value: float, unit: str) -> float:
    from gep.accounting.catalogue import canonical_unit, convert_factor

    canonical = canonical_unit(unit) or unit
    return value * convert_factor(unit, canonical)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace a text file whole (a reader sees the old file or the new one, never half of it)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
