"""Parcel files in: a good file lands whole; each kind of malformed file is refused with every problem named by
feature and field, and nothing is stored; the same file is not imported twice."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import func, select

from gep.db import unit_of_work
from gep.errors import Conflict, FileError
from gep.regions import service as regions
from gep.registry import importer, service
from gep.registry.models import Holder, Parcel, RegistryEvent, Right
from gep.testing import ALBERS
from registry_fixtures import CLERK, Platform, build, one_parcel, parcel_frame, pixel_box

BOWTIE = shapely.Polygon([(500_010, 3_099_990), (500_090, 3_099_910), (500_090, 3_099_990), (500_010, 3_099_910)])


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    tmp = tmp_path_factory.mktemp("import")
    p = build(f"sqlite:///{tmp / 'gep.db'}", tmp, with_accounts=False)
    one_parcel(p, pixel_box(5, 6, 6, 8), "ALREADY")  # a registered parcel (and certificate CERT-ALREADY)
    return p


def _counts(p: Platform) -> tuple[int, int, int, int]:
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Parcel, Right, RegistryEvent, Holder))


def _import(p: Platform, path: Path) -> importer.Result:
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        return importer.import_file(s, regions.get_region(s, p.region_id), path, path.name, CLERK)


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, driver="GPKG" if path.suffix == ".gpkg" else "GeoJSON")
    return path


GOOD = [{"geometry": pixel_box(0, 1, 0, 1)}, {"geometry": pixel_box(0, 1, 1, 2), "holder_id": "11010519491231002X"},
        {"geometry": pixel_box(1, 2, 0, 1), "kind": "homestead", "right_type": "use"},
        {"geometry": pixel_box(1, 2, 1, 2), "kind": "public_welfare_forest", "annual_compensation_yuan": 470}]


def test_a_good_file_lands_whole_and_only_once(platform: Platform, tmp_path: Path) -> None:
    before = _counts(platform)
    path = _write(parcel_frame(GOOD).to_crs(4326), tmp_path / "good.geojson")  # in WGS84: reprojected on the way
    result = _import(platform, path)
    assert (result.parcels, result.rights) == (4, 4)
    after = _counts(platform)
    assert after[0] - before[0] == 4 and after[1] - before[1] == 4 and after[2] - before[2] == 8
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        p = s.scalar(select(Parcel).where(Parcel.code == "P001"))
        assert p.village_code == "100101001001" and p.township_code == "100101001"
        assert p.area_m2 == pytest.approx(10_000.0, rel=1e-6)
        forest = s.scalar(select(Parcel).where(Parcel.code == "P004"))
        assert forest.attributes == {"annual_compensation_yuan": 470.0}
        holder = s.scalar(select(Holder).where(Holder.name == "户主2"))
        assert holder.id_masked == "110*************2X" and "11010519491231002X" not in (holder.id_digest or "")
        assert service.projected_state(s, platform.region_id) == service.replay_state(s, platform.region_id)
    with pytest.raises(Conflict, match="imported already"):
        _import(platform, path)
    assert _counts(platform) == after


def _gpkg(features: list[dict], tmp: Path, crs: str | None = ALBERS) -> Path:
    return _write(parcel_frame(features, crs), tmp / "parcels.gpkg")


def _zip_shapefile(tmp: Path) -> Path:
    folder = tmp / "shp"
    folder.mkdir()
    parcel_frame([{"geometry": pixel_box(2, 3, 4, 5), "parcel_code": "Z1", "certificate_no": "ZIP-1"},
                  {"geometry": pixel_box(2, 3, 4, 5), "parcel_code": "Z2", "certificate_no": "ZIP-2"}]
                 ).to_file(folder / "parcels.shp")
    path = tmp / "parcels.zip"
    with zipfile.ZipFile(path, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    return path


OK = {"geometry": pixel_box(2, 3, 0, 1)}
CASES: list[tuple[str, Callable[[Path], Path], str, str]] = [
    ("not a vector file", lambda t: (t / "x.gpkg").write_bytes(b"this is not a geopackage") and t / "x.gpkg",
     "the file", "cannot be read"),
    ("no features", lambda t: _write(parcel_frame([OK]).iloc[0:0], t / "empty.gpkg"), "the file", "no features"),
    ("a required column missing", lambda t: _write(parcel_frame([OK]).drop(columns=["certificate_no"]),
                                                   t / "cols.gpkg"), "the file", "certificate_no"),
    ("no CRS", lambda t: _gpkg([OK], t, crs=None), "the file", "coordinate reference system"),
    ("an unknown kind", lambda t: _gpkg([{**OK, "kind": "bamboo_grove"}], t), "field kind", "not a parcel kind"),
    ("an empty geometry", lambda t: _gpkg([{**OK, "geometry": shapely.Polygon()}], t), "field geometry", "empty"),
    ("a self-intersecting geometry", lambda t: _gpkg([{**OK, "geometry": BOWTIE}], t), "field geometry",
     "not valid"),
    ("a point for forest land", lambda t: _gpkg([{**OK, "geometry": shapely.Point(500_150, 3_099_750)}], t),
     "field geometry", "Point"),
    ("outside the region",
     lambda t: _gpkg([{**OK, "geometry": shapely.box(600_000, 3_000_000, 600_100, 3_000_100)}], t),
     "field geometry", "outside the region"),
    ("a parcel code twice", lambda t: _gpkg([OK, {"geometry": pixel_box(2, 3, 1, 2), "parcel_code": "P001"}], t),
     "feature 2 (P001), field parcel_code", "repeats feature 1"),
    ("a certificate twice", lambda t: _gpkg([OK, {"geometry": pixel_box(2, 3, 1, 2),
                                                  "certificate_no": "浙(2019)测试林权第0000001号"}], t),
     "feature 2 (P002), field certificate_no", "repeats feature 1"),
    ("a code registered already", lambda t: _gpkg([{**OK, "parcel_code": "ALREADY"}], t), "field parcel_code",
     "registered already"),
    ("a certificate registered already", lambda t: _gpkg([{**OK, "certificate_no": "CERT-ALREADY"}], t),
     "field certificate_no", "registered already"),
    ("a term that ends before it starts", lambda t: _gpkg([{**OK, "term_start": "2030-01-01",
                                                           "term_end": "2020-01-01"}], t),
     "field term_end", "must end after it starts"),
    ("a date that is not a date", lambda t: _gpkg([{**OK, "term_start": "31/12/2019"}], t), "field term_start",
     "not a date"),
    ("two parcels of one kind overlapping", lambda t: _gpkg([OK, {"geometry": pixel_box(2, 3, 0, 1).buffer(-20)}], t),
     "feature 2 (P002), field geometry", "overlaps feature 1"),
    ("overlapping a registered parcel", lambda t: _gpkg([{**OK, "geometry": pixel_box(5, 6, 6, 7)}], t),
     "field geometry", "overlaps the registered parcel ALREADY"),
    ("an unknown kind of holder", lambda t: _gpkg([{**OK, "holder_kind": "household"}], t), "field holder_kind",
     "not a kind of holder"),
    ("no holder name", lambda t: _gpkg([{**OK, "holder_name": ""}], t), "field holder_name", "empty"),
    ("an identity number that fails its check", lambda t: _gpkg([{**OK, "holder_id": "110105194912310021"}], t),
     "field holder_id", "not a valid citizen identity number"),
    ("a negative compensation", lambda t: _gpkg([{**OK, "annual_compensation_yuan": -5}], t),
     "field annual_compensation_yuan", "at least 0"),
    ("a contract right on a homestead", lambda t: _gpkg([{**OK, "kind": "homestead"}], t), "field right_type",
     "cannot carry"),
    ("a zipped Shapefile with an overlap", _zip_shapefile, "feature 2 (Z2), field geometry", "overlaps feature 1"),
]


@pytest.mark.parametrize(("case", "make", "where", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_file_is_refused_naming_feature_and_field(platform: Platform, tmp_path: Path, case: str,
                                                               make: Callable[[Path], Path], where: str,
                                                               message: str) -> None:
    before = _counts(platform)
    path = make(tmp_path)
    with pytest.raises(FileError) as info:
        _import(platform, path)
    found = [str(p) for p in info.value.problems]
    assert any(where in p and message in p for p in found), found
    assert _counts(platform) == before  # nothing stored


def test_every_problem_of_a_file_is_reported_at_once(platform: Platform, tmp_path: Path) -> None:
    path = _gpkg([{**OK, "kind": "bamboo"}, {"geometry": pixel_box(2, 3, 1, 2), "holder_kind": "x",
                                             "term_end": "someday"}, {"geometry": BOWTIE}], tmp_path)
    with pytest.raises(FileError) as info:
        _import(platform, path)
    places = {p.place() for p in info.value.problems}
    assert {"feature 1 (P001), field kind", "feature 2 (P002), field holder_kind", "feature 2 (P002), field term_end",
            "feature 3 (P003), field geometry"} <= places
