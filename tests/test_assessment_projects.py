"""GEP in projects on the tiny test region: listed areas imported (every bad feature named, nothing stored), a
chemical plant in the red line refused by the rule that applies, a project outside every listed area allowed, and
the GEP change of a project worked out independently from the accounts' value-density and ecosystem rasters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import mapping
from sqlalchemy import func, select

from gep.assessment import projects, service
from gep.assessment.models import ProtectedArea
from gep.db import unit_of_work
from gep.errors import FileError
from gep.kit.principal import Principal
from gep.testing import ALBERS
from registry_fixtures import CLASSES, Platform, build, pixel_box

OFFICE = Principal(None, "office", "assessor", None, frozenset({"*"}), "system")


def wgs84(geom: Any) -> dict[str, Any]:
    return mapping(gpd.GeoSeries([geom], crs=ALBERS).to_crs("EPSG:4326").iloc[0])


@pytest.fixture(scope="module")
def platform(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    p = build(empty_db, tmp_path_factory.mktemp("projects"))
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        service.install(s)
        projects.import_areas(s, {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": wgs84(pixel_box(0, 3, 0, 4)),
             "properties": {"kind": "red_line", "name": "红线A", "source": "test"}}]}, p.region_id, OFFICE)
    return p


def test_bad_area_files_are_refused_by_feature(platform: Platform) -> None:
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": wgs84(pixel_box(3, 6, 0, 4)), "properties": {"kind": "red_line", "name": "ok"}},
        {"type": "Feature", "geometry": wgs84(pixel_box(3, 6, 4, 8)), "properties": {"kind": "park", "name": "x"}},
        {"type": "Feature", "geometry": wgs84(pixel_box(0, 1, 0, 1)), "properties": {"kind": "red_line"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.6, 28.0]},
         "properties": {"kind": "red_line", "name": "a point"}},
        {"type": "Feature", "geometry": pixel_box(0, 1, 0, 1).__geo_interface__,  # metres, not degrees
         "properties": {"kind": "water_source", "name": "projected"}}]}
    with unit_of_work(platform.factory) as s, pytest.raises(FileError) as err:  # type: ignore[arg-type]
        projects.import_areas(s, bad, platform.region_id, OFFICE, "areas.geojson")
    got = {(p.params["n"], p.params["field"]) for p in err.value.problems}
    assert got == {(2, "kind"), (3, "name"), (4, "geometry"), (5, "geometry")}, got
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        assert s.scalar(select(func.count()).select_from(ProtectedArea)) == 1


def expected_change(p: Platform, rows: tuple[int, int], cols: tuple[int, int]) -> float:
    """Σ over the forest pixels of the box of (mean density of the urban pixels − the pixel's density) × 1 ha."""
    with rasterio.open(Path(p.accounts) / "value_density_2019.tif") as src:
        total = src.read(1).astype(np.float64)
    urban = CLASSES == 61
    forest = np.isin(CLASSES, [11, 12, 13])
    mean_urban = float(total[urban].mean())
    box = np.zeros(CLASSES.shape, dtype=bool)
    box[rows[0]:rows[1], cols[0]:cols[1]] = True
    picked = box & forest
    return float((mean_urban - total[picked]).sum()) * 1.0  # 100 m pixels: 1 ha each


def test_a_chemical_plant_in_the_red_line_is_refused(platform: Platform) -> None:
    req = projects.ProjectRequest("化工项目", "C26", platform.region_id, wgs84(pixel_box(0, 2, 0, 2)), "forest",
                                  "urban", "某公司")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        row = projects.check(s, req, OFFICE)
        assert (row.verdict, row.rule_id) == ("forbidden", "NL-02")  # C in a red line; no rule for C26 itself there
        assert row.code.startswith("PRJ-") and row.result["areas"][0]["name"] == "红线A"
        assert row.result["areas"][0]["overlap_ha"] == pytest.approx(4.0, rel=1e-6)
        gep = row.result["gep"]
    assert gep["changed_ha"] == pytest.approx(4.0)
    assert gep["change_yuan"] == pytest.approx(expected_change(platform, (0, 2), (0, 2)), rel=1e-9)
    assert sum(c["change_yuan"] for c in gep["categories"]) == pytest.approx(gep["change_yuan"], rel=1e-9)


def test_a_project_outside_every_listed_area_is_allowed(platform: Platform) -> None:
    req = projects.ProjectRequest("康养项目", "R", platform.region_id, wgs84(pixel_box(3, 5, 6, 8)), "forest",
                                  "grassland")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        result = projects.evaluate(s, req)
    assert result["decision"] == {"verdict": "allowed", "kind": "", "rule": None} and result["areas"] == []
    assert result["gep"]["changed_ha"] == pytest.approx(4.0)  # (3..5, 6..8): classes 11, 11, 11, 11


def test_the_registry_counts_its_events_in_a_zone_and_a_term(platform: Platform) -> None:
    from datetime import date, timedelta

    from gep.registry import service as registry
    from registry_fixtures import one_parcel

    one_parcel(platform, pixel_box(3, 4, 0, 1), "P-AUDIT-1")
    today = date.today()
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        day = timedelta(days=1)
        got = registry.events_in(s, platform.region_id, "100101002", today - day, today + day)
        assert sum(got.values()) == 2 and len(got) == 2  # the parcel registered, the right granted
        assert registry.events_in(s, platform.region_id, "100101001", today - timedelta(days=1),
                                  today + timedelta(days=1)) == {}  # the other township
        assert registry.events_in(s, platform.region_id, "100101", date(2019, 1, 1), date(2019, 12, 31)) == {}
