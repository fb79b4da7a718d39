"""Use cases of monitoring: stations; readings imported from a file or posted by a logger (all checked, then stored
all or nothing; readings already stored are skipped, contradicting ones refused; gaps reported; episodes beyond a
limit raised as alerts to the zone's department); yearly rasters ingested for a region after the engine's own
checks; land-cover change between two years per zone with its map and alerts; and patrol reports with photos."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.accounting.catalogue import ECOSYSTEM_GROUPS
from gep.auth.models import User
from gep.db import found, is_postgresql
from gep.errors import N_, Conflict, FileError, InputError, NotFound, Problem
from gep.kit import events
from gep.kit.audit import audit, aware, now
from gep.kit.notify import notify
from gep.kit.principal import Principal
from gep.monitoring import rules
from gep.monitoring.models import (
    Alert,
    ChangeReport,
    PatrolReport,
    Reading,
    ReadingImport,
    Station,
    YearRaster,
)
from gep.regions import service as regions
from gep.regions.models import Zone

log = logging.getLogger(__name__)
READ = "monitoring.read"
IMPORT = "monitoring.import"  # stations, readings, rasters, change detection
HANDLE = "monitoring.handle"  # acknowledge and close alerts
PATROL = "monitoring.patrol"  # file patrol reports
ALERT_STATES = {"open": N_("open"), "acknowledged": N_("acknowledged"), "closed": N_("closed")}
MAX_PHOTOS, MAX_PHOTO_BYTES = 4, 8 * 1024 * 1024
RASTER_LAYERS = ("ecosystem", "npp", "precipitation")
CONTEXT = pd.Timedelta(days=2)  # stored readings read around a file's time range


# -- stations ------------------------------------------------------------------------------------------------------

def add_station(session: Session, code: str, name: str, kind: str, lon: float, lat: float, by: Principal,
                county_code: str = "", thresholds: dict[str, dict[str, float]] | None = None,
                synthetic: bool = False, section_code: str = "") -> Station:
    by.require(IMPORT)
    k = rules.config().kinds.get(kind)
    if k is None:
        raise InputError(N_("unknown station kind {value}; expected one of {expected}"), value=kind,
                         expected=", ".join(rules.config().kinds))
    for p, lim in (thresholds or {}).items():
        if p not in k.parameters or not set(lim) <= {"limit", "limit_min"}:
            raise InputError(N_("thresholds: {value} is not a parameter of this kind with limit or limit_min"),
                             value=p)
    if session.scalar(select(Station.id).where(Station.code == code)) is not None:
        raise Conflict(N_("station {code} exists already"), code=code)
    row = Station(code=code, name=name, kind=kind, lon=lon, lat=lat, county_code=county_code,
                  thresholds=thresholds or {}, section_code=section_code.strip(), synthetic=synthetic,
                  created_at=now())
    session.add(row)
    session.flush()
    audit(session, by, "create", "monitoring_station", row.id, code=code, kind=kind)
    return row


def stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.code)))


def get_station(session: Session, station_id: int) -> Station:
    return found(session, Station, station_id, N_("station {id} does not exist"))


def _rule_station(s: Station) -> rules.Station:
    return rules.Station(s.id, s.code, s.kind, dict(s.thresholds or {}))


def limits(s: Station, p: rules.Parameter) -> tuple[float | None, float | None]:
    """A station's limit and "at least" limit for a parameter: its own where it set them, else the standard's."""
    return _rule_station(s).limits(p)


# -- readings ------------------------------------------------------------------------------------------------------

def read_csv(data: bytes, filename: str) -> pd.DataFrame:
    """A readings CSV (UTF-8, with or without BOM; columns station, time, parameter, value, unit) as text columns."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                            skipinitialspace=True)
    except UnicodeDecodeError:
        raise FileError(filename, [Problem(N_("encoding"), N_("the file is not UTF-8 text"))]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileError(filename, [Problem(N_("rows"), N_("not a CSV file: {error}"), error=str(exc))]) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in rules.COLUMNS if c not in frame.columns]
    if missing:
        raise FileError(filename, [Problem(N_("header"), N_("missing columns: {columns} (expected {expected})"),
                                           columns=", ".join(missing), expected=", ".join(rules.COLUMNS))])
    return frame[list(rules.COLUMNS)]


