"""Demo seeding (labelled synthetic): twelve stations in the demo region's counties — water sections, air quality,
negative air ions and one hydrological station — with a year of hourly readings up to yesterday imported through
the same checks as a file (an ammonia episode and a haze episode raise alerts; one station has a three-day gap);
the region's land cover ingested for its first year and a following year with a few seeded changes (forest cleared
for building and a quarry, farmland built on, a pond filled), compared per township; and a handful of patrol
reports, one with a photo."""

from __future__ import annotations

import io
import json
import tempfile
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
from shapely.geometry import shape
from sqlalchemy import func, select

from gep.accounting.region import package_frame
from gep.db import unit_of_work
from gep.kit.domain import SeedContext
from gep.kit.principal import ALL, Principal
from gep.monitoring import service
from gep.monitoring.models import Station
from gep.regions import service as regions

CENTRE = "丽水市生态环境监测中心（演示）"
# (kind, code prefix, parameters with their typical value, day-to-day spread and unit)
KINDS = {
    "water_section": [("codmn", 2.2, 0.35, "mg/L"), ("nh3n", 0.25, 0.08, "mg/L"), ("do", 8.0, 0.9, "mg/L")],
    "air_quality": [("pm25", 24.0, 10.0, "µg/m3"), ("pm10", 42.0, 15.0, "µg/m3")],
    "negative_ions": [("ions", 3200.0, 900.0, "ions/cm3")],
    "hydrology": [("level", 52.0, 0.8, "m")],
}
PLAN = [("water_section", 0), ("water_section", 1), ("water_section", 2), ("water_section", 4), ("water_section", 6),
        ("air_quality", 0), ("air_quality", 3), ("air_quality", 5), ("air_quality", 8),
        ("negative_ions", 3), ("negative_ions", 7), ("hydrology", 2)]
PATROLS = [("illegal_logging", "发现一处新伐桩约 20 株（演示）"), ("fire_risk", "林缘堆放秸秆，已提醒清理（演示）"),
           ("pests", "马尾松成片枯黄，疑似松材线虫病（演示）"), ("pollution", "河面漂浮油污带约 50 米（演示）"),
           ("dumping", "路边倾倒建筑垃圾（演示）")]


def _principal(user_id: int | None, name: str, org_id: int | None) -> Principal:
    return Principal(user_id, name, "demo", org_id, frozenset({ALL}), "system", party=name)


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    if region_id is None:
        return
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    users: dict[str, int] = ctx.shared.get("users", {})
    centre = _principal(users.get("monitor"), CENTRE, orgs.get(CENTRE))
    ranger = _principal(users.get("ranger"), "演示护林员", None)
    data_dir = ctx.data_dir or ctx.workdir / "data"
    rng = np.random.default_rng(ctx.seed + 17)
    with unit_of_work(ctx.factory) as s:
        if s.scalar(select(func.count()).select_from(Station)):
            ctx.say("monitoring: there already")
            return
        counties = regions.zones(s, region_id, "county")
        package = regions.get_region(s, region_id).package_path
        made = _stations(s, counties, centre, rng)
    frame = _readings(made, rng)
    with unit_of_work(ctx.factory) as s:
        result = service.import_readings(s, frame, centre, "demo-readings.csv", synthetic=True)
    ctx.say(f"monitoring: {len(made)} stations (synthetic), {result.stored:,} readings, {result.gap_count} gaps, "
            f"{len(result.alerts)} reading alerts")
    years = _land_cover(ctx, region_id, Path(package), centre, data_dir, rng)
    if years:
        with unit_of_work(ctx.factory) as s:
            report = service.detect_change(s, region_id, years[0], years[1], "township", centre, data_dir,
                                           synthetic=True)
            flagged = sum(1 for x in report.losses if x["lost_ha"] > 0)
        ctx.say(f"monitoring: land cover {years[0]} → {years[1]} (synthetic changes), {flagged} township losses")
    with unit_of_work(ctx.factory) as s:
        for n, (category, note) in enumerate(PATROLS):
            z = counties[(n * 2) % len(counties)]
            c = shape(json.loads(z.geometry)).representative_point()
            photos = [("demo.png", _photo(rng))] if n == 0 else []
            service.file_patrol(s, category, note, round(c.x + rng.normal(0, 0.01), 6),
                                round(c.y + rng.normal(0, 0.01), 6),
                                datetime.now(UTC) - timedelta(days=int(rng.integers(1, 20)), hours=3), photos, ranger,
                                data_dir, synthetic=True)
    ctx.say(f"monitoring: {len(PATROLS)} patrol reports (synthetic)")


def _stations(s: Any, counties: list[Any], by: Principal, rng: np.random.Generator) -> list[Station]:
    made: list[Station] = []
    count: dict[str, int] = {}
    for kind, index in PLAN:
        z = counties[index % len(counties)]
        c = shape(json.loads(z.geometry)).representative_point()
        count[kind] = count.get(kind, 0) + 1
        prefix = {"water_section": "W", "air_quality": "A", "negative_ions": "N", "hydrology": "H"}[kind]
        name = f"{z.name}{service.rules.config().kinds[kind].name_zh.replace('监测站', '站')}（演示）"
        thresholds = {"level": {"limit": 55.0}} if kind == "hydrology" else {}  # the warning level (警戒水位)
        made.append(service.add_station(s, f"{prefix}{count[kind]:02d}", name, kind,
                                        round(c.x + rng.normal(0, 0.02), 6), round(c.y + rng.normal(0, 0.02), 6), by,
                                        z.code, thresholds, synthetic=True))
    return made


