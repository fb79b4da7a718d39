"""A small platform with a tiny region, its accounts and a registry, for the registry and cooperative tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box

from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit.principal import SYSTEM, Principal
from gep.migrations import upgrade
from gep.regions import service as regions
from gep.registry import service
from gep.testing import ALBERS, ORIGIN, TinyRegion, Village

RES = 100.0  # metres per pixel
# 6 rows x 8 columns: four villages of 3 x 4 pixels (two townships, one county)
CLASSES = np.array([[11, 11, 12, 12, 41, 42, 11, 11],
                    [11, 11, 12, 12, 41, 42, 11, 11],
                    [51, 51, 61, 61, 43, 44, 13, 13],
                    [11, 12, 13, 51, 52, 54, 11, 11],
                    [11, 12, 13, 51, 52, 54, 11, 11],
                    [21, 31, 71, 61, 44, 43, 12, 12]])
VILLAGES = [Village("100101001001", (0, 3), (0, 4)), Village("100101001002", (0, 3), (4, 8)),
            Village("100101002001", (3, 6), (0, 4), township="100101002"),
            Village("100101002002", (3, 6), (4, 8), township="100101002")]
CLERK = Principal(None, "clerk", "registry_clerk", None, frozenset({"registry.read", "registry.record",
                                                                    "registry.holders.read", "registry.lock"}),
                  "system")


def pixel_box(r0: int, r1: int, c0: int, c1: int) -> shapely.Polygon:
    """The rectangle covering rows r0:r1 and columns c0:c1 of the tiny region's grid (region CRS)."""
    x0, y0 = ORIGIN[0] + c0 * RES, ORIGIN[1] - r0 * RES
    return box(x0, ORIGIN[1] - r1 * RES, ORIGIN[0] + c1 * RES, y0)


def tiny_region(root: Path) -> Path:
    h, w = CLASSES.shape
    layers = {"precipitation": np.full((h, w), 1800.0), "evapotranspiration": np.full((h, w), 650.0),
              "npp": np.linspace(300, 700, h * w).reshape(h, w)}
    stats = [{"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 1200, "unit": "万元",
              "source": "test"},
             {"zone_code": "100101", "year": 2019, "item": "tourism.visitors", "value": 50000, "unit": "person-time",
              "source": "test"}]
    return TinyRegion(CLASSES, layers, villages=VILLAGES, statistics=stats, resolution=RES).write(root)


@dataclass
class Platform:
    url: str
    factory: object
    region_id: int
    package: Path
    accounts: Path


def build(url: str, tmp: Path, with_accounts: bool = True) -> Platform:
    """Migrate, import the tiny region, and (optionally) account it and register the accounts."""
    package = tiny_region(tmp / "tiny")
    upgrade(url)
    factory = session_factory(make_engine(url))
    with unit_of_work(factory) as s:
        region_id = regions.import_region(s, package, SYSTEM).id
    accounts = tmp / "accounts"
    if with_accounts:
        account(load_region(package), 2019).write(accounts, density=True)
        with unit_of_work(factory) as s:
            regions.register_accounts(s, region_id, accounts, SYSTEM)
    return Platform(url, factory, region_id, package, accounts)


def parcel_frame(features: list[dict], crs: str = ALBERS) -> gpd.GeoDataFrame:
    """A parcel file's features: defaults for every column, overridden per feature."""
    rows = []
    for i, f in enumerate(features, start=1):
        row = {"parcel_code": f"P{i:03d}", "kind": "forest_land", "right_type": "contract", "holder_name": f"户主{i}",
               "holder_kind": "person", "holder_id": "", "certificate_no": f"浙(2019)测试林权第{i:07d}号",
               "term_start": "2019-01-01", "term_end": "2048-12-31", "name": "", "source_document": "test"}
        row.update(f)
        rows.append(row)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def one_parcel(p: Platform, geom: shapely.Geometry, code: str, holder_name: str = "张三", kind: str = "forest_land",
               right_type: str = "contract") -> tuple[int, int]:
    """Register a parcel with one right; returns (parcel id, right id)."""
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        region = regions.get_region(s, p.region_id)
        parcel = service.register_parcel(s, region, code, kind, geom, CLERK)
        holder = service.find_or_add_holder(s, p.region_id, "person", holder_name, village_code=parcel.village_code)
        start, end = (None, None) if right_type == "ownership" else (date(2019, 1, 1), date(2048, 12, 31))
        right = service.grant(s, parcel.id, right_type, holder.id, f"CERT-{code}", CLERK, start, end)
        return parcel.id, right.id
