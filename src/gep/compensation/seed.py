"""Demo seeding: the Oujiang basin over the demo region's counties with 7 cross-county sections (placed on the
shared border of each pair), their third-round agreements (8 million yuan each), two years of labelled synthetic
monthly observations (2024 complete and settled; 2025 with one month missing, left open), and one damage case
(forest cleared for a quarry). Everything synthetic is labelled so."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import numpy as np
import shapely
from shapely.geometry import box, shape
from sqlalchemy import func, select

from gep.compensation import damage_service, service
from gep.compensation.models import Basin
from gep.db import unit_of_work
from gep.errors import InputError
from gep.kit.domain import SeedContext
from gep.kit.principal import ALL, Principal
from gep.regions import service as regions

OFFICE = "丽水市生态环境局（演示）"
# (upstream county name, downstream county name, river, water class, mean flow m³/s, cleanliness factor):
# below 1 the water handed down is cleaner than the baseline (synthetic, chosen to show every direction)
SECTIONS = [("龙泉市", "云和县", "瓯江（龙泉溪）", "II", 95.0, 0.82),
            ("云和县", "莲都区", "瓯江（大溪）", "II", 160.0, 0.97),
            ("莲都区", "青田县", "瓯江（大溪）", "III", 310.0, 1.12),
            ("遂昌县", "松阳县", "松阴溪", "II", 38.0, 0.78),
            ("松阳县", "莲都区", "松阴溪", "III", 55.0, 1.01),
            ("缙云县", "莲都区", "好溪", "III", 30.0, 1.18),
            ("景宁畲族自治县", "青田县", "小溪", "II", 70.0, 0.88)]
BASELINE = {"II": {"codmn": "2.0", "nh3n": "0.15", "tp": "0.05", "tn": "0.90"},
            "III": {"codmn": "3.5", "nh3n": "0.50", "tp": "0.10", "tn": "1.00"}}
SEASON = np.array([0.9, 0.9, 1.0, 1.05, 1.1, 1.2, 1.15, 1.1, 1.0, 0.95, 0.9, 0.9])  # summer runoff carries more
FLOW_SEASON = np.array([0.5, 0.6, 0.9, 1.2, 1.5, 2.1, 1.6, 1.0, 0.8, 0.7, 0.6, 0.5])


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    if region_id is None:
        return
    office = Principal(ctx.shared.get("users", {}).get("envofficer"), OFFICE, "demo", orgs.get(OFFICE),
                       frozenset({ALL}), "system", party=OFFICE)
    rng = np.random.default_rng(ctx.seed + 13)
    with unit_of_work(ctx.factory) as s:
        service.install_schemes(s)
        if s.scalar(select(func.count()).select_from(Basin)):
            ctx.say("compensation: there already")
            return
        counties = {z.name: z for z in regions.zones(s, region_id, "county")}
        wanted = {n for up, down, *_ in SECTIONS for n in (up, down)}
        if not wanted <= set(counties):
            ctx.say("compensation: the region has not the Oujiang counties; no basin seeded")
            return
        basin = service.create_basin(s, "oujiang", "瓯江流域（丽水段）", "oujiang", office, "Oujiang basin (Lishui)",
                                     region_id, synthetic=True)
        sections = []
        for k, (up, down, river, cls, _flow, _f) in enumerate(SECTIONS, start=1):
            lon, lat = _on_border(counties[up].geometry, counties[down].geometry)
            sec = service.add_section(s, basin.id, f"OJ{k:02d}", f"{up[:2]}—{down[:2]}交接断面", lon, lat,
                                      (counties[up].code, up), (counties[down].code, down), cls, office, river,
                                      synthetic=True)
            baseline = {**BASELINE[cls], "flow": f"{_flow:.1f}", "efficiency": "38.0"}
            service.sign_agreement(s, sec.id, "oujiang-r3-2024", baseline, office, signed_on=date(2024, 3, 1))
            sections.append(sec)
    rows = _observations(rng, sections)
    with unit_of_work(ctx.factory) as s:
        service.import_observations(s, rows, office, "demo_observations_2024_2025.csv", synthetic=True)
    with unit_of_work(ctx.factory) as s:
        done = service.close_year(s, basin.id, 2024, office)
    ctx.say(f"compensation: basin with {len(sections)} sections, {len(rows):,} synthetic observations, 2024 "
            f"settled ({len(done['closed'])} closed)")
    _damage_case(ctx, region_id, office)


def _on_border(up: str, down: str) -> tuple[float, float]:
    """A point on the border the two counties share (the middle of it), else between their centres."""
    a, b = shape(json.loads(up)), shape(json.loads(down))
    shared = a.buffer(0.002).intersection(b.buffer(0.002))
    point = shared.representative_point() if not shared.is_empty else shapely.LineString(
        [a.centroid, b.centroid]).interpolate(0.5, normalized=True)
    return round(point.x, 5), round(point.y, 5)


def _observations(rng: np.random.Generator, sections: list) -> list[dict[str, str]]:
    rows = []
    for k, sec in enumerate(sections):
        _up, _down, _river, cls, flow, factor = SECTIONS[k]
        base = {p: float(v) for p, v in BASELINE[cls].items()}
        for year, drift in ((2024, 1.0), (2025, 0.97)):
            for m in range(1, 13):
                if year == 2025 and k == 4 and m == 11:
                    continue  # a month the laboratory has not reported: the 2025 settlement waits for it
                for p, b in base.items():
                    v = b * factor * drift * SEASON[m - 1] * rng.lognormal(0, 0.08)
                    rows.append({"section": sec.code, "period": f"{year}-{m:02d}", "parameter": p,
                                 "value": f"{v:.3f}", "unit": "mg/L"})
                q = flow * FLOW_SEASON[m - 1] / FLOW_SEASON.mean() * (2 - factor) * rng.lognormal(0, 0.1)
                rows.append({"section": sec.code, "period": f"{year}-{m:02d}", "parameter": "flow",
                             "value": f"{q:.1f}", "unit": "m3/s"})
            e = 38.0 * (0.9 + 0.2 * rng.random()) * drift
            rows.append({"section": sec.code, "period": str(year), "parameter": "efficiency", "value": f"{e:.1f}",
                         "unit": "m3/万元"})
    return rows


def _damage_case(ctx: SeedContext, region_id: int, office: Principal) -> None:
    """Forest cleared for a quarry, about 12 ha (at least a few pixels of the demo's grid), in a Qingtian
    village whose map shows forest there."""
    with unit_of_work(ctx.factory) as s:
        runs = regions.latest_runs(s, region_id)
        if not runs:
            return
        run = runs[max(runs)]
        res = float((run.run_metadata or {}).get("grid", {}).get("resolution_m", 90.0))
        side_m = max(350.0, 2.6 * res)
        villages = [z for z in regions.zones(s, region_id, "village") if z.geometry]
        qingtian = [z for z in villages if z.code.startswith("331121")] or villages
        for z in qingtian[:: max(1, len(qingtian) // 12)][:12]:
            centre = shape(json.loads(z.geometry)).representative_point()
            dlat = side_m / 111_320
            dlon = dlat / np.cos(np.radians(centre.y))
            square = box(centre.x - dlon / 2, centre.y - dlat / 2, centre.x + dlon / 2, centre.y + dlat / 2)
            req = damage_service.CaseRequest(
                "非法采石毁林（演示）", region_id, shapely.geometry.mapping(square), date(2025, 6, 18), "forest",
                "bare", 10, "linear", [], Decimal("0.04"), None, None, "某石料有限公司（演示）",
                [{"name": "擅自开采的石料市场价值（演示）", "yuan": "120000", "source": "合成示例，仅供演示"}])
            try:
                with s.begin_nested():
                    case = damage_service.open_case(s, req, office, synthetic=True)
            except InputError:
                continue
            ctx.say(f"compensation: damage case {case.code}, {case.result['changed_ha']:.1f} ha, claim "
                    f"{case.total_fen / 100:,.2f} yuan")
            return
    ctx.say("compensation: no forest found for the demo damage case")



