"""The GEP assessment and rewards on the seeded demo database, each against a baseline measured in the same run
(nothing is kept: every change is rolled back):

- a county sheet scored (29 indicators, 9 counties: submitted values, growth at constant prices, ranks, colours)
  against only reading the two years' county accounts it needs;
- a reward round over the 173 townships (GEP increment, floor, cap, the budget allocated) against only reading the
  two years' township accounts;
- approving the round (one ledger batch of a payment per township, audit) against computing it;
- a project check (negative list over the listed areas, GEP change) against the damage valuation of the same
  outline alone.

    python benchmarks/bench_assessment.py --database gep-demo/gep.db   (after `gep demo`)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def timed(run: object, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="gep-demo/gep.db")
    parser.add_argument("--year", type=int, default=2021)
    args = parser.parse_args()

    import gep.app  # noqa: F401 (every domain's tables, for the foreign keys)
    from gep.assessment import projects, rewards, service
    from gep.compensation import service as compensation
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import ALL, Principal
    from gep.regions import service as regions

    office = Principal(None, "bench", "assessor", None, frozenset({ALL}), "system")
    factory = session_factory(make_engine(f"sqlite:///{Path(args.database).resolve()}"))
    with unit_of_work(factory) as s:
        region_id = regions.list_regions(s)[0].id
        s_ = service.indicator_set(s, "county-2021")
        read_counties = timed(lambda: service.accounts_of(s, region_id, args.year))
        scored = timed(lambda: service.score_year(s, s_, region_id, args.year))
        read_towns = timed(lambda: service.accounts_of(s, region_id, args.year, "township"))
        round_ = timed(lambda: rewards.compute_round(s, "gep-increment-2019", region_id, args.year, office))
        row = rewards.compute_round(s, "gep-increment-2019", region_id, args.year, office)
        started = time.perf_counter()
        rewards.approve(s, row.id, office)
        approving = time.perf_counter() - started
        zones = row.body["rewarded"]
        s.rollback()

        check = projects.projects(s)[0]
        code = check.code
        req = projects.ProjectRequest(check.name, check.industry, check.region_id, check.geometry,
                                      check.from_ecosystem, check.to_ecosystem)
        projects.evaluate(s, req)  # the region's ecosystem map is opened once per process
        valued = timed(lambda: compensation.value_land_change(s, req.region_id, req.geometry, req.from_ecosystem,
                                                              req.to_ecosystem, req.name))
        checked = timed(lambda: projects.evaluate(s, req))
        s.rollback()
    print(f"county sheet {args.year}: 9 counties × 29 indicators")
    print(f"read two years of county accounts (baseline): {read_counties * 1000:.1f} ms")
    print(f"score the sheet:                              {scored * 1000:.1f} ms ({scored / read_counties:.1f}× the "
          "baseline)")
    print(f"read two years of township accounts (baseline): {read_towns * 1000:.1f} ms")
    print(f"compute the GEP-increment round (173 towns):    {round_ * 1000:.1f} ms ({round_ / read_towns:.1f}× the "
          "baseline)")
    print(f"approve it ({zones} payments, one ledger batch): {approving * 1000:.1f} ms ({approving / round_:.1f}× "
          "computing)")
    print(f"project {code}: value the land change (baseline): {valued * 1000:.1f} ms")
    print(f"check the project (areas, negative list, GEP change):  {checked * 1000:.1f} ms ({checked / valued:.2f}× "
          "the baseline)")


if __name__ == "__main__":
    main()
