"""Demo seeding: the indicator sets installed, the assessment office and the statistics bureau tied to their
departments, labelled synthetic values for 2019–2021 from every providing department (the statistics bureau's
through its own reporter; a few submitted late or corrected, so the departments' own assessment has something
to measure), the counties' and departments' score sheets for 2020 and 2021 from the demo's two following years
of accounts, and 2020 published (its colour codes and score cards public); reward rounds for 2020 paid through
the ledger and 2021 drafts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import shapely
from shapely.geometry import box, mapping, shape
from sqlalchemy import func, select

from gep.assessment import pilot_tasks, projects, publication, rewards, rules, service, tenure
from gep.assessment.models import ScoreSheet
from gep.db import unit_of_work
from gep.errors import InputError
from gep.kit.domain import SeedContext
from gep.kit.principal import ALL, Principal
from gep.regions import service as regions

OFFICE = "丽水市考核办（演示）"
STATISTICS = "丽水市统计局（演示）"
COUNTY_SET, DEPARTMENT_SET = "county-2021", "department-2021"
# plausible ranges of the synthetic values by indicator (low, high, decimals); growing ones drift up each year
RANGES = {"A1.2": (60, 150, 0), "A1.3": (12, 35, 1), "A2.1": (74, 84, 1), "B5.1": (90, 100, 1),
          "B5.2": (94, 99.5, 1), "B6.1": (88, 99, 1), "C1.1": (8, 30, 0), "C2.2": (300, 1500, 1),
          "D1.2": (3, 9, 1), "D2.1": (10, 40, 1), "D2.2": (1.2, 3.5, 2), "E1.1": (4, 15, 0), "E3.1": (10, 60, 2),
          "E4.1": (200, 900, 1), "E5.1": (80, 100, 1), "Q1.1": (60, 100, 1), "R1.1": (0, 8, 0)}
GROWING = {"C2.2": 0.06, "E3.1": 0.15, "A1.2": 0.08}
LATE = {2021: {"rmyh", "wglt"}}  # departments whose 2021 data came after the deadline (synthetic)
CORRECTED = {2021: [("nyncj", "A1.3"), ("nyncj", "C1.1")]}  # first values corrected a week later (synthetic)


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    users: dict[str, int] = ctx.shared.get("users", {})
    with unit_of_work(ctx.factory) as s:
        service.install(s)
        rewards.install_policies(s)
        if region_id is None:
            return
        if s.scalar(select(func.count()).select_from(ScoreSheet)):
            ctx.say("assessment: there already")
            return
    office = Principal(users.get("assessor"), OFFICE, "demo", orgs.get(OFFICE), frozenset({ALL}), "system",
                       party=OFFICE)
    reporter = Principal(users.get("statistics"), STATISTICS, "department_reporter", orgs.get(STATISTICS),
                         frozenset({service.SUBMIT, service.READ}), "system", party=STATISTICS)
    with unit_of_work(ctx.factory) as s:
        if orgs.get(OFFICE):
            service.link_department(s, "khb", orgs[OFFICE], office)
        if orgs.get(STATISTICS):
            service.link_department(s, "tjj", orgs[STATISTICS], office)
    rng = np.random.default_rng(ctx.seed + 21)
    with unit_of_work(ctx.factory) as s:
        county_set, dep_set = service.indicator_set(s, COUNTY_SET), service.indicator_set(s, DEPARTMENT_SET)
        counties = sorted(service.units(s, county_set, region_id))
        departments = sorted(service.units(s, dep_set, region_id))
    base = {(u, code): _draw(rng, code) for code in RANGES for u in counties + departments}
    stored = 0
    for year in (2019, 2020, 2021):
        for s_, units in ((county_set, counties), (dep_set, departments)):
            by_dep: dict[str, list[dict[str, str]]] = {}
            for ind in s_.indicators:
                if not ind.submitted:
                    continue
                for u in units:
                    by_dep.setdefault(ind.provider, []).append(
                        {"unit_code": u, "indicator": ind.code, "unit": ind.unit,
                         "value": _value(rng, ind, base[(u, ind.code)], year)})
            for dep, rows in sorted(by_dep.items()):
                late = dep in LATE.get(year, set())
                at = datetime(year + 1, 4 if late else 3, 20 if late else 10 + len(dep) % 15, 10, 0,
                              tzinfo=service.CHINA)
                who = reporter if dep == "tjj" else office
                with unit_of_work(ctx.factory) as s:
                    stored += service.submit(s, s_.version, year, region_id, rows, who,
                                             f"demo_{s_.code}_{year}_{dep}.xlsx", synthetic=True, at=at).stored
                for dep_code, code in CORRECTED.get(year, []) if s_.kind == "county" else []:
                    if dep_code != dep:
                        continue
                    fixes = [{**r, "value": _nudged(r["value"])} for r in rows if r["indicator"] == code][:3]
                    with unit_of_work(ctx.factory) as s:
                        stored += service.submit(s, s_.version, year, region_id, fixes, office,
                                                 f"demo_correction_{year}_{dep}.xlsx", synthetic=True,
                                                 at=at + timedelta(days=7)).stored
    colours: dict[int, dict[str, int]] = {}
    for year in (2020, 2021):
        for version in (COUNTY_SET, DEPARTMENT_SET):
            with unit_of_work(ctx.factory) as s:
                sheet = service.compute(s, version, region_id, year, office, synthetic=True)
                if year == 2020:
                    service.publish(s, sheet.id, office)
                if version == COUNTY_SET:
                    colours[year] = {c: sum(u["colour"] == c for u in sheet.body["units"]) for c in rules.COLOURS}
    ctx.say(f"assessment: {stored:,} synthetic values from {len(set(i.provider for i in county_set.indicators))} "
            f"departments; counties' colours 2020 {colours[2020]}, 2021 {colours[2021]}; 2020 published")
    _rewards(ctx, region_id, office)
    _projects(ctx, region_id, office)
    _publish(ctx, region_id, users)
    _audit(ctx, region_id, office)
    _tasks(ctx, office)


# (task, owner, deadline, how far by the demo's day): labelled synthetic tasks of the pilot work
TASKS = [("完善GEP核算技术规范并每年发布核算结果", "fgw", "2021-06-30", "done"),
         ("建立GEP综合考评制度并纳入综合考核", "khb", "2021-12-31", "done"),
         ("两山合作社县域全覆盖", "fgw", "2022-06-30", "done"),
         ("生态信用正负面清单修订", "fgw", "2023-12-31", "in_progress"),
         ("'丽水山耕'品牌授权产品扩面", "nyncj", "2024-12-31", "in_progress"),
         ("松材线虫病疫区除治", "lyj", "2024-10-31", "open"),
         ("瓯江流域横向补偿协议续签", "czj", "2024-03-31", "done"),
         ("生态贷款余额年增长", "rmyh", "2025-12-31", "in_progress"),
         ("GEP进规划：国土空间规划评估", "zrzy", "2025-06-30", "open"),
         ("负面清单年度评估", "jxj", "2027-06-30", "open")]


def _tasks(ctx: SeedContext, office: Principal) -> None:
    from datetime import date

    with unit_of_work(ctx.factory) as s:
        for title, dep, deadline, how in TASKS:
            row = pilot_tasks.create(s, title + "（演示）", dep, date.fromisoformat(deadline), office, synthetic=True)
            if how != "open":
                pilot_tasks.move(s, row.id, how, office, on=row.deadline if how == "done" else None)
        rows = pilot_tasks.tasks(s)
        late = sum(pilot_tasks.view(t)["overdue"] for t in rows)
    ctx.say(f"pilot tasks: {len(rows)} synthetic, {late} overdue")


def _audit(ctx: SeedContext, region_id: int, office: Principal) -> None:
    """One tenure audit: 龙泉市 over a term from 2019 to 2021 (a fictitious leader, synthetic data)."""
    from datetime import date

    with unit_of_work(ctx.factory) as s:
        counties = {z.name: z.code for z in regions.zones(s, region_id, "county")}
        if "龙泉市" not in counties:
            return
        try:
            row = tenure.create(s, region_id, counties["龙泉市"], date(2019, 3, 1), date(2021, 12, 31),
                                "龙泉市某领导干部（演示）", office, synthetic=True)
        except InputError:
            return
        total = next(g for g in row.result["gep"] if g["key"] == "gep")
        ctx.say(f"tenure audit {row.code}: 龙泉市 2019–2021, GEP {total['change_pct']:+.2f} % at constant prices, "
                f"{len(row.result['fell'])} indicators fell, {len(row.result['events'])} events")


def _publish(ctx: SeedContext, region_id: int, users: dict[str, int]) -> None:
    """The analyst publishes the accounts of 2019 and 2020; 2021 is left for them to publish."""
    analyst = Principal(users.get("analyst"), "analyst", "analyst", None, frozenset({publication.PUBLISH}), "system")
    with unit_of_work(ctx.factory) as s:
        runs = regions.latest_runs(s, region_id)
        done = [publication.publish(s, runs[y].id, analyst, "demo").year for y in (2019, 2020) if y in runs]
    ctx.say(f"public release: the accounts of {', '.join(map(str, done))} published")


# (area kind, county, how many of its townships, source note): labelled synthetic outlines made of whole townships
AREAS = [("red_line", "庆元县", 2, "synthetic: two townships of 庆元 standing in for a red line"),
         ("water_source", "莲都区", 1, "synthetic: a township of 莲都 standing in for a water-source area"),
         ("key_function", "遂昌县", 3, "synthetic: three townships of 遂昌 standing in for a key function area")]
# (name, proponent, industry, area kind it lies in, ecosystem now, after)
PROJECTS = [("某化工新材料项目（演示）", "某化工企业（演示）", "C26", "red_line", "forest", "urban"),
            ("某森林康养旅游项目（演示）", "某文旅企业（演示）", "R", "key_function", "forest", "grassland")]


def _projects(ctx: SeedContext, region_id: int, office: Principal) -> None:
    """Synthetic listed areas made of whole townships, and two project checks: a chemical plant in the red line
    (refused) and a forest wellness resort in a key function area (allowed with conditions)."""
    with unit_of_work(ctx.factory) as s:
        counties = {z.name: z.code for z in regions.zones(s, region_id, "county")}
        features = []
        for kind, county, n, note in AREAS:
            if county not in counties:
                continue
            towns = regions.zones(s, region_id, "township", counties[county])[:n]
            geom = shapely.union_all([shape(json.loads(t.geometry)) for t in towns if t.geometry])
            features.append({"type": "Feature", "geometry": mapping(geom),
                             "properties": {"kind": kind, "name": f"{'、'.join(t.name for t in towns)}（演示）",
                                            "source": note}})
        if not features:
            return
        made = projects.import_areas(s, {"type": "FeatureCollection", "features": features}, region_id, office,
                                     "demo_areas.geojson", synthetic=True)
        inside = {a.kind: shape(a.geometry) for a in made}
    said = []
    for name, proponent, industry, kind, now_, after in PROJECTS:
        if kind not in inside:
            continue
        centre = inside[kind].representative_point()
        for half in (0.01, 0.02, 0.04):  # a square around a point inside the area, larger until it holds forest
            square = box(centre.x - half, centre.y - half, centre.x + half, centre.y + half)
            try:
                with unit_of_work(ctx.factory) as s:
                    row = projects.check(s, projects.ProjectRequest(name, industry, region_id, mapping(square), now_,
                                                                    after, proponent), office, synthetic=True)
                    said.append(f"{row.code} {industry} {row.verdict} ({row.rule_id}), GEP "
                                f"{(row.gep_change_yuan or 0) / 1e4:,.1f} 万元/yr")
                break
            except InputError:
                continue
    ctx.say(f"projects: {len(inside)} synthetic listed areas; " + "; ".join(said))


def _rewards(ctx: SeedContext, region_id: int, office: Principal) -> None:
    """2020 paid: the GEP-increment reward to the townships and the reward by the published assessment's rank;
    2021 left as drafts (the increment reward and the purchase of regulating services) for the office to approve."""
    said = []
    for version, year, approve in (("gep-increment-2019", 2020, True), ("assessment-rank-2021", 2020, True),
                                   ("gep-increment-2019", 2021, False), ("regulating-purchase-2020", 2021, False)):
        with unit_of_work(ctx.factory) as s:
            row = rewards.compute_round(s, version, region_id, year, office, synthetic=True)
            if approve:
                rewards.approve(s, row.id, office)
            said.append(f"{version} {year}: {row.body['rewarded']} zones, {row.total_fen / 100:,.2f} yuan"
                        f"{' (budget binding)' if row.body['binding'] else ''}{' paid' if approve else ' draft'}")
    ctx.say("rewards: " + "; ".join(said))


def _draw(rng: np.random.Generator, code: str) -> float:
    low, high, _ = RANGES[code]
    return float(rng.uniform(low, high))


def _value(rng: np.random.Generator, ind: rules.Indicator, base: float, year: int) -> str:
    places = RANGES.get(ind.code, (0, 100, 1))[2]
    drift = (1 + GROWING.get(ind.code, 0.0)) ** (year - 2019)
    v = base * drift * (1 + float(rng.normal(0, 0.02)))
    if ind.high is not None:
        v = min(v, float(ind.high))
    if ind.unit == "%" and ind.code not in ("D1.2",):
        v = min(v, 100.0)
    return f"{max(v, 0.0):.{places}f}"


def _nudged(value: str) -> str:
    places = len(value.split(".")[1]) if "." in value else 0
    return f"{float(value) * 1.05:.{places}f}"
