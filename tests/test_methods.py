"""Method profiles: the shipped ones are complete and sourced; bad profiles and overrides are refused; the CLI."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import gep.cli
from gep.accounting.indicators import REGISTRY
from gep.accounting.methods import MethodProfile, available_profiles, load_profile
from gep.accounting.region import load_region
from gep.accounting.run import check_profile
from gep.errors import MethodError, RegionError
from gep.testing import TinyRegion

SHIPPED = ("national-2022", "zhejiang-2020")
ZHEJIANG_ONLY = ("oxygen_release", "negative_ions", "landscape_value")
OVERRIDE = ('[parameters."water_conservation.reservoir_cost"]\nvalue = 8.0\nunit = "yuan/m3"\nyear = 2019\n'
            'source = "test"\n')


@pytest.fixture(scope="module", params=SHIPPED)
def profile(request: pytest.FixtureRequest) -> MethodProfile:
    return load_profile(request.param)


def test_shipped_profiles_are_available() -> None:
    """Both profiles ship with gep and are listed."""
    assert set(SHIPPED) <= set(available_profiles())


def test_profile_loads(profile: MethodProfile) -> None:
    """A shipped profile loads with its id, names and a non-empty indicator list."""
    assert profile.id in SHIPPED
    assert profile.name_zh and profile.name_en
    assert profile.indicators and len(set(profile.indicators)) == len(profile.indicators)


def test_check_profile_passes(profile: MethodProfile) -> None:
    """check_profile accepts the shipped profile and returns the classes of its indicators, in order."""
    classes = check_profile(profile)
    assert [c.SPEC.id for c in classes] == list(profile.indicators)


def test_every_spec_parameter_present_with_its_unit(profile: MethodProfile) -> None:
    """Each indicator's SPEC parameters exist in the profile with the SPEC's unit and shape (checked directly)."""
    for ind in profile.indicators:
        spec = REGISTRY[ind].SPEC
        for p in spec.parameters:
            param = profile.param(spec.param_id(p.name))
            assert param.unit == p.unit, param.id
            assert isinstance(param.value, dict) == p.by_ecosystem, param.id
        for out in spec.outputs:  # a price named by an output is a parameter of the profile
            if out.price and not out.price.startswith("statistics:"):
                assert profile.param(out.price).unit == f"yuan/{out.unit}", out.price


def test_zhejiang_adds_its_accounts() -> None:
    """zhejiang-2020 accounts 释氧, 负氧离子 and 景观价值; the national set has none of them."""
    zj, nat = load_profile("zhejiang-2020"), load_profile("national-2022")
    assert all(i in zj.indicators for i in ZHEJIANG_ONLY)
    assert not any(i in nat.indicators for i in ZHEJIANG_ONLY)
    assert set(nat.indicators) <= set(zj.indicators)


def test_zhejiang_inherits_national_parameters() -> None:
    """`extends` carries every national parameter over unchanged, and records both files."""
    zj, nat = load_profile("zhejiang-2020"), load_profile("national-2022")
    for pid, p in nat.parameters.items():
        assert zj.parameters[pid] == p
    assert zj.files == ("national-2022.toml", "zhejiang-2020.toml")


def test_every_parameter_sourced(profile: MethodProfile) -> None:
    """Every parameter says where its value comes from and whether a source confirms it."""
    for p in profile.parameters.values():
        assert p.source.strip(), p.id
        assert isinstance(p.verified, bool), p.id
        assert p.overridden_by == "", p.id


def test_every_price_has_a_year(profile: MethodProfile) -> None:
    """Prices (unit yuan/...) carry the year they are quoted in, which the price index must cover."""
    prices = [p for p in profile.parameters.values() if p.unit.startswith("yuan/")]
    assert prices
    for p in prices:
        assert p.year is not None, p.id
        assert p.year in profile.price_index.values, p.id


def test_price_index_covers_2010_to_2024(profile: MethodProfile) -> None:
    """The price index has a positive value for every year 2010–2024, with 2010 = 100."""
    values = profile.price_index.values
    assert all(values.get(y, 0.0) > 0 for y in range(2010, 2025))
    assert values[2010] == 100.0
    assert profile.price_index.source


def test_wrong_unit_refused_by_check_profile(tmp_path: Path) -> None:
    """A profile that gives a parameter in another unit than the indicator expects is a MethodError naming it."""
    path = tmp_path / "bad.toml"
    path.write_text('[profile]\nid = "bad"\nextends = "national-2022"\n\n'
                    '[parameters."hydropower.price"]\nvalue = 530.0\nunit = "yuan/MWh"\nyear = 2010\n'
                    'source = "test"\n', encoding="utf-8")
    bad = load_profile(str(path))
    assert bad.param("hydropower.price").unit == "yuan/MWh"
    with pytest.raises(MethodError, match=r"hydropower\.price.*yuan/MWh.*yuan/kWh"):
        check_profile(bad)


def test_table_where_single_value_expected_refused(tmp_path: Path) -> None:
    """A parameter given by ecosystem where the indicator reads one value is a MethodError naming it."""
    path = tmp_path / "bad.toml"
    path.write_text('[profile]\nid = "bad"\nextends = "national-2022"\n\n'
                    '[parameters."flood_regulation.marsh_depth"]\nunit = "m"\nsource = "test"\n'
                    'value = { marsh = 0.3 }\n', encoding="utf-8")
    with pytest.raises(MethodError, match=r"flood_regulation\.marsh_depth"):
        check_profile(load_profile(str(path)))


def test_profile_without_indicators_refused(tmp_path: Path) -> None:
    """A profile that neither lists indicators nor extends one is refused, naming the file."""
    path = tmp_path / "noind.toml"
    path.write_text('[profile]\nid = "x"\n', encoding="utf-8")
    with pytest.raises(MethodError, match=r"noind\.toml.*indicators"):
        load_profile(str(path))


def test_unknown_profile_lists_available() -> None:
    """An unknown profile name is a MethodError that lists the shipped profiles."""
    with pytest.raises(MethodError, match=r"'no-such'.*national-2022, national-2022-dual-evaluation-runoff, "
                                          r"zhejiang-2020"):
        load_profile("no-such")


def tiny(tmp_path: Path, extra_toml: str) -> Path:
    return TinyRegion(np.array([[11, 11, 31, 31], [11, 41, 51, 31]]), extra_toml=extra_toml).write(tmp_path)


def test_region_override_applied_and_recorded(tmp_path: Path) -> None:
    """A region's [parameters] replace the profile's value and record that region.toml overrode it."""
    region = load_region(tiny(tmp_path, OVERRIDE))
    prof = region.profile()
    p = prof.param("water_conservation.reservoir_cost")
    assert (p.value, p.unit, p.year, p.source, p.overridden_by) == (8.0, "yuan/m3", 2019, "test", "region.toml")
    assert prof.param("flood_regulation.reservoir_cost").value == 7.06  # the same price elsewhere is untouched
    assert prof.param("flood_regulation.reservoir_cost").overridden_by == ""
    assert load_profile("zhejiang-2020").param("water_conservation.reservoir_cost").value == 7.06
    check_profile(prof)


def test_region_override_wrong_unit_refused(tmp_path: Path) -> None:
    """An override in another unit than the profile's is refused when the package loads, naming the parameter
    and both units, among the package's other problems."""
    with pytest.raises(RegionError, match=r"water_conservation\.reservoir_cost.*'yuan/t'.*'yuan/m3'"):
        load_region(tiny(tmp_path, OVERRIDE.replace('"yuan/m3"', '"yuan/t"')))


