"""Importing monitored emission records (discharge cards): time to check and book N hourly records against
checking them only (rules.check_records, the least any import must do), measured in the same run, and the same
records posted again (all skipped: nothing booked twice).

    python benchmarks/bench_emissions.py [--rows 40000] [--database-url sqlite:///…|postgresql+psycopg://…]

One synthetic enterprise (seeded credit code) with a COD permit, N hourly records from 2026-01-01.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

CODE = "91100101MA0000001X"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from gep.auth import service as auth
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.discharge import rules, service
    from gep.kit.principal import SYSTEM, Principal
    from gep.migrations import upgrade

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    factory = session_factory(make_engine(url))
    with unit_of_work(factory) as s:
        bureau_org = auth.create_organisation(s, "生态环境局（基准）", "government", SYSTEM).id
        firm_org = auth.create_organisation(s, "某企业（基准）", "enterprise", SYSTEM).id
        bureau = Principal(None, "bench", "system", bureau_org, frozenset({"*"}), "system", party="生态环境局（基准）")
        firm = service.register_enterprise(s, firm_org, "某企业（基准）", CODE, "100101", bureau)
        service.set_cap(s, "100101", "cod", 2026, 10**12, bureau)
        service.set_cap(s, "100101", "cod", 2027, 10**12, bureau)
        service.issue_permit(s, firm.id, 2026, 2, [service.Line("cod", 10**11)], bureau)
        firm_id = firm.id
    start = datetime(2026, 1, 1)
    rows = [{"enterprise": CODE, "pollutant": "cod", "time": (start + timedelta(hours=i)).isoformat(),
             "value": "1.5", "unit": "kg"} for i in range(args.rows)]

    t = time.perf_counter()
    checked, _ = rules.check_records(rows, {CODE: firm_id}, {}, {})
    check_s = time.perf_counter() - t
    assert not checked.problems
    t = time.perf_counter()
    with unit_of_work(factory) as s:
        first = service.record_emissions(s, rows, bureau, "bench.csv")
    book_s = time.perf_counter() - t
    t = time.perf_counter()
    with unit_of_work(factory) as s:
        again = service.record_emissions(s, rows, bureau, "bench.csv")
    again_s = time.perf_counter() - t
    print(f"database: {url.split(':')[0]}; {args.rows:,} hourly records")
    print(f"check only (baseline): {check_s:6.2f} s  ({args.rows / check_s:10,.0f} rows/s)")
    print(f"check and book:        {book_s:6.2f} s  ({args.rows / book_s:10,.0f} rows/s)  ratio "
          f"{book_s / check_s:5.1f}×")
    print(f"the same file again:   {again_s:6.2f} s  ({args.rows / again_s:10,.0f} rows/s)  ratio "
          f"{again_s / check_s:5.1f}×  booked {again.booked}, skipped {again.skipped}")
    assert first.booked == args.rows and again.booked == 0


if __name__ == "__main__":
    main()