@dataclass
class ImportResult:
    id: int
    rows: int
    stored: int
    skipped: int
    flagged: int
    gaps: list[dict[str, Any]] = field(default_factory=list)
    gap_count: int = 0
    alerts: list[int] = field(default_factory=list)


def import_readings(session: Session, raw: pd.DataFrame, by: Principal, filename: str = "api", data: bytes = b"",
                    first_row: int = 2, synthetic: bool = False) -> ImportResult:
    """Check every reading, then store all or nothing (one transaction). A reading equal to a stored one is
    skipped, so a file sent twice stores nothing twice; one that contradicts a stored value is refused."""
    by.require(IMPORT)
    if raw.empty:
        raise InputError(N_("{file} has no rows"), file=filename)
    known = {s.code: s for s in stations(session)}
    checked = rules.check_readings(raw, {c: _rule_station(s) for c, s in known.items()}, first_row)
    if checked.problems:
        more = checked.problem_count - len(checked.problems)
        problems = checked.problems + ([Problem(N_("rows"), N_("and {n} more problems like these"), n=more)]
                                       if more > 0 else [])
        raise FileError(filename, problems)
    frame = checked.frame
    ids = sorted(int(i) for i in frame["station_id"].unique())
    q = select(Station.id).where(Station.id.in_(ids)).order_by(Station.id)
    session.execute(q.with_for_update() if is_postgresql(session) else q)  # one import at a time per station
    first, last = frame["at"].min(), frame["at"].max()
    # the stored neighbours too, so a gap or an episode across the edge of the file is seen whole
    stored = _stored(session, ids, (first - CONTEXT).to_pydatetime(), (last + CONTEXT).to_pydatetime())
    merged = frame.merge(stored, on=["station_id", "parameter", "at"], how="left", suffixes=("", "_stored"))
    there = merged["value_stored"].notna().to_numpy()
    differs = there & ~np.isclose(merged["value"].to_numpy(), merged["value_stored"].fillna(0).to_numpy(),
                                  rtol=1e-9, atol=1e-12)
    if differs.any():
        idx = np.flatnonzero(differs)
        problems = [Problem(N_("row {row}, {field}"), N_("{value} differs from the {stored} stored for this station, "
                                                         "parameter and time; correct the stored reading instead"),
                            row=int(merged["row"].iloc[i]), field="value", value=f"{merged['value'].iloc[i]:g}",
                            stored=f"{merged['value_stored'].iloc[i]:g}") for i in idx[: rules.MAX_PROBLEMS]]
        raise FileError(filename, problems)
    new = merged.loc[~there, ["station_id", "parameter", "at", "value", "flag", "row"]]
    imp = ReadingImport(digest=hashlib.sha256(data).hexdigest() if data else "", filename=filename[:300],
                        rows=len(raw), stored=len(new), skipped=int(there.sum()), flagged=int(new["flag"].sum()),
                        gaps=[], by_user_id=by.user_id, at=now())
    session.add(imp)
    session.flush()
    _insert(session, new.drop(columns="row"), imp.id)
    series = pd.concat([stored.rename(columns={"value_stored": "value"}),
                        new[["station_id", "parameter", "at", "value"]]], ignore_index=True)
    by_id = {s.id: s for s in known.values()}
    found_gaps: list[dict[str, Any]] = []
    gap_count, alert_ids = 0, []
    span = new.groupby(["station_id", "parameter"])["at"].agg(["min", "max"])  # what this file added, per series
    row_of: pd.Series | None = None
    for (sid, param), part in series.groupby(["station_id", "parameter"], sort=True):
        if (sid, param) not in span.index:
            continue
        lo, hi = span.loc[(sid, param), "min"], span.loc[(sid, param), "max"]
        st = by_id[int(sid)]
        kind = rules.config().kinds[st.kind]
        for before, after, missing in rules.gaps(part["at"], kind.interval_minutes):
            if after < lo or before > hi:  # a hole among earlier readings: reported when they came
                continue
            gap_count += 1
            if len(found_gaps) < rules.MAX_PROBLEMS:
                if row_of is None:
                    row_of = merged.set_index(["station_id", "parameter", "at"])["row"]
                rows = [row_of.get((sid, param, t)) for t in (before, after)]
                found_gaps.append({"station": st.code, "parameter": param, "from": before.isoformat(),
                                   "to": after.isoformat(), "missing": missing,
                                   "rows": [int(r) if r is not None else None for r in rows]})
        p = kind.parameters[str(param)]
        limit, limit_min = limits(st, p)
        for ep in rules.episodes(part["at"], part["value"], limit, limit_min, kind.interval_minutes):
            if ep.end < lo or ep.start > hi:
                continue
            alert_ids.append(_reading_alert(session, st, p, ep, synthetic).id)
    _feed(session, [by_id[int(i)] for i in new["station_id"].unique()], new, by)
    imp.gaps = found_gaps
    audit(session, by, "import", "monitoring_import", imp.id, rows=len(raw), stored=imp.stored,
          skipped=imp.skipped, gaps=gap_count, alerts=len(alert_ids))
    log.info("readings %s: %d rows, %d stored, %d already there, %d gaps, %d alerts", filename, len(raw),
             imp.stored, imp.skipped, gap_count, len(alert_ids))
    return ImportResult(imp.id, len(raw), imp.stored, imp.skipped, imp.flagged, found_gaps, gap_count,
                        sorted(set(alert_ids)))