def _readings(stations: list[Station], rng: np.random.Generator) -> pd.DataFrame:
    """A year of hourly readings up to the hour the demo is seeded, as text rows of a readings file (Beijing
    time)."""
    end = (pd.Timestamp(datetime.now(UTC)).floor("h").tz_convert("Asia/Shanghai").tz_localize(None)
           - pd.Timedelta(hours=1))
    times = pd.date_range(end=end, periods=365 * 24, freq="h")
    day = times.dayofyear.to_numpy()
    hour = times.hour.to_numpy()
    parts = []
    for st in stations:
        for code, typical, spread, unit in KINDS[st.kind]:
            amplitude = {"air_quality": 0.15, "hydrology": 0.01}.get(st.kind, -0.15)  # winter haze; summer floods
            season = 1 + amplitude * np.cos(2 * np.pi * (day - 15) / 365) * (1 if st.kind == "air_quality" else -1)
            daily = 1 + (0.0 if st.kind == "hydrology" else 0.05) * np.sin(2 * np.pi * (hour - 6) / 24)
            walk = np.convolve(rng.normal(0, 1, len(times)), np.ones(48) / np.sqrt(48), mode="same")
            v = np.clip(typical * season * daily + spread * walk * 0.6, typical * 0.1, None)
            if st.code == "W02" and code == "nh3n":  # a sewage overflow: ammonia past class III for half a day
                v[-480:-468] = rng.uniform(1.3, 2.1, 12)
            if st.code == "A01" and code == "pm25":  # a winter haze episode
                k = int(np.argmin(np.abs((times - (end - pd.Timedelta(days=300))).total_seconds())))
                v[k:k + 30] = rng.uniform(80, 140, 30)
            if st.code == "H01" and code == "level":  # a typhoon's flood crest past the warning level
                k = len(times) - 24 * 70
                v[k:k + 18] = 52.0 + 4.5 * np.sin(np.linspace(0, np.pi, 18))
            keep = np.ones(len(times), dtype=bool)
            if st.code == "W04":  # three days without data: the analyser was serviced
                keep[-2000:-1928] = False
            decimals = 0 if code in ("ions",) else 3
            parts.append(pd.DataFrame({"station": st.code, "time": times[keep].strftime("%Y-%m-%d %H:%M"),
                                       "parameter": code, "value": np.round(v[keep], decimals).astype(str),
                                       "unit": unit}))
    return pd.concat(parts, ignore_index=True)


def _land_cover(ctx: SeedContext, region_id: int, package: Path, by: Principal, data_dir: Path,
                rng: np.random.Generator) -> tuple[int, int] | None:
    """The package's land cover as its first year, and a following year with seeded changes."""
    manifest = tomllib.loads((package / "region.toml").read_text(encoding="utf-8"))
    years = [int(y) for y in manifest["region"]["years"]]
    entry = manifest["layers"]["ecosystem"]
    first = package / str(entry["file"]).format(year=years[0])
    frame = package_frame(package)
    code_of: dict[str, int] = {}
    for code, eco in sorted(frame.ecosystem_codes.items()):
        code_of.setdefault(eco, code)
    with rasterio.open(first) as src:
        profile, data = src.profile, src.read(1)
        res = src.transform.a
    changed = data.copy()
    forest = {c for c, e in frame.ecosystem_codes.items() if e.endswith("forest")}
    crop = {c for c, e in frame.ecosystem_codes.items() if e in ("paddy", "dry_farmland")}
    water = {c for c, e in frame.ecosystem_codes.items() if e in ("reservoir", "lake")}
    side = max(2, round(np.sqrt(60e4) / res))  # about 60 ha a patch
    plan = [(forest, "urban", 3), (forest, "bare_land", 2), (crop, "urban", 2), (water, "paddy", 1)]
    for source, target, patches in plan:
        if target not in code_of or not source:
            continue
        rows, cols = np.nonzero(np.isin(data, list(source)))
        if not len(rows):
            continue
        for _ in range(patches):
            k = int(rng.integers(len(rows)))
            r0, c0 = rows[k], cols[k]
            window = changed[r0:r0 + side, c0:c0 + side]
            window[np.isin(window, list(source))] = code_of[target]
    year_to = years[0] + 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"ecosystem-{year_to}.tif"
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(changed, 1)
        with unit_of_work(ctx.factory) as s:
            service.ingest_raster(s, region_id, "ecosystem", years[0], first, first.name, by, data_dir,
                                  "the demo region's land cover (synthetic)", synthetic=True)
            service.ingest_raster(s, region_id, "ecosystem", year_to, path, path.name, by, data_dir,
                                  f"the demo's {years[0]} land cover with seeded changes (synthetic)", synthetic=True)
    return years[0], year_to


def _photo(rng: np.random.Generator) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.fromarray((rng.random((240, 320, 3)) * 60 + np.array([40, 110, 50])).astype(np.uint8))
    ImageDraw.Draw(img).text((10, 10), "demo photo (synthetic)", fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
