"""Trust in the numbers: parameters sourced or ranged, profiles checked whole, GEP/GDP at any price year, carbon
in t C or t CO₂, equal splits flagged, and the report numbered as it stands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import gep.cli
from gep.accounting.methods import STATUSES, available_profiles, load_profile
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.errors import MethodError, RegionError
from gep.report.model import build_report
from gep.testing import TinyRegion, Village

CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
V1, V2 = "100101001001", "100101001002"


@pytest.mark.parametrize("pid", available_profiles())
def test_every_parameter_has_a_status_and_every_unverified_one_a_range(pid: str) -> None:
    """PARAMETER-SOURCES.md applied: each shipped parameter says what the sources say of it, and each one no
    publication gives carries a plausible range with its reason."""
    for p in load_profile(pid).parameters.values():
        assert p.status in STATUSES, p.id
        assert p.verified == (p.status == "published"), p.id
        if p.status != "published":
            assert p.range is not None and p.range_reason, p.id


def test_parameter_sources_corrections() -> None:
    """The published runoff table is the default and the script's is a cited variant; the warm season ends on
    day 276; the erosivity constants are cited as the script's, not 章文波 2002's."""
    national = load_profile("national-2022").parameters
    runoff = national["water_conservation.runoff_coefficient"].table()
    assert (runoff["evergreen_broadleaf_forest"], runoff["evergreen_needleleaf_forest"], runoff["mixed_forest"],
            runoff["deciduous_broadleaf_forest"]) == (0.0465, 0.0452, 0.0352, 0.027)
    assert "龚诗涵" in national["water_conservation.runoff_coefficient"].source
    variant = load_profile("national-2022-dual-evaluation-runoff").parameters["water_conservation.runoff_coefficient"]
    assert variant.table()["evergreen_broadleaf_forest"] == 0.0267 and variant.status == "public_code"
    assert national["soil_retention.warm_last_day"].scalar() == 276
    for pid in ("alpha_warm", "alpha_cold", "beta"):
        assert "NOT 章文波 2002" in national[f"soil_retention.{pid}"].source


def test_a_profile_names_every_problem_at_once(tmp_path: Path) -> None:
    """A standalone profile missing parameters, with a typo and a bad range, is refused with all of them."""
    (tmp_path / "p.toml").write_text(
        '[profile]\nid = "mine"\nindicatrs = []\nindicators = ["hydropower", "tourism", "water_suply"]\n'
        '[parameters."hydropower.price"]\nvalue = 0.5\nunit = "yuan/kWh"\nsource = "x"\nyear = 2019\n'
        'range = [0.6, 0.9]\nrange_reason = "x"\nsorce = "y"\n', encoding="utf-8")
    root = TinyRegion(CLASSES, method=str(tmp_path / "p.toml")).write(tmp_path / "r")
    with pytest.raises(RegionError) as info:
        load_region(root)
    text = " | ".join(str(p) for p in info.value.problems)
    for fragment in ("unknown key 'indicatrs'", "did you mean 'indicators'?", "value 0.5 lies outside its range",
                     "unknown key 'sorce'"):
        assert fragment in text, text
    (tmp_path / "p.toml").write_text(
        '[profile]\nid = "mine"\nindicators = ["hydropower", "tourism", "water_suply"]\n', encoding="utf-8")
    with pytest.raises(RegionError) as info:
        load_region(root)
    text = " | ".join(str(p) for p in info.value.problems)
    assert "unknown indicator 'water_suply' (did you mean 'water_supply'?)" in text
    assert "lacks parameter hydropower.price" in text and "lacks parameter tourism.value_per_visit" in text


def test_cli_method_show_gives_status_range_and_price_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gep.cli.console, "width", 3000)
    result = CliRunner().invoke(gep.cli.app, ["method", "show", "national-2022"])
    assert result.exit_code == 0, result.output
    row = next(ln for ln in result.output.splitlines() if " flood_regulation.storm_runoff_coefficient " in ln)
    assert "not_found" in row and "×0.5–1.5" in row and "±50 %" in row
    assert "2019: 124.94" in result.output and "price index (unverified)" in result.output


def _region(tmp_path: Path, stats: list[dict], extra: str = "", **kw: object) -> Path:
    return TinyRegion(CLASSES, {"npp": np.full((2, 4), 100.0)}, statistics=stats, extra_toml=extra,
                      **kw).write(tmp_path)  # type: ignore[arg-type]


def test_carbon_in_tonnes_of_carbon_is_converted(tmp_path: Path) -> None:
    """A quantity in t C is 44/12 t CO₂; a price per t C is 12/44 of a price per t CO₂: both are converted, the
    value is the same as if given in CO₂, and the conversion is recorded."""
    stats = [{"zone_code": "100100", "year": 2019, "item": "quantity.carbon_sequestration.co2", "value": 12,
              "unit": "tC", "source": "t"}]
    extra = ('[parameters."carbon_sequestration.price"]\nvalue = 440\nunit = "yuan/tC"\nyear = 2019\n'
             'source = "t"\n')
    acc = account(load_region(_region(tmp_path, stats, extra)), 2019)
    city = acc.table[(acc.table["level"] == "city") & (acc.table["indicator"] == "carbon_sequestration")]
    assert city["quantity"].sum() == pytest.approx(44.0)  # 12 t C = 44 t CO₂
    assert city["value_yuan"].sum() == pytest.approx(12 * 440)  # the same money either way
    price = next(p for p in acc.metadata["parameters"] if p["id"] == "carbon_sequestration.price")
    assert price["value"] == pytest.approx(120.0) and "12/44" in price["note"]


def test_a_price_per_tonne_of_something_else_says_the_tonne_is_co2(tmp_path: Path) -> None:
    extra = ('[parameters."carbon_sequestration.price"]\nvalue = 440\nunit = "yuan/m3"\nyear = 2019\n'
             'source = "t"\n')
    with pytest.raises(RegionError, match="per tonne of CO₂"):
        load_region(_region(tmp_path, [], extra))


def test_given_quantity_at_a_county_spreads_by_the_computed_one(tmp_path: Path) -> None:
    """A known quantity for the county replaces the computed one there; its villages share it in proportion to
    what was computed (village 1 has twice village 2's NPP here), and the accounts say it was given."""
    layers = {"npp": np.array([[200.0, 200, 100, 100], [200, 200, 100, 100]])}
    stats = [{"zone_code": "100101", "year": 2019, "item": "quantity.carbon_sequestration.co2", "value": 3000,
              "unit": "t", "source": "survey"}]
    root = TinyRegion(np.array([[11, 11, 11, 11], [11, 11, 11, 11]]), layers, statistics=stats).write(tmp_path)
    acc = account(load_region(root), 2019)
    rows = acc.table[(acc.table["indicator"] == "carbon_sequestration")].set_index(["level", "zone_code"])
    assert rows.loc[("county", "100101"), "quantity"] == pytest.approx(3000)
    assert rows.loc[("village", V1), "quantity"] == pytest.approx(2000)
    assert rows.loc[("village", V2), "quantity"] == pytest.approx(1000)
    assert rows.loc[("village", V1), "source_level"] == "pixel; given at county"
    (given,) = acc.metadata["given_quantities"]
    assert given["given"] == pytest.approx(3000) and given["zones"] == ["100101"]


def test_equal_split_is_flagged(tmp_path: Path) -> None:
    """Tourism allocated by natural-ecosystem area, in a county with none: split equally, and the accounts say
    so instead of naming the proxy."""
    stats = [{"zone_code": "100101", "year": 2019, "item": "tourism.visitors", "value": 100, "unit": "人次",
              "source": "t"}]
    root = TinyRegion(np.array([[61, 61, 51, 51], [61, 61, 51, 51]]), statistics=stats).write(tmp_path)
    acc = account(load_region(root), 2019)
    rows = acc.table[(acc.table["indicator"] == "tourism") & (acc.table["level"] == "village")]
    assert list(rows["quantity"]) == [50.0, 50.0]
    assert all("split equally in 100101" in p for p in rows["proxy"])


def _gdp_region(tmp_path: Path) -> Path:
    stats = [{"zone_code": "100100", "year": 2019, "item": "gdp", "value": 50, "unit": "亿元", "source": "t"},
             {"zone_code": "100100", "year": 2019, "item": "agriculture.output_value", "value": 10, "unit": "亿元",
              "source": "t"}]
    return _region(tmp_path, stats)


def test_gep_gdp_is_the_same_at_any_price_year(tmp_path: Path) -> None:
    """GEP revalued to another year's prices is divided by GDP revalued the same way: the ratio does not move."""
    region = load_region(_gdp_region(tmp_path))
    ratios = set()
    for price_year in (2010, 2015, 2019, 2024):
        report = build_report([account(region, 2019, price_year=price_year)], "en")
        ratios.add(dict(report.key_figures)["GEP/GDP"])
    assert len(ratios) == 1, ratios


def test_section_numbers_do_not_skip(tmp_path: Path) -> None:
    """With one year the comparison across years is absent, and the sections after it are numbered on."""
    report = build_report([account(load_region(_gdp_region(tmp_path)), 2019)], "zh")
    numbers = [s.title.split("、")[0] for s in report.sections]
    assert numbers == ["一", "二", "三", "四", "五", "六", "七", "八", "九"][: len(numbers)]
    en = build_report([account(load_region(_gdp_region(tmp_path)), 2019)], "en")
    assert [s.title.split(".")[0] for s in en.sections] == [str(i) for i in range(1, len(en.sections) + 1)]


def test_value_item_undeclared_is_named_with_its_row(tmp_path: Path) -> None:
    stats = [{"zone_code": "100100", "year": 2019, "item": "value_item.reed", "value": 5, "unit": "t",
              "source": "t"}]
    with pytest.raises(RegionError, match=r"statistics.csv, row 2: value_item.reed: method zhejiang-2020 "
                                          r"declares no value item reed"):
        load_region(_region(tmp_path, stats))


def test_value_item_clashing_with_the_catalogue_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        '[profile]\nextends = "zhejiang-2020"\n[value_items.tourism]\ncategory = "cultural"\nname_zh = "x"\n'
        'unit = "yuan"\nsource = "x"\n', encoding="utf-8")
    with pytest.raises(MethodError, match="already an indicator"):
        load_profile(str(tmp_path / "p.toml"))


def test_unknown_village_level_keys_do_not_block_valid_packages(tmp_path: Path) -> None:
    """The tiny package, as the docs describe it, has no unknown key."""
    load_region(TinyRegion(CLASSES, villages=[Village(V1, (0, 2), (0, 4))]).write(tmp_path))


def test_gdp_moves_to_the_price_year_like_gep() -> None:
    """The dashboard and the report divide GEP at the price year by GDP at the same prices."""
    from gep.accounting.valuation import at_price_year

    meta = {"year": 2019, "price_year": 2010, "price_index": {"values": {"2010": 100.0, "2019": 124.94}}}
    assert at_price_year(124.94, meta) == pytest.approx(100.0)
    assert at_price_year(5.0, {**meta, "price_year": 2019}) == 5.0
    assert at_price_year(5.0, {**meta, "price_year": 2030}) is None  # no index for 2030: no ratio, not a wrong one