def _stored(session: Session, ids: list[int], first: datetime, last: datetime) -> pd.DataFrame:
    """The stored readings of these stations in [first, last], as columns (a year of 200 stations is 1.75 M rows:
    read as text in one go — COPY on PostgreSQL — and converted whole, not row by row)."""
    columns = ["station_id", "parameter", "at", "value_stored"]
    zone = "+00" if is_postgresql(session) else ""  # PostgreSQL compares with the offset said, not its own zone
    where = (f"station_id IN ({', '.join(str(int(i)) for i in ids)}) AND at >= '{_sql_time(first)}{zone}' "
             f"AND at <= '{_sql_time(last)}{zone}'")
    sql = f"SELECT station_id, parameter, at, value FROM monitoring_reading WHERE {where}"
    if is_postgresql(session):
        raw = session.connection().connection.driver_connection
        assert raw is not None
        buf = io.BytesIO()
        with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buf.write(chunk)
        buf.seek(0)
        frame = (pd.read_csv(buf, names=columns, dtype={"parameter": str}) if buf.getbuffer().nbytes
                 else pd.DataFrame(columns=columns))
    else:
        raw = session.connection().connection.driver_connection  # plain tuples: pandas reads them fastest
        assert raw is not None
        frame = pd.DataFrame(raw.execute(sql).fetchall(), columns=columns)
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    frame["station_id"] = frame["station_id"].astype("int64")
    frame["value_stored"] = frame["value_stored"].astype("float64")
    return frame