def test_region_override_unknown_parameter_refused(tmp_path: Path) -> None:
    """Overriding a parameter the profile does not have (a typo) is refused with a suggestion, not ignored."""
    with pytest.raises(RegionError, match=r"water_conservation\.reservoir_costs.*did you mean "
                                          r"'water_conservation\.reservoir_cost'"):
        load_region(tiny(tmp_path, OVERRIDE.replace("reservoir_cost", "reservoir_costs")))


def test_cli_method_show(monkeypatch: pytest.MonkeyPatch) -> None:
    """`gep method show zhejiang-2020` prints every parameter id with its source and exits 0."""
    monkeypatch.setattr(gep.cli.console, "width", 2000)  # one table row per line, nothing folded
    result = CliRunner().invoke(gep.cli.app, ["method", "show", "zhejiang-2020"])
    assert result.exit_code == 0, result.output
    prof = load_profile("zhejiang-2020")
    lines = result.output.splitlines()
    for p in prof.parameters.values():
        row = [ln for ln in lines if f" {p.id} " in ln]
        assert len(row) == 1, p.id
        assert p.source in row[0], p.id
    assert "oxygen_release" in result.output and prof.price_index.source in result.output


def test_cli_method_show_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown profile exits with code 2 and lists the available ones."""
    monkeypatch.setattr(gep.cli.console, "width", 2000)
    result = CliRunner().invoke(gep.cli.app, ["method", "show", "no-such"])
    assert result.exit_code == 2
    assert "national-2022, national-2022-dual-evaluation-runoff, zhejiang-2020" in result.output


def test_cli_indicators_json() -> None:
    """`gep indicators --json` lists the 17 indicators (soil retention included) with their full SPEC."""
    result = CliRunner().invoke(gep.cli.app, ["indicators", "--json"])
    assert result.exit_code == 0, result.output
    specs = json.loads(result.output)
    assert len(specs) == 17
    assert [s["id"] for s in specs] == list(REGISTRY)
    for s, cls in zip(specs, REGISTRY.values(), strict=True):
        want = json.loads(json.dumps(asdict(cls.SPEC), ensure_ascii=False))  # tuples -> lists
        assert s == want, s["id"]
    zj = set(load_profile("zhejiang-2020").indicators)
    assert {s["id"] for s in specs} == zj
    assert {s["category"] for s in specs} == {"material", "regulating", "cultural"}
