"""Monitoring on a database (SQLite, and PostgreSQL when set): readings checked by row (unknown stations and
parameters, wrong units, duplicate timestamps, text in numbers, impossible values) with nothing stored; the same
file twice stores once; gaps reported; an episode past a limit raises one alert to the department; rasters of the
wrong grid or CRS, or with impossible pixels, refused with their window; land-cover change on the tiny region
against hand-counted hectares; patrol reports with photos checked by content; the API under each role; and a
property test of the readings' checks."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from conftest import PASSWORD, served_app
from conftest import bearer as login
from gep.app import build_platform
from gep.auth import service as auth
from gep.db import unit_of_work
from gep.errors import Conflict, FileError
from gep.kit.notify import Notification
from gep.kit.principal import SYSTEM, Principal
from gep.monitoring import rules, service
from gep.monitoring.models import Alert, Reading, YearRaster
from gep.testing import ALBERS, ORIGIN
from registry_fixtures import CLASSES, RES, Platform, build

CENTRE = Principal(None, "centre", "monitoring_officer", None, frozenset({"*"}), "system", party="监测中心")


@pytest.fixture(scope="module")
def platform(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    p = build(empty_db, tmp_path_factory.mktemp("monitoring"), with_accounts=False)
    roles = build_platform().roles
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        for name, role in (("monitor", "monitoring_officer"), ("envofficer", "env_officer"), ("ranger", "ranger"),
                           ("villager", "villager")):
            auth.create_user(s, name, PASSWORD, role, SYSTEM, roles=roles)
        service.add_station(s, "W1", "一号断面", "water_section", 119.6, 28.0, CENTRE, "100101")
        service.add_station(s, "A1", "一号空气站", "air_quality", 119.7, 28.1, CENTRE, "100101")
    return p


def csv(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(rules.COLUMNS))


def hourly(station: str, parameter: str, unit: str, values: list[float], start: str = "2025-01-01 00:00",
           skip: tuple[int, ...] = ()) -> list[tuple[str, str, str, str, str]]:
    t = pd.date_range(start, periods=len(values), freq="h")
    return [(station, t[i].strftime("%Y-%m-%d %H:%M"), parameter, str(v), unit) for i, v in enumerate(values)
            if i not in skip]


def count(p: Platform) -> int:
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        return int(s.scalar(select(func.count()).select_from(Reading)) or 0)


def test_bad_readings_are_named_by_row_and_nothing_is_stored(platform: Platform) -> None:
    before = count(platform)
    rows = [("W1", "2024-01-01 00:00", "nh3n", "0.3", "mg/L"),      # row 2: fine
            ("W9", "2024-01-01 00:00", "nh3n", "0.3", "mg/L"),      # row 3: unknown station
            ("W1", "2024-01-01 01:00", "nh3n", "0.3", "g/L"),       # row 4: wrong unit
            ("W1", "2024-01-01 00:00", "nh3n", "0.4", "mg/L"),      # row 5: same time as row 2
            ("W1", "2024-01-01 02:00", "nh3n", "abc", "mg/L"),      # row 6: text in a number
            ("W1", "2024-01-01 03:00", "nh3n", "-2", "mg/L"),       # row 7: impossible
            ("W1", "2024-01-01 04:00", "pm25", "30", "µg/m3"),      # row 8: not measured at a water section
            ("W1", "yesterday", "nh3n", "0.3", "mg/L"),             # row 9: not a time
            ("W1", "2024-01-01 05:00", "nh3n", "inf", "mg/L")]      # row 10: not finite
    with unit_of_work(platform.factory) as s, pytest.raises(FileError) as err:  # type: ignore[arg-type]
        service.import_readings(s, csv(rows), CENTRE, "bad.csv")
    where = sorted((p.params["row"], p.params["field"]) for p in err.value.problems)
    assert where == [(3, "station"), (4, "unit"), (5, "time"), (6, "value"), (7, "value"), (8, "parameter"),
                     (9, "time"), (10, "value")], where
    assert err.value.file == "bad.csv" and count(platform) == before


def test_the_same_file_twice_stores_once_and_gaps_are_reported(platform: Platform) -> None:
    rows = hourly("W1", "codmn", "mg/L", [2.0 + 0.1 * i for i in range(24)], "2024-02-01 00:00", skip=(5, 6, 7))
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        first = service.import_readings(s, csv(rows), CENTRE, "feb.csv")
    assert (first.stored, first.skipped, first.gap_count) == (21, 0, 1)
    gap = first.gaps[0]
    assert gap["missing"] == 3 and gap["rows"] == [6, 7], gap
    # 04:00 and 08:00 Beijing time are 20:00 and 00:00 UTC
    assert gap["from"].startswith("2024-01-31T20:00") and gap["to"].startswith("2024-02-01T00:00"), gap
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        again = service.import_readings(s, csv(rows), CENTRE, "feb.csv")
    assert (again.stored, again.skipped) == (0, 21)
    changed = [(*r[:3], "9.9", r[4]) if i == 3 else r for i, r in enumerate(rows)]
    with unit_of_work(platform.factory) as s, pytest.raises(FileError) as err:  # type: ignore[arg-type]
        service.import_readings(s, csv(changed), CENTRE, "feb2.csv")
    assert [p.params["row"] for p in err.value.problems] == [5]


def test_units_are_converted_and_times_with_an_offset_kept(platform: Platform) -> None:
    rows = [("A1", "2024-03-01T08:00+08:00", "pm25", "0.035", "mg/m3"), ("A1", "2024-03-01T01:00Z", "pm25", "36",
                                                                         "ug/m3")]
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        assert service.import_readings(s, csv(rows), CENTRE).stored == 2
        got = service.series(s, service.get_station(s, 2).id, "pm25")
    assert got["value"].tolist() == [35.0, 36.0]
    assert [t.isoformat() for t in got["at"]] == ["2024-03-01T00:00:00+00:00", "2024-03-01T01:00:00+00:00"]


def test_an_episode_past_the_limit_is_one_alert_to_the_department(platform: Platform) -> None:
    values = [0.3] * 10 + [1.2, 1.6, 1.4] + [0.3] * 5 + [1.1] + [0.4] * 5   # two episodes (class III: 1.0 mg/L)
    rows = hourly("W1", "nh3n", "mg/L", values, "2024-04-01 00:00")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        r = service.import_readings(s, csv(rows), CENTRE, "apr.csv")
        assert len(r.alerts) == 2
        alerts = sorted(s.scalars(select(Alert).where(Alert.id.in_(r.alerts))), key=lambda a: a.started_at)
        assert [(a.params["count"], a.params["worst"], a.department) for a in alerts] == [
            (3, "1.6", "environment"), (1, "1.1", "environment")]
        envofficer = s.scalar(select(auth.User.id).where(auth.User.username == "envofficer"))
        told = s.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == envofficer))
        assert told >= 2
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        r = service.import_readings(s, csv(rows), CENTRE, "apr.csv")
        assert r.stored == 0
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "reading")) == len(
            set(s.scalars(select(Alert.key).where(Alert.kind == "reading"))))
        service.handle_alert(s, alerts[0].id, "acknowledged", "", CENTRE)
        with pytest.raises(Exception):  # noqa: B017 - closing says what was done
            service.handle_alert(s, alerts[0].id, "closed", " ", CENTRE)
        assert service.handle_alert(s, alerts[0].id, "closed", "排口封堵", CENTRE).state == "closed"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["W1", "A1", "X"]), st.integers(0, 5),
                          st.sampled_from(["nh3n", "pm25", "do"]), st.sampled_from(["0.5", "-1", "x", "3", "1e9"]),
                          st.sampled_from(["mg/L", "µg/m3", "kg"])), min_size=1, max_size=25))
def test_every_row_is_either_accepted_or_named(rows: list[tuple[str, int, str, str, str]]) -> None:
    stations = {"W1": rules.Station(1, "W1", "water_section"), "A1": rules.Station(2, "A1", "air_quality")}
    raw = csv([(s, f"2024-01-01 0{h}:00", p, v, u) for s, h, p, v, u in rows])
    checked = rules.check_readings(raw, stations)
    named = {p.params["row"] for p in checked.problems}
    accepted = set(checked.frame["row"])
    assert named.isdisjoint(accepted) and named | accepted == set(range(2, 2 + len(rows)))
    assert checked.problem_count == len(named)
    assert not checked.frame.duplicated(["station_id", "parameter", "at"]).any()


# -- rasters and land-cover change ----------------------------------------------------------------------------------

def raster(path: Path, data: np.ndarray, crs: str = ALBERS, res: float = RES, shift: float = 0.0,
           dtype: str = "uint8", nodata: float | None = 0) -> Path:
    h, w = data.shape
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=1, dtype=dtype, crs=crs, nodata=nodata,
                       transform=Affine(res, 0, ORIGIN[0] + shift, 0, -res, ORIGIN[1])) as dst:
        dst.write(data.astype(dtype), 1)
    return path


def test_rasters_of_the_wrong_grid_or_with_impossible_pixels_are_refused(platform: Platform, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bad = {"crs": raster(tmp_path / "crs.tif", CLASSES, crs="EPSG:32650"),
           "size": raster(tmp_path / "size.tif", CLASSES, res=50.0),
           "shift": raster(tmp_path / "shift.tif", CLASSES, shift=30.0),
           "codes": raster(tmp_path / "codes.tif", np.where(CLASSES == 61, 99, CLASSES))}
    npp = np.full(CLASSES.shape, 500.0)
    npp[4, 6] = np.nan
    npp[1, 1] = 9000.0
    bad["npp"] = raster(tmp_path / "npp.tif", npp, dtype="float32", nodata=None)
    (tmp_path / "text.tif").write_text("not a raster")
    bad["text"] = tmp_path / "text.tif"
    expected = {"crs": "EPSG:32650", "size": "50", "shift": "0.300", "codes": "99", "npp": "2 pixels",
                "text": "GeoTIFF"}
    for name, path in bad.items():
        layer = "npp" if name == "npp" else "ecosystem"
        with unit_of_work(platform.factory) as s, pytest.raises(FileError) as err:  # type: ignore[arg-type]
            service.ingest_raster(s, platform.region_id, layer, 2020, path, path.name, CENTRE, data_dir)
        text = " | ".join(str(p) for p in err.value.problems)
        assert expected[name] in text, (name, text)
        if name in ("codes", "npp"):
            assert "rows 0–5, columns 0–7" in text, text
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        assert s.scalar(select(func.count()).select_from(YearRaster)) == 0
    assert not list((data_dir / "monitoring" / "rasters").glob("**/*.tif")) if (data_dir / "monitoring").exists() \
        else True


def test_land_cover_change_by_township(platform: Platform, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    after = CLASSES.copy()
    after[0, 0:2] = 61   # township 001: 2 ha of forest built on
    after[1, 0] = 71     # and 1 ha bared
    after[3, 4] = 61     # township 002: 1 ha of paddy built on
    after[5, 1] = 11     # 1 ha of grassland (tussock) planted with forest
    before_path = raster(tmp_path / "lc2019.tif", CLASSES)
    after_path = raster(tmp_path / "lc2021.tif", after)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.ingest_raster(s, platform.region_id, "ecosystem", 2019, before_path, "lc2019.tif", CENTRE, data_dir)
        row = service.ingest_raster(s, platform.region_id, "ecosystem", 2021, after_path, "lc2021.tif", CENTRE,
                                    data_dir)
        assert service.ingest_raster(s, platform.region_id, "ecosystem", 2021, after_path, "x.tif", CENTRE,
                                     data_dir).id == row.id  # the same file again: nothing new
        with pytest.raises(Conflict):
            service.ingest_raster(s, platform.region_id, "ecosystem", 2021, before_path, "lc.tif", CENTRE, data_dir)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        report = service.detect_change(s, platform.region_id, 2019, 2021, "township", CENTRE, data_dir)
        losses = {(x["zone"], x["group"]): x for x in report.losses}
        f1 = losses[("100101001", "forest")]
        assert (f1["lost_ha"], f1["to"]) == (3.0, {"urban": 2.0, "bare": 1.0})
        forest_before = float((np.isin(CLASSES[:3], [11, 12, 13])).sum())
        assert f1["before_ha"] == forest_before and f1["after_ha"] == forest_before - 3
        assert losses[("100101002", "cropland")]["lost_ha"] == 1.0
        assert losses[("100101002", "grassland")]["lost_ha"] == 1.0
        assert losses[("100101002", "forest")]["gained_ha"] == 1.0
        keys = set(s.scalars(select(Alert.zone_code + ":" + Alert.params["group_code"].as_string())
                             .where(Alert.kind == "land_change")))
        # forest: 3 ha < 5 ha but 3 of the township's forest is past 1 %; cropland 1 ha is past 2 % of 4 ha
        assert {"100101001:forest", "100101002:cropland", "100101002:grassland"} <= keys, keys
        assert Path(report.image).exists() and len(report.bounds) == 2


# -- patrols ---------------------------------------------------------------------------------------------------------

def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 40)).save(buf, format="PNG")
    return buf.getvalue()


def test_a_patrol_report_with_photos(platform: Platform, tmp_path: Path) -> None:
    ranger = Principal(None, "ranger", "ranger", None, frozenset({service.PATROL}), "system", party="护林员")
    with unit_of_work(platform.factory) as s, pytest.raises(FileError) as err:  # type: ignore[arg-type]
        service.file_patrol(s, "fire_risk", "", 119.6, 28.0, None, [("a.jpg", b"GIF89a not really")], ranger,
                            tmp_path)
    assert "a.jpg" in str(err.value.problems[0])
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        with pytest.raises(Exception):  # noqa: B017 - the future is refused
            service.file_patrol(s, "fire_risk", "", 119.6, 28.0, datetime(2999, 1, 1, tzinfo=UTC), [], ranger,
                                tmp_path)
        r = service.file_patrol(s, "illegal_logging", "新伐桩", 119.6, 28.0, None, [("p.png", png())], ranger,
                                tmp_path)
        assert r.photos[0]["type"] == "png" and service.photo_path(tmp_path, r.photos[0]["sha256"], "png").exists()
        alert = s.scalar(select(Alert).where(Alert.key == f"patrol:{r.id}"))
        assert alert is not None and alert.department == "forestry"


# -- the API ----------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from served_app(platform.url, tmp_path_factory.mktemp("data"))  # type: ignore[misc]



def test_the_api_under_each_role(client: TestClient) -> None:
    monitor, env, ranger, villager = (login(client, u) for u in ("monitor", "envofficer", "ranger", "villager"))
    body = "station,time,parameter,value,unit\n" + "".join(
        f"W1,2024-06-01 {h:02d}:00,do,{4.2 if h in (3, 4) else 7.5},mg/L\n" for h in range(12))
    files = {"file": ("june.csv", body.encode(), "text/csv")}
    assert client.post("/api/monitoring/readings/import", files=files, headers=env).status_code == 403
    r = client.post("/api/monitoring/readings/import", files=files, headers=monitor)
    assert r.status_code == 200 and r.json()["stored"] == 12 and len(r.json()["alerts"]) == 1, r.text
    logger = client.post("/api/monitoring/readings", headers=monitor, json={"rows": [
        {"station": "W1", "time": "2024-06-01 12:00", "parameter": "do", "value": "7.1", "unit": "mg/L"}]})
    assert logger.status_code == 200 and logger.json()["stored"] == 1
    bad = client.post("/api/monitoring/readings", headers=monitor, json={"rows": [
        {"station": "W1", "time": "2024-06-01 13:00", "parameter": "do", "value": "seven", "unit": "mg/L"}]})
    assert bad.status_code == 422 and bad.json()["problems"][0]["where"] == "row 1, value"
    alerts = client.get("/api/monitoring/alerts?state=open", headers=env).json()
    low = next(a for a in alerts if "Dissolved oxygen" in a["text"])
    assert "below 5" in low["text"] and "lowest 4.2" in low["text"], low
    assert client.post(f"/api/monitoring/alerts/{low['id']}", headers=villager,
                       json={"state": "acknowledged"}).status_code == 403
    assert client.post(f"/api/monitoring/alerts/{low['id']}", headers=env,
                       json={"state": "acknowledged"}).json()["state"] == "acknowledged"
    station = client.get("/api/monitoring/stations/1?parameter=do&days=3660", headers=env).json()
    assert station["limit_min"] == 5.0 and len(station["values"]) >= 13
    assert client.get("/api/monitoring/stations", headers=villager).status_code == 403
    p = client.post("/api/monitoring/patrols", headers=ranger, data={"category": "dumping", "lat": "28.0",
                                                                     "lon": "119.6", "note": "垃圾"},
                    files=[("photos", ("x.png", png(), "image/png"))])
    assert p.status_code == 201 and p.json()["photos"] == 1, p.text
    assert client.get(f"/api/monitoring/patrols/{p.json()['id']}/photos/0", headers=ranger).status_code == 200
    assert client.get(f"/api/monitoring/patrols/{p.json()['id']}/photos/0", headers=villager).status_code == 403
    assert client.post("/api/monitoring/patrols", headers=villager, data={"category": "dumping", "lat": "28",
                                                                          "lon": "119"}).status_code == 403
    for page in ("/monitoring", "/monitoring/stations/1", "/monitoring/changes"):
        assert client.get(page, headers=env).status_code == 200, page
    assert client.get("/monitoring/patrols", headers=ranger).status_code == 200



def test_gaps_and_episodes_span_stored_and_new_readings(platform: Platform) -> None:
    """A second file continuing a stored series: an episode that began in the stored readings and goes on in the
    new ones is the same alert, brought up to date; a hole between stored and new readings is a gap."""
    first = hourly("W1", "tp", "mg/L", [0.1] * 10 + [0.3, 0.35], "2024-07-01 00:00")
    later = hourly("W1", "tp", "mg/L", [0.4, 0.1, 0.1], "2024-07-01 12:00")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        one = service.import_readings(s, csv(first), CENTRE, "a.csv")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        two = service.import_readings(s, csv(later), CENTRE, "b.csv")
        assert two.gap_count == 0 and one.alerts == two.alerts  # 11:00 then 12:00: no hole, one episode
        alert = s.get(Alert, two.alerts[0])
        assert alert is not None and (alert.params["count"], alert.params["worst"]) == (3, "0.4")
    gap = hourly("W1", "tp", "mg/L", [0.1], "2024-07-01 20:00")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        three = service.import_readings(s, csv(gap), CENTRE, "c.csv")
    assert three.gap_count == 1 and three.gaps[0]["missing"] == 5  # 15:00 to 19:00, after the stored 14:00


def test_an_alert_raises_a_credit_event_for_review(platform: Platform, tmp_path: Path) -> None:
    from gep.credit import handlers as credit_handlers
    from gep.credit.models import CreditEvent, CreditSubject
    from gep.kit.events import Event, OutboxEvent

    ranger = Principal(None, "ranger", "ranger", None, frozenset({service.PATROL}), "system", party="护林员")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        r = service.file_patrol(s, "illegal_logging", "盗伐", 119.6, 28.0, None, [], ranger, tmp_path)
        alert = s.scalar(select(Alert).where(Alert.key == f"patrol:{r.id}"))
        assert alert is not None
        with pytest.raises(Exception):  # noqa: B017 - a party is named: an organisation or a village
            service.raise_credit(s, alert.id, CENTRE)
        service.raise_credit(s, alert.id, CENTRE, village_code="100101001001")
        with pytest.raises(Conflict):
            service.raise_credit(s, alert.id, CENTRE, village_code="100101001001")
        e = s.scalars(select(OutboxEvent).where(OutboxEvent.type == service.VIOLATION_FOUND)
                      .order_by(OutboxEvent.id.desc())).first()
        assert e is not None and e.payload["indicator"] == "N01"  # illegal logging
        event = Event(e.id, e.type, e.payload, None, e.created_at)
        credit_handlers.violation_found(s, event)
        credit_handlers.violation_found(s, event)  # delivered twice: recorded once
        subject = s.scalar(select(CreditSubject).where(CreditSubject.code == "village:100101001001"))
        assert subject is not None and subject.kind == "village"
        got = list(s.scalars(select(CreditEvent).where(CreditEvent.subject_id == subject.id)))
        assert [(x.indicator, x.state) for x in got] == [("N01", "pending")]