def _sql_time(moment: datetime) -> str:
    """A UTC moment as the text both databases compare with their stored times (UTC, microseconds)."""
    return pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert(session: Session, new: pd.DataFrame, import_id: int) -> None:
    """Bulk insert: PostgreSQL's COPY in the session's transaction, SQLite's executemany otherwise."""
    if new.empty:
        return
    session.flush()
    cols = ("station_id", "parameter", "at", "value", "flag", "import_id")
    if is_postgresql(session):
        raw = session.connection().connection.driver_connection
        assert raw is not None
        out = new.assign(at=new["at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f+00"),
                         import_id=import_id)[list(cols)]
        text = out.to_csv(sep="\t", header=False, index=False, lineterminator="\n").encode("utf-8")
        with raw.cursor() as cur, cur.copy(f"COPY monitoring_reading ({', '.join(cols)}) FROM STDIN") as copy:
            copy.write(text)
        return
    # SQLite: the text SQLAlchemy writes for a DateTime, made for the whole column at once
    at = new["at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = list(zip(new["station_id"].astype("int64").tolist(), new["parameter"].tolist(), at.tolist(),
                    new["value"].astype("float64").tolist(), new["flag"].astype("int64").tolist(),
                    [import_id] * len(new), strict=True))
    session.connection().exec_driver_sql(
        f"INSERT INTO monitoring_reading ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?)", rows)


MONTH_MEASURED = "monitoring.month_measured"


def _feed(session: Session, touched: list[Station], new: pd.DataFrame, by: Principal) -> None:
    """For each station that measures a compensation section, the monthly means of the months this import
    touched, announced (`monitoring.month_measured`) once a month holds enough of its hours: compensation
    takes them as the section's observations."""
    cfg = rules.config()
    for st in touched:
        if not st.section_code:
            continue
        kind = cfg.kinds[st.kind]
        params = [p for p in kind.parameters if p in cfg.feed]
        mine = new[(new["station_id"] == st.id) & new["parameter"].isin(params)]
        for year, month in rules.months_of(mine["at"]):
            start, end = rules.month_bounds(year, month)
            hours = (end - start) / pd.Timedelta(minutes=kind.interval_minutes)
            rows = session.execute(select(Reading.parameter, func.avg(Reading.value), func.count())
                                   .where(Reading.station_id == st.id, Reading.parameter.in_(params),
                                          Reading.at >= start.to_pydatetime(), Reading.at < end.to_pydatetime())
                                   .group_by(Reading.parameter)).all()
            values = {cfg.feed[p]: f"{float(mean):.4f}" for p, mean, n in rows if n / hours >= cfg.feed_coverage}
            if values:
                events.record(session, MONTH_MEASURED, by.user_id, section=st.section_code, station=st.code,
                              year=year, month=month, values=values,
                              coverage={cfg.feed[p]: round(n / hours, 3) for p, _m, n in rows})


def _department_users(session: Session, department: str) -> list[int]:
    roles = rules.config().departments.get(department, {}).get("roles", [])
    return list(session.scalars(select(User.id).where(User.role.in_(roles), User.is_active.is_(True))))


def _raise(session: Session, key: str, kind: str, department: str, title: str, params: dict[str, Any],
           started: datetime, ended: datetime | None, county_code: str = "", zone_code: str = "",
           station_id: int | None = None, synthetic: bool = False, link: str = "/monitoring") -> Alert:
    """An alert, once per key: seen again, its end and figures are brought up to date and nobody is told twice."""
    row = session.scalar(select(Alert).where(Alert.key == key))
    if row is not None:
        row.params, row.ended_at = params, ended
        return row
    row = Alert(key=key[:200], kind=kind, department=department, county_code=county_code, zone_code=zone_code,
                station_id=station_id, title=title, params=params, started_at=started, ended_at=ended,
                state="open", note="", synthetic=synthetic, created_at=now())
    session.add(row)
    session.flush()
    for uid in _department_users(session, department):
        notify(session, uid, title, link, kind="monitoring_alert", **params)
    return row


