"""The statistics template: written for a region, read back, checked and merged into the package."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.accounting.template import merge_template, read_template, sheet_name, template_items, write_template
from gep.cli import app
from gep.errors import FileError, RegionError
from gep.testing import TinyRegion

CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
LAYERS = {"precipitation": np.full((2, 4), 2000.0), "evapotranspiration": np.full((2, 4), 700.0)}
STATS = [{"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 500, "unit": "万元",
          "source": "yearbook"}]
V1, V2 = "100101001001", "100101001002"


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return TinyRegion(CLASSES, LAYERS, statistics=STATS).write(tmp_path / "region")


def cell_of(ws: openpyxl.worksheet.worksheet.Worksheet, code: str, item: str) -> openpyxl.cell.Cell:
    col = next(c.column for c in ws[1] if str(c.value).startswith(f"{item} ["))
    row = next(r[0].row for r in ws.iter_rows(min_row=3) if r[0].value == code)
    return ws.cell(row=row, column=col)


def test_the_template_lists_what_the_method_needs_for_every_zone(root: Path, tmp_path: Path) -> None:
    region = load_region(root)
    path = write_template(region, 2019, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    assert [ws.title for ws in book.worksheets] == [sheet_name(lv) for lv in region.zones.levels] + ["说明 Notes"]
    villages = book[sheet_name("village")]
    assert [r[0].value for r in villages.iter_rows(min_row=3)] == [V1, V2]
    heads = [c.value for c in villages[1]]
    assert heads[:3] == ["zone_code", "zone_name", "parent_code"]
    assert "agriculture.output_value [yuan]" in heads and "water_supply.domestic [m3]" in heads
    assert "tourism.visitors [person-time]" in heads and "gdp [yuan]" in heads
    assert not any("<name>" in str(h) for h in heads)
    county = book[sheet_name("county")]
    assert cell_of(county, "100101", "agriculture.output_value").value == 5_000_000  # what the package has
    rules = villages.data_validations.dataValidation
    assert rules and rules[0].type == "decimal" and rules[0].operator == "greaterThanOrEqual"
    notes = [r for r in book["说明 Notes"].iter_rows(values_only=True)]
    water = next(r for r in notes if r[0] == "water_supply.domestic")
    assert "水资源公报" in water[5] and water[4] == "water_supply"
    assert {i.item for i in template_items(region.profile())} >= {"hydropower.generation",
                                                                  "landscape_value.house_price"}


def test_unchanged_template_adds_nothing_and_says_what_is_missing(root: Path, tmp_path: Path) -> None:
    region = load_region(root)
    path = write_template(region, 2019, tmp_path / "t.xlsx")
    before = (root / "region.toml").read_text(encoding="utf-8")
    result = merge_template(root, read_template(path, region, 2019), 2019, "t.xlsx")
    assert (result.added, result.unchanged, result.file) == (0, 1, None)
    assert (root / "region.toml").read_text(encoding="utf-8") == before
    missing = {m["indicator"] for m in result.missing}
    assert {"water_supply", "hydropower", "tourism"} <= missing and "agriculture" not in missing


def test_a_filled_template_adds_its_figures_and_the_accounts_use_them(root: Path, tmp_path: Path) -> None:
    region = load_region(root)
    path = write_template(region, 2019, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    cell_of(book[sheet_name("county")], "100101", "water_supply.domestic").value = 1_000_000
    cell_of(book[sheet_name("village")], V1, "tourism.visitors").value = 3000
    book.save(path)
    result = merge_template(root, read_template(path, region, 2019), 2019, "t.xlsx")
    assert (result.added, result.unchanged, result.file) == (2, 1, "statistics/template_2019.csv")
    assert '"statistics/template_2019.csv"' in (root / "region.toml").read_text(encoding="utf-8")
    acc = account(load_region(root), 2019)
    city = acc.table[acc.table["level"] == "city"]
    assert city[city["sub_indicator"] == "domestic"]["quantity"].sum() == pytest.approx(1_000_000)
    assert city[city["indicator"] == "tourism"]["quantity"].sum() == pytest.approx(3000)
    # uploading the same workbook again changes nothing; a corrected one replaces the earlier upload
    again = merge_template(root, read_template(path, load_region(root), 2019), 2019, "t.xlsx")
    assert (again.added, again.unchanged) == (2, 1)
    assert len(pd.read_csv(root / "statistics" / "template_2019.csv")) == 2


def test_problems_are_named_by_sheet_and_cell_and_nothing_is_stored(root: Path, tmp_path: Path) -> None:
    region = load_region(root)
    path = write_template(region, 2019, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    villages = book[sheet_name("village")]
    cell_of(villages, V1, "tourism.visitors").value = "many"
    cell_of(villages, V2, "tourism.visitors").value = -5
    cell_of(villages, V2, "hydropower.generation").value = "=1+1"
    villages.cell(row=5, column=1).value = "999"
    villages.cell(row=5, column=4).value = 1
    book.save(path)
    with pytest.raises(FileError) as info:
        read_template(path, region, 2019)
    text = " | ".join(str(p) for p in info.value.problems)
    for fragment in ("sheet 村 Village, cell", "'many' is not a number", "-5.0 is negative", "holds a formula",
                     "zone '999' is not a village"):
        assert fragment in text, text


def test_children_exceeding_their_parent_are_refused_whole(root: Path, tmp_path: Path) -> None:
    region = load_region(root)
    path = write_template(region, 2019, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    cell_of(book[sheet_name("village")], V1, "agriculture.output_value").value = 9_000_000
    book.save(path)
    before = sorted(p.name for p in (root).rglob("*"))
    with pytest.raises(RegionError, match="exceed"):
        merge_template(root, read_template(path, region, 2019), 2019, "t.xlsx")
    assert sorted(p.name for p in (root).rglob("*")) == before  # nothing half-stored
    load_region(root)


def test_a_figure_that_contradicts_another_file_is_named_with_both_places(root: Path, tmp_path: Path) -> None:
    region = load_region(root)
    path = write_template(region, 2019, tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    cell_of(book[sheet_name("county")], "100101", "agriculture.output_value").value = 6_000_000
    book.save(path)
    with pytest.raises(FileError, match=r"is 6000000.0 here but 5000000.0 in statistics.csv, row 2"):
        merge_template(root, read_template(path, region, 2019), 2019, "t.xlsx")


def test_not_a_workbook_and_macros_are_refused(root: Path, tmp_path: Path) -> None:
    region = load_region(root)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"GIF89a not a workbook")
    with pytest.raises(FileError, match="not an Excel workbook"):
        read_template(fake, region, 2019)
    path = write_template(region, 2019, tmp_path / "t.xlsx")
    import zipfile

    shutil.copy(path, tmp_path / "m.xlsx")
    with zipfile.ZipFile(tmp_path / "m.xlsx", "a") as z:
        z.writestr("xl/vbaProject.bin", b"\x00macro")
    with pytest.raises(FileError, match="holds macros"):
        read_template(tmp_path / "m.xlsx", region, 2019)


def test_cli_template_and_import(root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "t.xlsx"
    r = runner.invoke(app, ["statistics", "template", str(root), "--year", "2019", "--out", str(out)])
    assert r.exit_code == 0, r.output
    book = openpyxl.load_workbook(out)
    cell_of(book[sheet_name("city")], "100100", "hydropower.generation").value = 5e6
    book.save(out)
    r = runner.invoke(app, ["statistics", "import", str(root), str(out), "--year", "2019"])
    assert r.exit_code == 0, r.output
    assert "1 new figure(s), 1 already in the package" in " ".join(r.output.split())


@pytest.mark.slow  # the demo build takes about 30 s
def test_a_template_filled_with_the_demo_statistics_reproduces_the_demo_accounts(demo_accounts_only: object,
                                                                                  tmp_path: Path) -> None:
    """The demo's 2019 figures, taken out of its package and brought back through the template, give the same
    accounts to the last digit."""
    from gep.accounting.accounts import read_accounts

    demo = demo_accounts_only
    copy = tmp_path / "region"
    shutil.copytree(demo.region, copy)  # type: ignore[attr-defined]
    stats_file = copy / "statistics" / "statistics.csv"
    stats = pd.read_csv(stats_file, dtype=str)
    stats[stats["year"] != "2019"].to_csv(stats_file, index=False)
    path = write_template(load_region(demo.region), 2019, tmp_path / "t.xlsx")  # type: ignore[attr-defined]
    emptied = load_region(copy)
    result = merge_template(copy, read_template(path, emptied, 2019), 2019, "t.xlsx")
    assert result.added == int((stats["year"] == "2019").sum()) and result.unchanged == 0
    got = account(load_region(copy), 2019).table
    expected = read_accounts(demo.accounts).table  # type: ignore[attr-defined]
    key = ["level", "zone_code", "indicator", "sub_indicator"]
    merged = expected.merge(got, on=key, suffixes=("", "_new"), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["value_yuan"] == merged["value_yuan_new"]).all()
    assert (merged["quantity"] == merged["quantity_new"]).all()
