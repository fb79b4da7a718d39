"""A region's data from the browser: packages uploaded as a zip or file by file, a year added, the statistics
template downloaded and sent back, parameters overridden with their sources, and hostile uploads refused.

Each hostile upload gets a clear 4xx, nothing lands outside the data folder, and nothing is half-stored.
"""

from __future__ import annotations

import io
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from conftest import PASSWORD, bearer, served_app
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit.principal import SYSTEM
from gep.migrations import upgrade
from gep.testing import TinyRegion

CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
LAYERS = {"precipitation": np.full((2, 4), 2000.0), "evapotranspiration": np.full((2, 4), 700.0)}
STATS = [{"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 500, "unit": "万元",
          "source": "yearbook"}]


@pytest.fixture(scope="module")
def client(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with unit_of_work(session_factory(engine)) as s:
        county = auth.create_organisation(s, "某县自然资源局", "government", SYSTEM)
        other = auth.create_organisation(s, "另一县自然资源局", "government", SYSTEM)
        auth.create_user(s, "analyst", PASSWORD, "analyst", SYSTEM, organisation_id=county.id)
        auth.create_user(s, "stranger", PASSWORD, "analyst", SYSTEM, organisation_id=other.id)
        auth.create_user(s, "villager", PASSWORD, "villager", SYSTEM, organisation_id=county.id)
    engine.dispose()
    data = tmp_path_factory.mktemp("data")
    yield from served_app(empty_db, data)


def package(tmp: Path, name: str = "tiny", **kw: object) -> Path:
    return TinyRegion(CLASSES, LAYERS, statistics=STATS, **kw).write(tmp / name)  # type: ignore[arg-type]


def zipped(root: Path, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                z.write(p, prefix + str(p.relative_to(root)))
    return buf.getvalue()


def data_dir(client: object) -> Path:
    return Path(client.app.state.settings.data_dir)  # type: ignore[attr-defined]


def outside_files(client: object) -> set[str]:
    """Files in the data folder that are not in a region, a lock, the database or an export."""
    base = data_dir(client)
    return {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()
            and p.relative_to(base).parts[0] not in ("regions", "locks", "exports")}


@pytest.fixture(scope="module")
def region(client: object, tmp_path_factory: pytest.TempPathFactory) -> int:
    """The tiny region uploaded once as a zip (wrapped in a folder, as archivers do)."""
    body = zipped(package(tmp_path_factory.mktemp("pkg")), prefix="tiny/")
    r = client.post("/api/regions/uploads", files=[("files", ("tiny.zip", body, "application/zip"))],  # type: ignore[attr-defined]
                    headers=bearer(client, "analyst"))
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "tiny" and r.json()["years"] == [2019]
    return int(r.json()["id"])


def test_an_invalid_package_lists_its_problems_and_stores_nothing(client: object, region: int,
                                                                   tmp_path: Path) -> None:
    root = package(tmp_path, "bad", villages=None)
    text = (root / "region.toml").read_text(encoding="utf-8").replace('id = "tiny"', 'id = "other"')
    (root / "region.toml").write_text(text.replace("resolution = 100.0", "resolutoin = 100.0"), encoding="utf-8")
    before = outside_files(client)
    regions_before = set((data_dir(client) / "regions").iterdir())
    r = client.post("/api/regions/uploads", files=[("files", ("bad.zip", zipped(root), "application/zip"))],  # type: ignore[attr-defined]
                    headers={**bearer(client, "analyst"), "Accept-Language": "zh"})
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert any("resolutoin" in p["message"] and "是否应为 'resolution'" in p["message"] for p in problems), problems
    assert outside_files(client) == before and set((data_dir(client) / "regions").iterdir()) == regions_before


def test_files_one_by_one_make_a_region(client: object, tmp_path: Path) -> None:
    root = package(tmp_path, "loose")
    text = (root / "region.toml").read_text(encoding="utf-8").replace('id = "tiny"', 'id = "loose"')
    (root / "region.toml").write_text(text, encoding="utf-8")
    files = [("files", (str(p.relative_to(root)), p.read_bytes(), "application/octet-stream"))
             for p in sorted(root.rglob("*")) if p.is_file()]
    r = client.post("/api/regions/uploads", files=files, headers=bearer(client, "analyst"))  # type: ignore[attr-defined]
    assert r.status_code == 201, r.text and r.json()["code"] == "loose"


def test_a_year_is_added_by_uploading_its_files(client: object, region: int, tmp_path: Path) -> None:
    from gep.testing import write_raster

    tiny = TinyRegion(CLASSES, LAYERS)
    for name, value in (("precipitation", 1800.0), ("evapotranspiration", 650.0)):
        write_raster(tmp_path / f"{name}_2020.tif", np.full((2, 4), value, np.float32), tiny.transform, tiny.crs,
                     -9999.0)
    pkg = Path(client.get("/api/regions", headers=bearer(client, "analyst")).json()[0]["code"])  # type: ignore[attr-defined]
    assert str(pkg) == "tiny"
    manifest = next((data_dir(client) / "regions").glob("tiny-*")) / "region.toml"
    toml = manifest.read_text(encoding="utf-8").replace("years = [2019]", "years = [2019, 2020]")
    files = [("files", ("rasters/precipitation_2020.tif", (tmp_path / "precipitation_2020.tif").read_bytes(),
                        "image/tiff")),
             ("files", ("rasters/evapotranspiration_2020.tif",
                        (tmp_path / "evapotranspiration_2020.tif").read_bytes(), "image/tiff")),
             ("files", ("region.toml", toml.encode(), "text/plain"))]
    r = client.post(f"/api/regions/{region}/uploads", files=files[2:], headers=bearer(client, "analyst"))  # type: ignore[attr-defined]
    assert r.status_code == 422, r.text  # 2020 listed without its rasters: refused, and the old manifest is back
    assert "years = [2019]" in manifest.read_text(encoding="utf-8")
    r = client.post(f"/api/regions/{region}/uploads", files=files, headers=bearer(client, "analyst"))  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    assert r.json()["years"] == [2019, 2020]
    r = client.post(f"/api/regions/{region}/uploads", files=files, headers=bearer(client, "stranger"))  # type: ignore[attr-defined]
    assert r.status_code == 403


@pytest.mark.slow  # an accounting run and its report (9 s): CI runs it with the slow tests
def test_the_template_round_trip_and_an_override_reach_the_report(client: object, region: int,
                                                                  tmp_path: Path) -> None:
    h = bearer(client, "analyst")
    r = client.get(f"/api/regions/{region}/statistics/template", params={"year": 2019}, headers=h)  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.content.startswith(b"PK")
    path = tmp_path / "t.xlsx"
    path.write_bytes(r.content)
    up = client.post(f"/api/regions/{region}/statistics", data={"year": "2019"},  # type: ignore[attr-defined]
                     files={"file": ("t.xlsx", path.read_bytes(), "application/octet-stream")}, headers=h)
    assert up.status_code == 200, up.text
    assert (up.json()["added"], up.json()["unchanged"]) == (0, 1)
    assert "water_supply" in {m["indicator"] for m in up.json()["missing"]}
    book = openpyxl.load_workbook(path)
    ws = book["市 City"]
    col = next(c.column for c in ws[1] if str(c.value).startswith("water_supply.domestic ["))
    ws.cell(row=3, column=col).value = 2_000_000
    book.save(path)
    up = client.post(f"/api/regions/{region}/statistics", data={"year": "2019"},  # type: ignore[attr-defined]
                     files={"file": ("t.xlsx", path.read_bytes(), "application/octet-stream")}, headers=h)
    assert up.status_code == 200 and up.json()["added"] == 1, up.text
    body = {"value": 3.1, "unit": "yuan/m3", "year": 2019, "source": "某县物价局 2019 年水价通知"}
    r = client.put(f"/api/regions/{region}/parameters/water_supply.price_domestic", json=body, headers=h)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    row = next(p for p in r.json()["parameters"] if p["id"] == "water_supply.price_domestic")
    assert row["override"]["source"] == body["source"] and row["value"] == 2.6 and "白玛卓嘎" in row["source"]
    bad = client.put(f"/api/regions/{region}/parameters/water_supply.price_domestic",  # type: ignore[attr-defined]
                     json={**body, "unit": "yuan/t"}, headers=h)
    assert bad.status_code == 422 and "yuan/m3" in bad.text
    assert client.put(f"/api/regions/{region}/parameters/water_supply.price_domestic",  # type: ignore[attr-defined]
                      json={**body, "source": ""}, headers=h).status_code == 422
    assert client.put(f"/api/regions/{region}/parameters/water_supply.price_domestic", json=body,  # type: ignore[attr-defined]
                      headers=bearer(client, "villager")).status_code == 403
    run = client.post(f"/api/regions/{region}/runs", json={"year": 2019}, headers=h)  # type: ignore[attr-defined]
    assert run.status_code == 202, run.text
    done = wait_for(client, run.json()["id"], h)
    assert done["status"] == "succeeded", done
    html = client.get(f"/api/runs/{done['id']}/report/zh.html", headers=h).text  # type: ignore[attr-defined]
    assert "某县物价局 2019 年水价通知" in html
    city = client.get(f"/api/regions/{region}/zones/100100/accounts", headers=h).json()  # type: ignore[attr-defined]
    water = next(i for i in city["indicators"] if i["indicator"] == "water_supply")
    assert water["value_yuan"] == pytest.approx(2_000_000 * 3.1)
    r = client.delete(f"/api/regions/{region}/parameters/water_supply.price_domestic", headers=h)  # type: ignore[attr-defined]
    assert r.status_code == 200
    assert next(p for p in r.json()["parameters"] if p["id"] == "water_supply.price_domestic")["override"] is None


def wait_for(client: object, run_id: int, headers: dict[str, str]) -> dict:
    import time

    for _ in range(600):
        done = client.get(f"/api/runs/{run_id}", headers=headers).json()  # type: ignore[attr-defined]
        if done["status"] in ("succeeded", "failed", "cancelled"):
            return done
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {done}")


def _zip(members: list[tuple[str, bytes]], link: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


HOSTILE = {
    "zip slip": (_zip([("region.toml", b"x"), ("../../escaped.txt", b"owned")]), "leaves the package"),
    "absolute path": (_zip([("/tmp/escaped.txt", b"owned")]), "leaves the package"),
    "windows drive": (_zip([("C:/escaped.txt", b"owned")]), "leaves the package"),
    "symlink": (_zip([("region.toml", b"x")], link="rasters/link.tif"), "link or a special file"),
    "zip bomb": (_zip([("bomb.csv", b"0" * (64 << 20))]), "zip bomb"),
    "renamed file": (_zip([("region.toml", b"x"), ("rasters/x.tif", b"GIF89a....")]), "renamed?"),
    "wrong type": (_zip([("payload.exe", b"MZ")]), "do not belong in a region package"),
    "not a zip": (b"PK\x03\x04 not really", "not a zip archive"),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_uploads_are_refused_and_nothing_is_stored(client: object, region: int, case: str) -> None:
    body, message = HOSTILE[case]
    before = outside_files(client)
    r = client.post("/api/regions/uploads", files=[("files", ("x.zip", body, "application/zip"))],  # type: ignore[attr-defined]
                    headers=bearer(client, "analyst"))
    assert 400 <= r.status_code < 500 and message in r.text, r.text
    assert outside_files(client) == before
    assert not list(data_dir(client).parent.rglob("escaped.txt"))
    assert not list(Path("/tmp").glob("escaped.txt"))


def test_oversized_upload_is_refused(client: object, region: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from gep.regions import uploads

    monkeypatch.setattr(uploads, "LIMITS", uploads.Limits(upload_bytes=1 << 20))
    before = outside_files(client)
    r = client.post("/api/regions/uploads", files=[("files", ("big.zip", b"0" * (2 << 20), "application/zip"))],  # type: ignore[attr-defined]
                    headers=bearer(client, "analyst"))
    assert r.status_code == 422 and "larger than 1 MB" in r.text
    assert outside_files(client) == before


def test_a_template_with_macros_or_renamed_is_refused(client: object, region: int) -> None:
    h = bearer(client, "analyst")
    r = client.post(f"/api/regions/{region}/statistics", data={"year": "2019"},  # type: ignore[attr-defined]
                    files={"file": ("t.xlsx", b"GIF89a", "application/octet-stream")}, headers=h)
    assert r.status_code == 422 and "renamed?" in r.text
    macro = _zip([("[Content_Types].xml", b"<x/>"), ("xl/vbaProject.bin", b"\x00")])
    r = client.post(f"/api/regions/{region}/statistics", data={"year": "2019"},  # type: ignore[attr-defined]
                    files={"file": ("t.xlsx", macro, "application/octet-stream")}, headers=h)
    assert r.status_code == 422 and "macros" in r.text


def test_concurrent_changes_to_one_region_one_wins_the_other_is_told(client: object, region: int) -> None:
    """While one change holds the region's lock, a second is a 409 and changes nothing."""
    from gep.regions import uploads

    h = bearer(client, "analyst")
    manifest = next((data_dir(client) / "regions").glob("tiny-*")) / "region.toml"
    before = manifest.read_text(encoding="utf-8")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with uploads.region_lock(data_dir(client), str(region)):
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(10)
    try:
        body = {"value": 9.9, "unit": "yuan/m3", "year": 2019, "source": "test"}
        r = client.put(f"/api/regions/{region}/parameters/water_supply.price_domestic", json=body, headers=h)  # type: ignore[attr-defined]
        assert r.status_code == 409 and "in progress" in r.text
        assert manifest.read_text(encoding="utf-8") == before
    finally:
        release.set()
        t.join()


@pytest.mark.parametrize(("limits", "message"), [({"unpacked_bytes": 1 << 20}, "unpacks to more than 1 MB"),
                                                 ({"members": 2}, "holds 3 members; at most 2")],
                         ids=["unpacked size", "member count"])
def test_archive_limits(client: object, region: int, monkeypatch: pytest.MonkeyPatch, limits: dict,
                        message: str) -> None:
    from gep.regions import uploads

    monkeypatch.setattr(uploads, "LIMITS", uploads.Limits(**limits))
    body = _zip([("region.toml", b"x" * 10), ("a.csv", bytes(range(256)) * 4096 * 2), ("b.csv", b"y")])
    before = outside_files(client)
    r = client.post("/api/regions/uploads", files=[("files", ("x.zip", body, "application/zip"))],  # type: ignore[attr-defined]
                    headers=bearer(client, "analyst"))
    assert r.status_code == 422 and message in r.text, r.text
    assert outside_files(client) == before