def _reading_alert(session: Session, st: Station, p: rules.Parameter, ep: rules.Episode, synthetic: bool) -> Alert:
    kind = rules.config().kinds[st.kind]
    title = (N_("{station}: {parameter} below {limit} {unit} ({count} readings, lowest {worst})") if ep.below else
             N_("{station}: {parameter} above {limit} {unit} ({count} readings, highest {worst})"))
    params = {"station": st.name, "parameter": p.name_zh, "parameter_en": p.name_en, "limit": f"{ep.limit:g}",
              "unit": p.unit, "count": ep.count, "worst": f"{ep.worst:g}", "code": p.code}
    return _raise(session, f"reading:{st.id}:{p.code}:{ep.start.isoformat()}", "reading", kind.department, title,
                  params, ep.start.to_pydatetime(), ep.end.to_pydatetime(), st.county_code, "", st.id,
                  synthetic or st.synthetic, f"/monitoring/stations/{st.id}")


def series(session: Session, station_id: int, parameter: str, first: datetime | None = None,
           last: datetime | None = None, limit: int = 20000) -> pd.DataFrame:
    q = select(Reading.at, Reading.value, Reading.flag).where(Reading.station_id == station_id,
                                                              Reading.parameter == parameter)
    if first is not None:
        q = q.where(Reading.at >= first)
    if last is not None:
        q = q.where(Reading.at <= last)
    rows = session.execute(q.order_by(Reading.at.desc()).limit(limit)).all()
    frame = pd.DataFrame(rows, columns=["at", "value", "flag"]).iloc[::-1].reset_index(drop=True)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def latest(session: Session) -> dict[tuple[int, str], tuple[datetime, float, int]]:
    """The last reading of every station and parameter."""
    from sqlalchemy import func

    last = (select(Reading.station_id, Reading.parameter, func.max(Reading.at).label("at"))
            .group_by(Reading.station_id, Reading.parameter).subquery())
    rows = session.execute(select(Reading.station_id, Reading.parameter, Reading.at, Reading.value, Reading.flag)
                           .join(last, (Reading.station_id == last.c.station_id)
                                 & (Reading.parameter == last.c.parameter) & (Reading.at == last.c.at)))
    return {(int(s), str(p)): (aware(a), float(v), int(f)) for s, p, a, v, f in rows}


# -- alerts --------------------------------------------------------------------------------------------------------

def alerts(session: Session, state: str | None = None, limit: int = 500) -> list[Alert]:
    q = select(Alert).order_by(Alert.started_at.desc(), Alert.id.desc()).limit(limit)
    if state:
        q = q.where(Alert.state == state)
    return list(session.scalars(q))


def handle_alert(session: Session, alert_id: int, state: str, note: str, by: Principal) -> Alert:
    by.require(HANDLE)
    if state not in ("acknowledged", "closed"):
        raise InputError(N_("an alert is acknowledged or closed, not {value}"), value=state)
    row = session.scalar(select(Alert).where(Alert.id == alert_id).with_for_update())
    if row is None:
        raise NotFound(N_("alert {id} does not exist"), id=alert_id)
    if row.state == "closed":
        raise Conflict(N_("alert {id} is closed"), id=alert_id)
    if state == "closed" and not note.strip():
        raise InputError(N_("closing an alert says what was done"))
    before, row.state = row.state, state
    row.note = (row.note + "\n" if row.note else "") + note.strip()
    audit(session, by, state, "monitoring_alert", row.id, before=before, note=note)
    return row


VIOLATION_FOUND = "monitoring.violation_found"
# the credit indicator an alert points to by default ([DERIVED] from the credit catalogue's negative list: N01
# 乱砍滥伐、非法占用林地, N02 非法捕猎、破坏湿地, N08 乱排污、乱倒垃圾)
CREDIT_DEFAULT = {"illegal_logging": "N01", "pests": "N01", "fire_risk": "N01", "wildlife": "N02",
                  "sand_mining": "N02", "pollution": "N08", "dumping": "N08", "forest": "N01", "wetland": "N02",
                  "reading": "N08"}
CREDIT_INDICATORS = ("N01", "N02", "N05", "N08")


