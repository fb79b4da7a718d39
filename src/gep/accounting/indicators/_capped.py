"""The capacity-versus-emission rule shared by air and water purification.

An ecosystem cannot purify more than is emitted: at each zone that has an emission figure, the quantity is
min(capacity of the zone's ecosystems, emission), spread to its lowest-level zones by their capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from gep.accounting.statistics import allocate

if TYPE_CHECKING:
    from gep.accounting.context import ZoneContext


def capped(ctx: ZoneContext, item: str, capacity: pd.Series) -> tuple[pd.Series, str]:
    """Per-zone purified quantity under the rule; returns (values, source levels)."""
    figures = ctx.region.statistics.for_year(ctx.year).figures(item)
    zones = ctx.zones
    given = {}
    for row in figures.itertuples():
        members = zones.members(row.zone_code, row.level)
        given[row.zone_code] = min(float(row.value), float(capacity.reindex(members).sum()))
    levels = "+".join(sorted(set(figures["level"]), key=list(zones.levels).index))
    return allocate(given, zones, capacity, item), levels
