"""Monitoring at the size the issue names, each against a baseline measured in the same run:

- a year of hourly readings for 200 stations (1,752,000 rows, one CSV) checked and stored in one transaction
  (SQLite, and PostgreSQL with --postgres URL), against only parsing the same file with pandas;
- the same file again (every row already stored: all skipped), against the first import;
- land-cover change of a county-size raster pair (default 2,000 × 2,000 pixels of 30 m, 3,600 km², 100 villages in
  10 townships) counted per township, against reading both rasters once; and its Web-Mercator map.

    python benchmarks/bench_monitoring.py [--stations 200] [--side 2000] [--postgres URL]

Peak memory is the process's resident peak (ru_maxrss) after each part.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def readings_csv(path: Path, stations: int, hours: int) -> int:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    times = pd.date_range("2025-01-01", periods=hours, freq="h").strftime("%Y-%m-%d %H:%M")
    with path.open("w", encoding="utf-8") as f:
        f.write("station,time,parameter,value,unit\n")
        for k in range(stations):
            values = np.round(2.0 + rng.gamma(2.0, 0.4, hours), 3).astype(str)
            pd.DataFrame({"s": f"S{k:03d}", "t": times, "p": "codmn", "v": values, "u": "mg/L"}).to_csv(
                f, header=False, index=False)
    return stations * hours


def bench_readings(url: str, path: Path, stations: int, label: str) -> None:
    import pandas as pd
    from sqlalchemy import func, select

    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import SYSTEM
    from gep.migrations import upgrade
    from gep.monitoring import service
    from gep.monitoring.models import Reading

    upgrade(url)
    factory = session_factory(make_engine(url))
    with unit_of_work(factory) as s:
        for k in range(stations):
            service.add_station(s, f"S{k:03d}", f"站 {k}", "water_section", 119.0 + k / 1000, 28.0, SYSTEM)
    data = path.read_bytes()
    t0 = time.perf_counter()
    pd.read_csv(path, dtype=str, keep_default_na=False)
    baseline = time.perf_counter() - t0
    t0 = time.perf_counter()
    with unit_of_work(factory) as s:
        first = service.import_readings(s, service.read_csv(data, path.name), SYSTEM, path.name, data)
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    with unit_of_work(factory) as s:
        again = service.import_readings(s, service.read_csv(data, path.name), SYSTEM, path.name, data)
    took_again = time.perf_counter() - t0
    with unit_of_work(factory) as s:
        stored = s.scalar(select(func.count()).select_from(Reading))
    print(f"[{label}] parse only (pandas, baseline): {baseline:6.2f} s")
    print(f"[{label}] check + store {first.rows:,} rows: {took:6.2f} s  ({took / baseline:4.1f}× the baseline; "
          f"{first.rows / took:,.0f} rows/s); stored {stored:,}, gaps {first.gap_count}, alerts {len(first.alerts)}")
    print(f"[{label}] the same file again (all {again.skipped:,} skipped): {took_again:6.2f} s  "
          f"({took_again / took:4.2f}× the first import)")
    print(f"[{label}] peak resident memory so far: {rss_mb():,.0f} MB")


def bench_change(side: int, work: Path) -> None:
    import numpy as np
    import rasterio

    from gep.monitoring import change
    from gep.testing import TinyRegion, Village

    rng = np.random.default_rng(2)
    # land cover in blocks of 50 pixels (forest, shrub, paddy, urban, water), then a following year with changes
    blocks = rng.choice([11, 12, 21, 51, 52, 61, 43], size=(side // 50 + 1, side // 50 + 1),
                        p=[0.45, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05])
    before = np.kron(blocks, np.ones((50, 50), dtype=np.uint8))[:side, :side].astype(np.uint8)
    after = before.copy()
    for _ in range(60):  # clearings of 1–9 ha
        r, c, n = int(rng.integers(side - 10)), int(rng.integers(side - 10)), int(rng.integers(3, 10))
        after[r:r + n, c:c + n] = 61
    step = side // 10
    villages = [Village(f"1001010{t:02d}{v:03d}", (t * step, (t + 1) * step), (v * step, (v + 1) * step),
                        township=f"1001010{t:02d}") for t in range(10) for v in range(10)]
    package = TinyRegion(before, villages=villages, resolution=30.0).write(work / "county")
    (package / "region.toml").write_text((package / "region.toml").read_text().replace("chunk_size = 2",
                                                                                       "chunk_size = 1024"))
    a, b = package / "rasters" / "ecosystem.tif", work / "after.tif"
    with rasterio.open(a) as src:
        profile = src.profile
    with rasterio.open(b, "w", **profile) as dst:
        dst.write(after, 1)
    t0 = time.perf_counter()
    for p in (a, b):
        with rasterio.open(p) as src:
            src.read(1)
    baseline = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = change.compare(package, a, b, "township")
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    change.write_map(result, work / "change.png")
    took_map = time.perf_counter() - t0
    lost = sum(x.lost_ha for x in result.losses if x.group == "forest")
    print(f"[change] {side:,} × {side:,} pixels of 30 m ({side * side * 9e-4:,.0f} km²), 100 villages in 10 townships")
    print(f"[change] read both rasters once (baseline): {baseline:6.2f} s")
    print(f"[change] per-township losses: {took:6.2f} s  ({took / baseline:4.1f}× the baseline); forest lost "
          f"{lost:,.1f} ha")
    print(f"[change] the change map (warp to Web Mercator, PNG): {took_map:6.2f} s  ({took_map / baseline:4.1f}× "
          f"the baseline)")
    print(f"[change] peak resident memory so far: {rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--hours", type=int, default=8760)
    parser.add_argument("--side", type=int, default=2000)
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL whose database may be written (a fresh "
                                                       "schema is made and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "readings.csv"
        rows = readings_csv(path, args.stations, args.hours)
        print(f"readings file: {rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB")
        bench_readings(f"sqlite:///{work / 'gep.db'}", path, args.stations, "sqlite")
        if args.postgres:
            import uuid

            from sqlalchemy import create_engine, text

            schema = f"bench_{uuid.uuid4().hex[:8]}"
            engine = create_engine(args.postgres)
            with engine.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                sep = "&" if "?" in args.postgres else "?"
                bench_readings(f"{args.postgres}{sep}options=-csearch_path%3D{schema}", path, args.stations,
                               "postgresql")
            finally:
                with engine.begin() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        bench_change(args.side, work)


if __name__ == "__main__":
    main()