def raise_credit(session: Session, alert_id: int, by: Principal, organisation_id: int | None = None,
                 village_code: str = "", name: str = "", indicator: str = "", note: str = "") -> Alert:
    """Name who an alert's violation is attributed to — an enterprise (an organisation) or a village — so that
    ecological credit records it as a pending event for its office to review (`monitoring.violation_found`).
    Once per alert and party."""
    by.require(HANDLE)
    row = session.scalar(select(Alert).where(Alert.id == alert_id).with_for_update())
    if row is None:
        raise NotFound(N_("alert {id} does not exist"), id=alert_id)
    if (organisation_id is None) == (not village_code.strip()):
        raise InputError(N_("name either an organisation or a village, not both and not neither"))
    key = row.params.get("category_code") or row.params.get("group_code") or row.kind
    code = indicator or CREDIT_DEFAULT.get(str(key), "N08")
    if code not in CREDIT_INDICATORS:
        raise InputError(N_("indicator {value} cannot come from an alert; expected one of {expected}"), value=code,
                         expected=", ".join(CREDIT_INDICATORS))
    party = f"org:{organisation_id}" if organisation_id is not None else f"village:{village_code.strip()}"
    done = list(row.params.get("credit", []))
    if party in done:
        raise Conflict(N_("a credit event was raised for {party} from this alert already"), party=party)
    if organisation_id is None and not name:
        zone = session.scalar(select(Zone).where(Zone.code == village_code.strip()))
        if zone is None:
            raise InputError(N_("village {value} is not a zone of any region"), value=village_code)
        name = zone.name
    events.record(session, VIOLATION_FOUND, by.user_id, indicator=code, organisation_id=organisation_id,
                  village_code=village_code.strip(), name=name, county_code=row.county_code,
                  on=aware(row.started_at).date().isoformat(), alert=row.id, note=note[:500] or row.title)
    row.params = {**row.params, "credit": [*done, party]}
    audit(session, by, "credit", "monitoring_alert", row.id, party=party, indicator=code)
    return row


# -- rasters -------------------------------------------------------------------------------------------------------

def raster_folder(data_dir: Path, region_id: int) -> Path:
    return Path(data_dir) / "monitoring" / "rasters" / f"region-{region_id}"


