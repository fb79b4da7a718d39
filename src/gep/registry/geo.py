"""Where a parcel is: the region's zones in its equal-area CRS, a parcel's village, township and county, and
overlaps between parcels of one kind. Geometry in, plain answers out (shapely, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

OVERLAP_M2 = 10.0  # digitising slivers up to this area, or …
OVERLAP_SHARE = 0.005  # … up to this share of the smaller parcel, are not overlaps
OUTSIDE_M = 5.0  # a parcel may stick out of the region's boundary by this much


@dataclass(frozen=True)
class ZoneIndex:
    """The lowest-level zones of a region with the codes of every level, in the region's CRS."""

    crs: CRS
    geometries: np.ndarray  # shapely geometries of the lowest level
    codes: dict[str, list[str]]  # level -> code of each lowest zone
    levels: tuple[str, ...]

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geometries)

    @cached_property
    def boundary(self) -> BaseGeometry:
        return shapely.union_all(self.geometries).buffer(OUTSIDE_M)

    def inside(self, geom: BaseGeometry) -> bool:
        return bool(self.boundary.contains(geom))

    def locate(self, geom: BaseGeometry) -> dict[str, str]:
        """The codes of the zone holding most of the geometry (its point for points), at every level."""
        candidates = self.tree.query(geom)
        if len(candidates) == 0:
            return {}
        if geom.geom_type in ("Point", "MultiPoint") or geom.area == 0:
            probe = geom if geom.geom_type == "Point" else geom.representative_point()
            hits = [i for i in candidates if self.geometries[i].intersects(probe)] or list(candidates)
            best = int(hits[0])
        else:
            shares = [self.geometries[i].intersection(geom).area for i in candidates]
            best = int(candidates[int(np.argmax(shares))])
        return {level: self.codes[level][best] for level in self.levels}


def overlap_too_large(a: BaseGeometry, b: BaseGeometry) -> float:
    """The overlap's area when it is more than a sliver, else 0."""
    if a.area == 0 or b.area == 0 or not a.intersects(b):
        return 0.0
    shared = a.intersection(b).area
    limit = max(OVERLAP_M2, OVERLAP_SHARE * min(a.area, b.area))
    return float(shared) if shared > limit else 0.0


def validity(geom: BaseGeometry) -> str:
    """Why a geometry is not valid ('' when it is): self-intersection, too few points …"""
    return "" if geom.is_valid else str(shapely.is_valid_reason(geom))


def length_of(geom: BaseGeometry) -> float:
    return float(geom.length) if geom.geom_type in ("LineString", "MultiLineString") else 0.0
