"""Scoring every subject from scratch (ecological credit): the seeded demo database's subjects and accepted events
recounted by `service.recount`, against the baseline of only reading the events and tallying them in memory
(`rules.tally`, the least a recount must do), measured in the same run. Nothing changes on a second recount.

    python benchmarks/bench_credit.py --database gep-demo/gep.db   (after `gep demo`)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="gep-demo/gep.db")
    args = parser.parse_args()

    from gep.credit import rules, service
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import SYSTEM

    factory = session_factory(make_engine(f"sqlite:///{Path(args.database).resolve()}"))
    with unit_of_work(factory) as s:
        started = time.perf_counter()
        events = service.counted_events(s)
        on = service.today()
        for evs in events.values():
            rules.tally(evs, on)
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        first = service.recount(s, SYSTEM)
        full = time.perf_counter() - started
        started = time.perf_counter()
        again = service.recount(s, SYSTEM)
        second = time.perf_counter() - started
        s.rollback()  # a benchmark changes nothing
    print(f"subjects {first.subjects:,}, accepted events {first.events:,}")
    print(f"read and tally only (baseline): {baseline:.2f} s")
    print(f"recount from scratch:           {full:.2f} s ({full / baseline:.1f}× the baseline; "
          f"{first.changed:,} scores changed)")
    print(f"recount again:                  {second:.2f} s ({again.changed} changed)")


if __name__ == "__main__":
    main()