def ingest_raster(session: Session, region_id: int, layer: str, year: int, source_file: Path, filename: str,
                  by: Principal, data_dir: Path, source: str = "", synthetic: bool = False) -> YearRaster:
    """A yearly raster for a region, after the engine's checks (on the region's grid, covering its zones, values
    possible for the layer, land-cover codes known): copied into the data folder atomically and recorded. The
    same file again is a no-op; another file for a year already ingested is refused."""
    by.require(IMPORT)
    from gep.accounting.region import check_year_raster, package_frame

    if layer not in RASTER_LAYERS:
        raise InputError(N_("layer {value} cannot be ingested here; expected one of {expected}"), value=layer,
                         expected=", ".join(RASTER_LAYERS))
    region_row = regions.get_region(session, region_id)
    digest = _sha256(source_file)
    there = session.scalar(select(YearRaster).where(YearRaster.region_id == region_id, YearRaster.layer == layer,
                                                    YearRaster.year == year))
    if there is not None:
        if there.digest == digest:
            return there
        raise Conflict(N_("{layer} for {year} was ingested already from another file"), layer=layer, year=year)
    problems = check_year_raster(package_frame(region_row.package_path), layer, source_file, filename)
    if problems:
        raise FileError(filename, problems)
    folder = raster_folder(data_dir, region_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{layer}-{year}.tif"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ingest-")
    os.close(fd)
    try:
        shutil.copyfile(source_file, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    row = YearRaster(region_id=region_id, layer=layer, year=year, path=str(target), digest=digest,
                     source=source[:300], synthetic=synthetic, by_user_id=by.user_id, at=now())
    session.add(row)
    session.flush()
    audit(session, by, "ingest", "monitoring_raster", row.id, layer=layer, year=year, digest=digest)
    return row


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rasters(session: Session, region_id: int | None = None) -> list[YearRaster]:
    q = select(YearRaster).order_by(YearRaster.region_id, YearRaster.layer, YearRaster.year)
    if region_id is not None:
        q = q.where(YearRaster.region_id == region_id)
    return list(session.scalars(q))


def land_cover_path(session: Session, region_id: int, year: int) -> Path:
    row = session.scalar(select(YearRaster).where(YearRaster.region_id == region_id, YearRaster.layer == "ecosystem",
                                                  YearRaster.year == year))
    if row is None:
        raise NotFound(N_("no land cover of {year} has been ingested for region {id}"), year=year, id=region_id)
    return Path(row.path)


# -- land-cover change ---------------------------------------------------------------------------------------------

def detect_change(session: Session, region_id: int, year_from: int, year_to: int, level: str, by: Principal,
                  data_dir: Path, synthetic: bool = False) -> ChangeReport:
    """Compare two years' land cover per zone of `level`: each ecosystem group's area before and after, what was
    lost and where it went; an alert to the zone's department for each loss past its threshold; and a map of the
    changed pixels. Computing the same pair again replaces the report (the alerts stay, once each)."""
    by.require(IMPORT)
    from gep.monitoring import change as change_map

    if year_from >= year_to:
        raise InputError(N_("the first year comes before the second"))
    region_row = regions.get_region(session, region_id)
    before, after = land_cover_path(session, region_id, year_from), land_cover_path(session, region_id, year_to)
    result = change_map.compare(region_row.package_path, before, after, level)
    folder = Path(data_dir) / "monitoring" / "changes"
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / f"region-{region_id}-{level}-{year_from}-{year_to}.png"
    bounds = change_map.write_map(result, image)
    row = session.scalar(select(ChangeReport).where(ChangeReport.region_id == region_id, ChangeReport.level == level,
                                                    ChangeReport.year_from == year_from,
                                                    ChangeReport.year_to == year_to))
    if row is None:
        row = ChangeReport(region_id=region_id, level=level, year_from=year_from, year_to=year_to)
        session.add(row)
    row.losses = [{"zone": x.zone, "group": x.group, "before_ha": round(x.before_ha, 4),
                   "after_ha": round(x.after_ha, 4), "lost_ha": round(x.lost_ha, 4), "gained_ha": round(x.gained_ha, 4),
                   "to": {k: round(v, 4) for k, v in x.to.items()}} for x in result.losses]
    row.image, row.bounds, row.synthetic, row.at = str(image), bounds, synthetic, now()
    row.digests = {"before": _sha256(before), "after": _sha256(after)}
    session.flush()
    names = regions.zone_names(session, region_id, [x.zone for x in result.losses])
    county_of = result.county_of
    for loss, rule in rules.alerts_for(result.losses):
        zh, en = ECOSYSTEM_GROUPS.get(loss.group, (loss.group, loss.group))
        params = {"zone": names.get(loss.zone, loss.zone), "group": zh, "group_en": en, "group_code": loss.group,
                  "lost": f"{loss.lost_ha:.1f}",
                  "share": f"{100 * loss.share:.1f}", "year_from": year_from, "year_to": year_to}
        _raise(session, f"land:{region_id}:{loss.zone}:{loss.group}:{year_from}-{year_to}", "land_change",
               rule.department, N_("{zone}: {lost} ha of {group} lost between {year_from} and {year_to} "
                                   "({share} %)"), params, datetime(year_to, 1, 1), None, county_of.get(loss.zone, ""),
               loss.zone, None, synthetic, f"/monitoring/changes?report={row.id}")
    audit(session, by, "detect", "monitoring_change", row.id, level=level, year_from=year_from, year_to=year_to,
          alerts=len(rules.alerts_for(result.losses)))
    return row


def get_change(session: Session, report_id: int) -> ChangeReport:
    return found(session, ChangeReport, report_id, N_("change report {id} does not exist"))


def change_reports(session: Session, region_id: int | None = None) -> list[ChangeReport]:
    q = select(ChangeReport).order_by(ChangeReport.at.desc())
    if region_id is not None:
        q = q.where(ChangeReport.region_id == region_id)
    return list(session.scalars(q))


# -- patrols -------------------------------------------------------------------------------------------------------

def _photo_type(data: bytes) -> str | None:
    """The image type of a photo by its content (not its name): jpeg, png or webp, opened and checked whole."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = (img.format or "").lower()
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return {"jpeg": "jpeg", "png": "png", "webp": "webp"}.get(kind)


def county_at(session: Session, lon: float, lat: float) -> str:
    """The county (of any imported region) whose map shape holds the point; "" outside every one."""
    point = Point(lon, lat)
    for region in regions.list_regions(session):
        for z in regions.zones(session, region.id, "county"):
            if z.geometry and shape(json.loads(z.geometry)).contains(point):
                return z.code
    return ""


def file_patrol(session: Session, category: str, note: str, lon: float, lat: float, observed_at: datetime | None,
                photos: list[tuple[str, bytes]], by: Principal, data_dir: Path, synthetic: bool = False
                ) -> PatrolReport:
    """A ranger's report: checked (category, place, time, each photo by its content), photos stored by their
    hash, and an alert to the category's department."""
    by.require(PATROL)
    cat = rules.config().patrols.get(category)
    if cat is None:
        raise InputError(N_("unknown category {value}; expected one of {expected}"), value=category,
                         expected=", ".join(rules.config().patrols))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or not shapely.is_valid(Point(lon, lat)):
        raise InputError(N_("a place is a longitude and a latitude"))
    when = aware(observed_at) if observed_at else now()
    if when > now():
        raise InputError(N_("the time {date} is in the future"), date=when.isoformat(timespec="minutes"))
    if len(photos) > MAX_PHOTOS:
        raise InputError(N_("at most {n} photos"), n=MAX_PHOTOS)
    problems, stored = [], []
    for name, data in photos:
        kind = _photo_type(data) if len(data) <= MAX_PHOTO_BYTES else None
        if len(data) > MAX_PHOTO_BYTES:
            problems.append(Problem("{file}", N_("a photo is at most 8 MB"), file=name))
        elif kind is None:
            problems.append(Problem("{file}", N_("not a JPEG, PNG or WebP photo"), file=name))
        else:
            stored.append((hashlib.sha256(data).hexdigest(), kind, data))
    if problems:
        raise FileError(", ".join(n for n, _ in photos)[:200], problems)
    folder = Path(data_dir) / "monitoring" / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    for sha, kind, data in stored:
        target = folder / f"{sha}.{kind}"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".photo-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
    row = PatrolReport(category=category, note=note.strip()[:4000], lon=lon, lat=lat, observed_at=when,
                       county_code=county_at(session, lon, lat),
                       photos=[{"sha256": sha, "type": kind, "bytes": len(data)} for sha, kind, data in stored],
                       by_user_id=by.user_id, by_name=by.party_name, synthetic=synthetic, created_at=now())
    session.add(row)
    session.flush()
    _raise(session, f"patrol:{row.id}", "patrol", cat["department"],
           N_("patrol report: {category} at {lat}, {lon}"), {"category": cat["name_zh"], "category_en": cat["name_en"],
                                                              "category_code": category, "lat": f"{lat:.5f}",
                                                              "lon": f"{lon:.5f}"},
           when, when, row.county_code, "", None, synthetic, f"/monitoring/patrols?report={row.id}")
    audit(session, by, "file", "monitoring_patrol", row.id, category=category, photos=len(stored))
    return row


def patrols(session: Session, limit: int = 500) -> list[PatrolReport]:
    return list(session.scalars(select(PatrolReport).order_by(PatrolReport.observed_at.desc()).limit(limit)))


def photo_path(data_dir: Path, sha: str, kind: str) -> Path:
    return Path(data_dir) / "monitoring" / "photos" / f"{sha}.{kind}"

