"""A (sub)watershed vector as the InVEST models read it: polygons in file order, attribute fields, CRS.

Read with fiona rather than geopandas: a model needs a handful of polygons and their fields, and geopandas
(with pandas and pyproj) takes longer to import than AWY takes to compute a 4 M-pixel raster.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import fiona
from rasterio.crs import CRS
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gep.invest.errors import InvestCompatError


@dataclass(frozen=True)
class Vector:
    """Features in file order: geometries (None where a feature has none) and each field's values."""

    path: str
    fields: tuple[str, ...]
    columns: dict[str, list[Any]]
    geometries: list[BaseGeometry | None]
    crs: CRS | None

    def __len__(self) -> int:
        return len(self.geometries)

    @property
    def total_bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of every geometry, as GeoSeries.total_bounds."""
        boxes = [g.bounds for g in self.geometries if g is not None and not g.is_empty]
        if not boxes:
            raise InvestCompatError(f"{self.path}: the vector has no geometry")
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))

    def renamed(self, old: str, new: str) -> Vector:
        """The same features with field `old` called `new` (in its place among the fields)."""
        if old == new:
            return self
        fields = tuple(new if f == old else f for f in self.fields)
        columns = {(new if f == old else f): values for f, values in self.columns.items()}
        return replace(self, fields=fields, columns=columns)

    def field(self, name: str) -> str | None:
        """The field's name as the file spells it, matched case-insensitively (InVEST lower-cases them)."""
        return next((f for f in self.fields if f.lower() == name.lower()), None)


def read_vector(path: str, label: str, crs: CRS | None = None, crs_of: str = "") -> Vector:
    """Read every feature; an unreadable file, or a CRS other than `crs` (that of the raster arg `crs_of`:
    InVEST requires one CRS), names the arg."""
    try:
        with fiona.open(path) as src:
            fields = tuple(src.schema["properties"])
            wkt = src.crs_wkt
            features = list(src)
    except (fiona.errors.FionaError, OSError) as exc:  # fiona raises DriverError and others for unreadable files
        raise InvestCompatError(f"{label}: cannot read vector {path}: {exc}") from exc
    own_crs = CRS.from_wkt(wkt) if wkt else None
    if crs is not None and own_crs is not None and own_crs != crs:
        raise InvestCompatError(f"unsupported: {label} is not in the CRS of {crs_of} (InVEST requires one CRS)")
    columns: dict[str, list[Any]] = {name: [f.properties[name] for f in features] for name in fields}
    geometries = [None if f.geometry is None else shape(f.geometry) for f in features]
    return Vector(path, fields, columns, geometries, own_crs)
