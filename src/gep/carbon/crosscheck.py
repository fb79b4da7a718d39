"""The cross-check of issuance against the GEP accounts: what the accounting engine's carbon sequestration
indicator (固碳: CO₂ = NPP × NEP/NPP ratio of the ecosystem × 44/12, per pixel) gives over the project's own
parcels, for the same years. A project whose issued tonnes exceed that by more than the configured margin is
flagged (not blocked: the methodology and the indicator measure differently, a person looks)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio.features import rasterize
from rasterio.windows import from_bounds
from shapely.geometry.base import BaseGeometry

from gep.accounting.catalogue import ECOSYSTEMS
from gep.accounting.indicators._carbon import C_TO_CO2
from gep.accounting.region import load_region

CONFIG = Path(__file__).resolve().parent / "data" / "carbon.toml"


def margin_pct() -> float:
    """How far issuance may exceed the indicator before a project is flagged (data/carbon.toml)."""
    return float(tomllib.loads(CONFIG.read_text(encoding="utf-8"))["crosscheck"]["margin_pct"])


@dataclass(frozen=True)
class Sequestration:
    year: int  # the accounts' year used
    tco2_per_year: float
    pixels: int
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "tco2_per_year": self.tco2_per_year, "pixels": self.pixels, "method": self.method}


def sequestration(package: str, method: str | None, geometries: Sequence[BaseGeometry], year: int) -> Sequestration:
    """t CO₂ a year the engine's carbon indicator gives over the geometries (in the region's CRS; pixel-centre
    rule), for the accounts' year nearest to `year`."""
    region = load_region(package)
    used = min(region.years, key=lambda y: abs(y - year))
    profile = region.profile(method)
    ratios = profile.parameters["carbon_sequestration.nep_npp_ratio"].table()
    grid = region.grid
    outline = shapely.union_all(list(geometries))
    window = from_bounds(*outline.bounds, transform=grid.transform)
    col0, row0 = max(int(np.floor(window.col_off)), 0), max(int(np.floor(window.row_off)), 0)
    col1 = min(int(np.ceil(window.col_off + window.width)) + 1, grid.width)
    row1 = min(int(np.ceil(window.row_off + window.height)) + 1, grid.height)
    if col1 <= col0 or row1 <= row0:
        return Sequestration(used, 0.0, 0, profile.id)
    transform = grid.transform @ Affine.translation(col0, row0)
    mask = rasterize([(outline, 1)], out_shape=(row1 - row0, col1 - col0), transform=transform, fill=0,
                     all_touched=False, dtype="uint8").astype(bool)
    npp = np.asarray(region.layer("npp", used)[row0:row1, col0:col1])
    index, ids = region.ecosystem_index(used)
    eco = np.asarray(index[row0:row1, col0:col1])
    # a table keyed by ecosystem id or group (ids win), as the engine's PixelContext.by_ecosystem reads it
    lut = np.array([ratios.get(i, ratios.get(ECOSYSTEMS[i].group, 0.0)) for i in ids] + [0.0])
    per_pixel = np.maximum(np.nan_to_num(npp) * lut[eco], 0.0) * grid.pixel_area_m2 * 1e-6 * C_TO_CO2
    return Sequestration(used, float(per_pixel[mask].sum()), int(mask.sum()), profile.id)


def years_between(start: date, end: date) -> float:
    return (end - start).days / 365.25


def exceeds(issued_t: int, expected_t: float, margin: float) -> bool:
    """Issuance beyond the indicator by more than the margin (any issuance where the accounts show none)."""
    if expected_t <= 0:
        return issued_t > 0
    return issued_t > expected_t * (1 + margin / 100)
