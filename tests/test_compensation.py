"""Watershed compensation and damage valuation on a database (SQLite, and PostgreSQL when set): a year from the
import to the settlement through the counties' accounts; a gap that stops closing until accepted; closing twice
posts once and a recomputation agrees to the fen; bad observations reported by row; the pages' API under each
role; a property test that the counties' accounts move only by outside money and every closed pool is empty; and
a damage case on the tiny region valued by hand from its value-density raster, with its claim report."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pytest
import rasterio
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from conftest import PASSWORD, served_app
from conftest import bearer as login
from gep.app import build_platform
from gep.auth import service as auth
from gep.compensation import damage, damage_service, handlers, rules, service
from gep.compensation.models import Agreement, Section, Settlement
from gep.db import unit_of_work
from gep.errors import Conflict, FileError, InputError
from gep.kit.events import Event
from gep.kit.principal import SYSTEM, Principal
from gep.ledger.models import LedgerAccount, LedgerTransfer
from registry_fixtures import Platform, build, pixel_box

BASE = {"codmn": "2.0", "nh3n": "0.20", "tp": "0.050", "tn": "1.00", "flow": "100", "efficiency": "40"}
OFFICE = Principal(None, "office", "env_officer", None, frozenset({"*"}), "system", party="生态环境局")
KEYS = itertools.count(1)


@pytest.fixture(scope="module")
def platform(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    p = build(empty_db, tmp_path_factory.mktemp("compensation"))
    roles = build_platform().roles
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        service.install_schemes(s)
        for name, role in (("office", "env_officer"), ("analyst", "analyst"), ("villager", "villager")):
            auth.create_user(s, name, PASSWORD, role, SYSTEM, roles=roles)
    return p


def rows_for(section: str, year: int, ratio: str = "1", skip: tuple[int, ...] = ()) -> list[dict[str, str]]:
    """A year of observations whose every ratio to BASE is `ratio` (pollution orientation)."""
    r = Decimal(ratio)
    out = []
    for m in range(1, 13):
        if m in skip:
            continue
        for p in ("codmn", "nh3n", "tp", "tn"):
            out.append({"section": section, "period": f"{year}-{m:02d}", "parameter": p,
                        "value": str(Decimal(BASE[p]) * r), "unit": "mg/L"})
        out.append({"section": section, "period": f"{year}-{m:02d}", "parameter": "flow",
                    "value": str((Decimal(BASE["flow"]) / r).quantize(Decimal("0.000001"))), "unit": "m3/s"})
    out.append({"section": section, "period": str(year), "parameter": "efficiency",
                "value": str(Decimal(BASE["efficiency"]) * r), "unit": "m3/万元"})
    return out


def basin_with(p: Platform, code: str, sections: list[tuple[str, str, str, str, str]]) -> dict[str, int]:
    """A basin and its sections (code, upstream, downstream, class, scheme version), each with its agreement."""
    ids = {}
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        b = service.create_basin(s, code, f"{code} 流域", "oujiang", OFFICE, region_id=p.region_id)
        for sec, up, down, cls, version in sections:
            row = service.add_section(s, b.id, sec, f"{sec} 断面", 119.9, 28.4, (up, f"{up}县"), (down, f"{down}县"),
                                      cls, OFFICE)
            base = BASE if version.startswith("oujiang") else {k: BASE[k] for k in ("codmn", "nh3n", "tp", "tn")}
            ids[sec] = service.sign_agreement(s, row.id, version, base, OFFICE).id
        ids["basin"] = b.id
    return ids


def balance(s: Any, code: str) -> int:
    a = s.scalar(select(LedgerAccount).where(LedgerAccount.code == code).execution_options(skip_scope=True))
    return 0 if a is None else int(a.credits_posted - a.debits_posted)


def test_a_year_from_import_to_settlement(platform: Platform) -> None:
    ids = basin_with(platform, "b1", [("S1", "A1", "B1", "II", "oujiang-r3-2024"),
                                      ("S2", "B1", "C1", "III", "oujiang-r3-2024")])
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        r = service.import_observations(s, rows_for("S1", 2024, "0.85") + rows_for("S2", 2024, "1.0", skip=(11,)),
                                        OFFICE, "y2024.csv")
        assert (r.rows, r.stored, r.skipped) == (2 * 61 - 5, 2 * 61 - 5, 0)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        done = service.close_year(s, ids["basin"], 2024, OFFICE)
        assert done["closed"] == ["S1"]
        assert [x["section"] for x in done["refused"]] == ["S2"]
        assert "5 monthly values are missing" in done["refused"][0]["reason"]
        # S1 (index 0.85 < 0.9): downstream B1 pays upstream A1 the 8 million it staked
        assert (balance(s, "compensation:county:A1"), balance(s, "compensation:county:B1")) == (
            8_000_000_00, -8_000_000_00)
    with unit_of_work(platform.factory) as s, pytest.raises(InputError, match="needs a reason"):  # type: ignore[arg-type]
        service.close(s, ids["S2"], 2024, OFFICE, accept_gaps=True)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        row, posted = service.close(s, ids["S2"], 2024, OFFICE, accept_gaps=True, reason="11月断面施工，停测")
        assert posted and row.direction == "none" and row.index_value == "1.0000" and row.gaps_accepted
        assert len(row.gaps) == 5 and row.observations == 61 - 5
        # nobody pays on S2: B1 and C1 get their stakes back
        assert (balance(s, "compensation:county:B1"), balance(s, "compensation:county:C1")) == (-8_000_000_00, 0)
        assert service.funds(s, ids["basin"])["total_fen"] == 0
        transfers = s.scalar(select(func.count()).select_from(LedgerTransfer))
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        again, posted = service.close(s, ids["S1"], 2024, OFFICE)
        assert not posted and again.state == "closed"
        assert s.scalar(select(func.count()).select_from(LedgerTransfer)) == transfers
        check = service.recompute(s, again.id)
        assert check["matches"], check
        with pytest.raises(Conflict, match="closed"):
            service.import_observations(s, [{"section": "S1", "period": "2024-05", "parameter": "codmn",
                                             "value": "9", "unit": "mg/L"}], OFFICE)


def test_the_baseline_of_the_next_year_is_the_closed_years_better_values(platform: Platform) -> None:
    ids = basin_with(platform, "b2", [("R1", "A2", "B2", "II", "oujiang-r3-2024")])
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.import_observations(s, rows_for("R1", 2024, "0.8") + rows_for("R1", 2025, "0.8"), OFFICE)
        with pytest.raises(Conflict, match="close 2024 first"):  # 2025's baseline depends on 2024
            service.close(s, ids["R1"], 2025, OFFICE)
        service.close(s, ids["R1"], 2024, OFFICE)
        agreement = s.get(Agreement, ids["R1"])
        c = service.compute(s, agreement, 2025)
        # 2024 was 20 % cleaner than the agreed baseline: 2025 is measured against 2024, so the same water is 1.0
        assert c.baseline["codmn"] == Decimal("1.600000") and c.baseline["flow"] == Decimal("125.000000")
        assert c.index is not None and c.index.value == Decimal("1.0000") and c.direction == "none"


def test_bad_observations_are_reported_by_row_and_nothing_is_stored(platform: Platform) -> None:
    basin_with(platform, "b3", [("Q1", "A3", "B3", "II", "oujiang-r3-2024")])
    bad = (b"section,period,parameter,value,unit\n"
           b"Q9,2024-01,codmn,2.0,mg/L\n"
           b"Q1,2024-01,codmn,2.0,g/L\n"
           b"Q1,2024-02,tp,-0.01,mg/L\n"
           b"Q1,2024-03,tn,1.0,mg/L\n"
           b"Q1,2024-03,tn,1.0,mg/L\n"
           b"Q1,2024-04,flow,,m3/s\n")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        with pytest.raises(FileError) as err:
            service.import_observations(s, service.parse_csv(bad, "bad.csv"), OFFICE, "bad.csv", bad)
        text = str(err.value)
        for expected in ("row 2, section: unknown section 'Q9'", "row 3, unit: codmn is measured in mg/L, not 'g/L'",
                         "row 4, value: a measured value cannot be negative (-0.01)",
                         "row 6, period: Q1 2024-03 tn is given twice (also in row 5)",
                         "row 7, value: '' is not a number"):
            assert expected in text, text
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        sid = s.scalar(select(Section.id).where(Section.code == "Q1"))
        assert service.observations(s, sid, 2024) == []
        with pytest.raises(FileError) as header:
            service.parse_csv(b"section,period,value,unit\n", "x.csv")
        assert str(header.value.problems[0]) == (
            "header: missing columns: parameter (expected section, period, parameter, value, unit)")


# -- through the API ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from served_app(platform.url, tmp_path_factory.mktemp("data"))  # type: ignore[misc]



def test_the_api_under_each_role(platform: Platform, client: TestClient) -> None:
    ids = basin_with(platform, "b4", [("P1", "A4", "B4", "II", "oujiang-r3-2024")])
    office, analyst, villager = (login(client, u) for u in ("office", "analyst", "villager"))
    csv_ = ("section,period,parameter,value,unit\n" + "".join(
        f"{r['section']},{r['period']},{r['parameter']},{r['value']},{r['unit']}\n"
        for r in rows_for("P1", 2024, "1.2"))).encode()
    files = {"file": ("p1.csv", csv_, "text/csv")}
    assert client.post("/api/compensation/observations/import", files=files, headers=analyst).status_code == 403
    r = client.post("/api/compensation/observations/import", files=files, headers=office)
    assert r.status_code == 200 and r.json()["stored"] == 61, r.text
    assert client.post("/api/compensation/observations/import", files=files, headers=office).json()["skipped"] == 61
    b = client.get(f"/api/compensation/basins/{ids['basin']}?year=2024", headers=analyst).json()
    assert [(x["section"], x["index"], x["direction"], x["transfer_fen"]) for x in b["sections"]] == [
        ("P1", "1.2000", "upstream_pays", 8_000_000_00)]
    assert client.get(f"/api/compensation/basins/{ids['basin']}?year=2024", headers=villager).status_code == 403
    series = client.get(f"/api/compensation/sections/{b['sections'][0]['section_id']}?year=2024",
                        headers=analyst).json()
    assert len(series["months"]) == 12 and {m["direction"] for m in series["months"]} == {"upstream_pays"}
    assert (series["lower"], series["upper"]) == ("0.9", "1.1")
    close = f"/api/compensation/agreements/{ids['P1']}/years/2024/close"
    assert client.post(close, json={}, headers=analyst).status_code == 403
    done = client.post(close, json={}, headers=office).json()
    assert done["posted"] and done["downstream_fen"] == 16_000_000_00
    assert not client.post(close, json={}, headers=office).json()["posted"]
    assert client.get(f"/api/compensation/settlements/{done['id']}/recompute", headers=analyst).json()["matches"]
    funds = client.get(f"/api/compensation/basins/{ids['basin']}/funds", headers=analyst).json()
    assert {c["code"]: c["balance_fen"] for c in funds["counties"]} == {"A4": -8_000_000_00, "B4": 8_000_000_00}
    tpl = client.get(f"/api/compensation/basins/{ids['basin']}/template.csv?year=2027", headers=analyst)
    assert tpl.status_code == 200 and tpl.text.count("\n") == 1 + 5 * 12 + 1
    bad = client.post("/api/compensation/observations", headers=office, json={"rows": [
        {"section": "P1", "period": "2027-01", "parameter": "tp", "value": "-1", "unit": "mg/L"}]})
    assert bad.status_code == 422 and bad.json()["problems"][0]["where"] == "row 1, value"


# -- the property: money moves only by outside money -------------------------------------------------------------

class Settling(RuleBasedStateMachine):
    """Imports of whole months and closings (with gaps accepted or not) in any order: the counties' balances add
    up to the outside money of the closed years, every closed year's pool is empty, an open year's pool holds
    nothing, and every closed settlement recomputes to the same figures."""

    platform: ClassVar[Platform]
    ids: ClassVar[dict[str, int]] = {}
    sections: ClassVar[list[tuple[str, str, int]]] = []  # code, scheme version, first year

    @rule(k=st.integers(0, 1), year_offset=st.integers(0, 1), month=st.integers(1, 12),
          ratio=st.sampled_from(["0.8", "0.9", "1.0", "1.1", "1.2"]))
    def import_month(self, k: int, year_offset: int, month: int, ratio: str) -> None:
        code, version, first = self.sections[k]
        year = first + year_offset
        rows = [r for r in rows_for(code, year, ratio) if r["period"] in (f"{year}-{month:02d}", str(year))]
        if not version.startswith("oujiang"):
            rows = [r for r in rows if r["parameter"] in ("codmn", "nh3n", "tp", "tn")]
        # a closed year, or a value that contradicts a stored one: refused whole
        with unit_of_work(self.platform.factory) as s, contextlib.suppress(Conflict, FileError):  # type: ignore[arg-type]
            service.import_observations(s, rows, OFFICE)

    @rule(k=st.integers(0, 1), year_offset=st.integers(0, 1), accept=st.booleans())
    def close(self, k: int, year_offset: int, accept: bool) -> None:
        code, _version, first = self.sections[k]
        with unit_of_work(self.platform.factory) as s, contextlib.suppress(Conflict, InputError):  # type: ignore[arg-type]
            service.close(s, self.ids[code], first + year_offset, OFFICE, accept, "accepted" if accept else "")

    @invariant()
    def money_moves_only_by_outside_money(self) -> None:
        with unit_of_work(self.platform.factory) as s:  # type: ignore[arg-type]
            closed = list(s.scalars(select(Settlement).where(Settlement.state == "closed",
                                                             Settlement.agreement_id.in_(self.agreement_ids()))))
            outside = sum(s.get(Agreement, c.agreement_id).external_fen for c in closed)  # type: ignore[union-attr]
            counties = sum(balance(s, f"compensation:county:{c}") for c in ("A5", "B5", "C5"))
            assert counties == outside
            for c in closed:
                assert balance(s, f"compensation:pool:{c.agreement_id}:{c.year}") == 0
                assert c.upstream_fen + c.downstream_fen == 2 * c.amount_fen + s.get(
                    Agreement, c.agreement_id).external_fen  # type: ignore[union-attr]
                assert service.recompute(s, c.id)["matches"]

    def agreement_ids(self) -> list[int]:
        return [self.ids[c] for c, _v, _f in self.sections]


def test_the_counties_accounts_move_only_by_outside_money(platform: Platform) -> None:
    Settling.platform = platform
    Settling.ids = basin_with(platform, "b5", [("M1", "A5", "B5", "II", "oujiang-r3-2024"),
                                               ("M2", "B5", "C5", "III", "xinan-r1-2012")])
    Settling.sections = [("M1", "oujiang-r3-2024", 2024), ("M2", "xinan-r1-2012", 2012)]
    run = Settling.TestCase
    run.settings = settings(max_examples=10, stateful_step_count=14, deadline=None,
                            suppress_health_check=list(HealthCheck))
    run().runTest()


# -- damage ----------------------------------------------------------------------------------------------------------

def wgs84(geom: shapely.Geometry) -> dict[str, Any]:
    import geopandas as gpd

    from gep.testing import ALBERS
    return shapely.geometry.mapping(gpd.GeoSeries([geom], crs=ALBERS).to_crs("EPSG:4326").iloc[0])


def case_request(p: Platform, **more: Any) -> damage_service.CaseRequest:
    base: dict[str, Any] = {"title": "毁林", "region_id": p.region_id, "geometry": wgs84(pixel_box(0, 3, 0, 3)),
                            "occurred_on": date(2025, 5, 1), "from_ecosystem": "forest", "to_ecosystem": "bare",
                            "recovery_years": 4, "path": "linear", "discount_rate": Decimal("0.05"),
                            "items": [{"name": "石料", "yuan": "1000", "source": "鉴定意见"}]}
    return damage_service.CaseRequest(**{**base, **more})


def test_a_damage_case_by_hand_on_the_tiny_region(platform: Platform) -> None:
    """Rows 0–2, columns 0–2: six forest pixels (1 ha each) and three of cropland and built-up land, which keep
    their value. After: each of the six is valued at the one bare-land pixel (row 5, column 2) of the county.
    The yearly loss, linear over 4 years (unrecovered 0.875, 0.625, 0.375, 0.125) at 5 %, plus 1,000 yuan."""
    with rasterio.open(platform.accounts / "value_density_2019.tif") as src:
        bands = src.read().astype(np.float64)
        names = [d.removesuffix(" (yuan/ha)") for d in src.descriptions]
    # the engine's new per-indicator bands add up to the category bands
    for k, cat in enumerate(("material", "regulating", "cultural"), start=1):
        subs = [i for i, n in enumerate(names) if ":" in n and _category(n) == cat]
        if subs:
            assert np.allclose(np.nansum(bands[subs], axis=0), np.nan_to_num(bands[k]), rtol=1e-5, atol=1e-3)
    forest = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    yearly = 0.0
    for k in (1, 2, 3):
        before = sum(bands[k][r, c] for r, c in forest)
        after = 6 * bands[k][5, 2]
        yearly += before - after
    shares = [0.875, 0.625, 0.375, 0.125]
    expected = sum(yearly * sh / 1.05 ** t for t, sh in enumerate(shares, start=1)) + 1000
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        case = damage_service.open_case(s, case_request(platform), OFFICE)
        r = case.result
        assert (r["pixels"], r["changed_pixels"], r["changed_ha"], r["reference_pixels"]) == (9, 6, 6.0, 1)
        assert r["yearly_loss_yuan"] == pytest.approx(yearly, rel=1e-9)
        assert abs(case.total_fen - round(expected * 100)) <= 1
        assert case.code == "DMG-2025-0001" and case.state == "valued"
        assert damage_service.recompute_case(s, case.id)["matches"]
        case_id = case.id
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        for lang in ("zh", "en"):
            _case, pdf = damage_service.claim_pdf(s, case_id, lang)
            assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def _category(band: str) -> str:
    from gep.accounting.indicators import REGISTRY
    return REGISTRY[band.split(":")[0]].SPEC.category


def test_carbon_retired_for_a_case_counts_once(platform: Platform) -> None:
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        case = damage_service.open_case(s, case_request(platform, carbon_price_fen=1_000_000_000), OFFICE)
        need = case.result["carbon_tonnes"]
        code = case.code
    event = Event(1, handlers.UNITS_RETIRED, {"purpose": "court", "detail": f"（2025）浙1121刑初1号，{code}",
                                              "retirement": "RT-1", "quantity": need, "on": "2025-08-01"},
                  None, datetime.now(UTC))
    for _ in range(2):  # delivered twice
        with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
            handlers.units_retired(s, event)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        row = damage_service.cases(s)[0]
        assert row.code == code and len(row.retirements) == 1 and row.state == "remedied"


@pytest.mark.parametrize(("change", "message"), [
    ({"geometry": {"type": "Point", "coordinates": [120, 28]}}, "not a GeoJSON polygon"),
    ({"geometry": {"type": "Polygon", "coordinates": [[[60, 30], [60.01, 30], [60.01, 30.01], [60, 30]]]}},
     "outside the region"),
    ({"from_ecosystem": "wetland", "geometry": None}, "no pixel inside the area is of ecosystem type wetland"),
    ({"from_ecosystem": "jungle"}, "unknown ecosystem 'jungle'"),
    ({"occurred_on": date(2999, 1, 1)}, "in the future"),
    ({"items": [{"name": "x", "yuan": "-1", "source": "y"}]}, "item 1"),
    ({"price_year": 1995}, "price index of run"),
])
def test_bad_damage_cases_are_refused_with_a_reason(platform: Platform, change: dict[str, Any],
                                                    message: str) -> None:
    if change.get("geometry", 1) is None:
        change = {**change, "geometry": wgs84(pixel_box(0, 2, 0, 2))}
    with unit_of_work(platform.factory) as s, pytest.raises(InputError, match=message):  # type: ignore[arg-type]
        damage_service.valuate(s, case_request(platform, **change))


def test_the_ecosystem_names_cover_groups_and_types() -> None:
    assert damage.ecosystem_ids("bare") == ("bare_land",)
    assert "mixed_forest" in damage.ecosystem_ids("forest")
    assert rules.PARAMETERS["flow"].better == "higher"
