"""Demo seeding: labelled synthetic parcels, holders and rights over the demo's synthetic villages.

Seeded code, not data: every village gets forest land, farmland and a homestead (some public-welfare forest,
some idle houses) cut from a grid over its outline; every township a pond; every county river sections, a
sand and gravel deposit and water-take permits. Households have made-up names and identity numbers that pass
the national check digit but belong to no one; everything is marked synthetic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.db import unit_of_work
from gep.kit.audit import now
from gep.kit.domain import SeedContext
from gep.kit.principal import SYSTEM
from gep.regions import service as regions
from gep.registry import rules, service
from gep.registry.models import Holder, Parcel

SURNAMES = "叶吴周刘陈王李张毛雷蓝钟徐潘季朱何金杨林"
GIVEN = "建国春华秀英志明永强海林丽芳文军红梅金水德福根土美玲晓东"
CERTIFICATE = {"forest_land": "林权", "public_welfare_forest": "林权", "farmland": "土地经营权",
               "homestead": "不动产权", "idle_house": "不动产权", "reservoir_pond": "水域经营权",
               "river_section": "河道经营权", "sand_gravel": "采砂权", "water_take_permit": "取水许可"}
TERMS = {"contract": (date(2019, 1, 1), date(2048, 12, 31)), "management": (date(2020, 1, 1), date(2039, 12, 31)),
         "use": (date(2019, 1, 1), date(2068, 12, 31))}
COMPENSATION_YUAN_PER_HA = 470.0  # ≈ 4亿多元 / 85.24万 hm² a year (PLATFORM.md §4), for the synthetic demo only


def synthetic_id(rng: np.random.Generator, area_code: str) -> str:
    """A citizen identity number with a valid check digit that belongs to nobody (the order code is 9xx)."""
    born = date(int(rng.integers(1950, 1995)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    body = f"{area_code[:6]}{born:%Y%m%d}9{int(rng.integers(0, 100)):02d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2),
                                                             strict=True)) % 11]
    return body + check


def _cells(village: shapely.Geometry, n: int) -> list[shapely.Geometry]:
    """A grid of about n² cells over a village, clipped to it (pieces that do not overlap)."""
    minx, miny, maxx, maxy = village.bounds
    step = max(maxx - minx, maxy - miny) / n
    cells = []
    for i in range(n):
        for j in range(n):
            cell = shapely.box(minx + i * step, miny + j * step, minx + (i + 1) * step, miny + (j + 1) * step)
            piece = cell.intersection(village)
            if piece.area > 0.3 * step * step and piece.geom_type in ("Polygon", "MultiPolygon"):
                cells.append(piece.buffer(-3.0))  # a path between neighbours
    return [c for c in cells if not c.is_empty and c.is_valid]


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    if region_id is None:
        return
    rng = np.random.default_rng(ctx.seed)
    with unit_of_work(ctx.factory) as s:
        if s.scalar(select(func.count()).select_from(Parcel).where(Parcel.region_id == region_id)):
            ctx.say("registry: parcels are there already")
            return
        region = regions.get_region(s, region_id)
        index = service.zone_index(region)
        frame = regions.package_zones(region).frame
        specs: list[service.NewParcelSpec] = []
        counter = [0]

        def cert(kind: str, county: str) -> str:
            counter[0] += 1
            return f"浙(2019){county}{CERTIFICATE[kind]}第{counter[0]:07d}号"

        townships_done: set[str] = set()
        for village in frame.itertuples():
            vcode, county = str(village.village_code), str(village.county_code)
            households = [_holder(s, region_id, "person", rng.choice(list(SURNAMES))
                                  + "".join(rng.choice(list(GIVEN), 2)), synthetic_id(rng, county), vcode)
                          for _ in range(4)]
            collective = _holder(s, region_id, "collective", f"{village.village_name}股份经济合作社", "", vcode)
            s.flush()
            cells = _cells(village.geometry, 3)
            rng.shuffle(cells)
            plan = ["forest_land", "forest_land", "farmland", "homestead"]
            if rng.random() < 0.25:
                plan[1] = "public_welfare_forest"
            if rng.random() < 0.3:
                plan[3] = "idle_house"
            if str(village.township_code) not in townships_done:
                plan.append("reservoir_pond")
                townships_done.add(str(village.township_code))
            for k, (kind, cell) in enumerate(zip(plan, cells, strict=False)):
                geom = cell
                if kind in ("homestead", "idle_house"):
                    c = cell.representative_point()
                    geom = shapely.box(c.x - 12, c.y - 10, c.x + 12, c.y + 10)
                owner = collective if kind == "reservoir_pond" else households[k % len(households)]
                right_type = {"reservoir_pond": "management", "homestead": "use", "idle_house": "use"}.get(
                    kind, "contract")
                start, end = TERMS[right_type]
                attributes = {"annual_compensation_yuan": round(geom.area / 1e4 * COMPENSATION_YUAN_PER_HA, 2)} \
                    if kind == "public_welfare_forest" else {}
                specs.append(service.NewParcelSpec(
                    f"{vcode}-{k + 1:02d}", kind, geom,
                    (service.NewRightSpec(right_type, owner.id, cert(kind, county), start, end, "演示数据（合成）"),),
                    f"{village.village_name}{rules_label(kind)}", attributes, synthetic=True))
        specs += _county_specs(s, region_id, frame, rng, cert)
        service.register_many(s, region, specs, SYSTEM, index=index)
        ctx.shared["parcels"] = len(specs)
        ctx.say(f"registry: {len(specs)} synthetic parcels with their rights over {len(frame)} villages")


def _holder(s: Session, region_id: int, kind: str, name: str, id_number: str, village: str) -> Holder:
    """A synthetic holder, added without looking for a twin (the demo's are all new): fast for thousands."""
    holder = Holder(region_id=region_id, kind=kind, name=name, id_digest=service.id_digest(id_number),
                    id_masked=rules.mask_id(id_number) if id_number else "", village_code=village, synthetic=True,
                    created_at=now())
    s.add(holder)
    return holder


def rules_label(kind: str) -> str:
    return {"forest_land": "山林", "public_welfare_forest": "公益林", "farmland": "承包地", "homestead": "宅基地",
            "idle_house": "闲置农房", "reservoir_pond": "山塘"}.get(kind, "")


def _county_specs(s: Session, region_id: int, frame: gpd.GeoDataFrame, rng: np.random.Generator,
                  cert: Callable[[str, str], str]) -> list[service.NewParcelSpec]:
    """Per county: two river sections, a sand and gravel deposit and two water-take permits."""
    specs = []
    for county, group in frame.groupby("county_code"):
        union = shapely.union_all(group.geometry.to_numpy())
        c = union.representative_point()
        enterprise = service.find_or_add_holder(s, region_id, "organisation", f"{county}水电开发有限公司（演示）",
                                                "", synthetic=True)
        collective = service.find_or_add_holder(s, region_id, "collective", f"{county}河道经营合作社（演示）", "",
                                                synthetic=True)
        for k in range(2):
            strip = shapely.box(c.x - 1500 + 3200 * k, c.y - 40, c.x + 1500 + 3200 * k, c.y + 40).intersection(union)
            if strip.area > 0:
                specs.append(service.NewParcelSpec(f"{county}-R{k + 1}", "river_section", strip, (service.NewRightSpec(
                    "management", collective.id, cert("river_section", county), *TERMS["management"]),),
                    f"河段{k + 1}", synthetic=True))
        pit = shapely.box(c.x - 200, c.y + 400, c.x + 200, c.y + 700).intersection(union)
        if pit.area > 0:
            specs.append(service.NewParcelSpec(f"{county}-S1", "sand_gravel", pit, (service.NewRightSpec(
                "use", enterprise.id, cert("sand_gravel", county), *TERMS["use"]),), "砂石资源点", synthetic=True))
        for k in range(2):
            point = shapely.Point(c.x - 800 + 1600 * k, c.y - 600)
            if union.contains(point):
                specs.append(service.NewParcelSpec(
                    f"{county}-W{k + 1}", "water_take_permit", point, (service.NewRightSpec(
                        "use", enterprise.id, cert("water_take_permit", county), date(2024, 1, 1),
                        date(2028, 12, 31)),), f"取水口{k + 1}", {"water_volume_m3": float(rng.integers(1, 20)) * 1e6},
                    synthetic=True))
    return specs

