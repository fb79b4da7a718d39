"""Watershed compensation and damage valuation on the seeded demo database, each against a baseline measured in
the same run (nothing is kept: every change is rolled back):

- a basin's year computed (every section's annual means, ratcheted baseline, index, direction) against only
  reading that year's observations;
- closing the year (stakes and payout through the ledger, audit) against computing it;
- a damage case valued (before and after per indicator, the schedule) against the registry's VEP of the same
  polygon (the same pixels of the same value-density raster, read once).

    python benchmarks/bench_compensation.py --database gep-demo/gep.db   (after `gep demo`)
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
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()

    import geopandas as gpd
    from shapely.geometry import shape
    from sqlalchemy import select

    import gep.app  # noqa: F401 (every domain's tables, for the foreign keys)
    from gep.compensation import damage_service, service
    from gep.compensation.models import Observation
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import ALL, Principal
    from gep.regions import service as regions
    from gep.registry import vep

    office = Principal(None, "bench", "env_officer", None, frozenset({ALL}), "system")
    factory = session_factory(make_engine(f"sqlite:///{Path(args.database).resolve()}"))
    with unit_of_work(factory) as s:
        basin = service.basins(s)[0]
        code = basin.code
        sections = service.sections_of(s, basin.id)
        agreements = [service.agreement_for(s, x.id, args.year) for x in sections]
        read = timed(lambda: [list(s.scalars(select(Observation).where(Observation.section_id == x.id,
                                                                       Observation.year == args.year)))
                              for x in sections])
        computed = timed(lambda: [service.compute(s, a, args.year) for a in agreements])
        n_obs = sum(service.compute(s, a, args.year).count for a in agreements)
        started = time.perf_counter()
        done = service.close_year(s, basin.id, args.year, office, accept_gaps=True, reason="benchmark")
        closing = time.perf_counter() - started
        s.rollback()

        case = damage_service.cases(s)[0]
        case_code, ha, bands = case.code, case.result["changed_ha"], len(case.result["indicators"])
        req = damage_service.request_of(case)
        run = regions.latest_runs(s, case.region_id)[case.result["accounts_year"]]
        crs = regions.package_zones(regions.get_region(s, case.region_id)).frame.crs
        geom = gpd.GeoSeries([shape(case.geometry)], crs="EPSG:4326").to_crs(crs).iloc[0]
        surface = vep.surface(run.id, run.output_dir, run.year, run.price_year, run.method)
        damage_service.valuate(s, req)  # the region's ecosystem map is opened once per process
        baseline = timed(lambda: vep.value(surface, geom))
        valued = timed(lambda: damage_service.valuate(s, req))
        s.rollback()
    print(f"basin {code}, {len(sections)} sections, {args.year}: {n_obs:,} observations used")
    print(f"read the year's observations (baseline): {read * 1000:.1f} ms")
    print(f"compute every section's year:            {computed * 1000:.1f} ms ({computed / read:.1f}× the baseline)")
    print(f"close the year (ledger, audit):          {closing * 1000:.1f} ms ({closing / computed:.1f}× computing; "
          f"{len(done['closed'])} closed)")
    print(f"damage case {case_code}: {ha:.1f} ha, {bands} indicator bands")
    print(f"VEP of the polygon (baseline):           {baseline * 1000:.1f} ms")
    print(f"value the case (before, after, schedule): {valued * 1000:.1f} ms ({valued / baseline:.1f}× the baseline)")


if __name__ == "__main__":
    main()
