"""Stands from a vector file (GeoPackage, GeoJSON, Shapefile …) for the methodology, every problem named with
its row: the input of `gep carbon estimate`."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd

from gep.carbon.methodology import Stand
from gep.errors import N_, FileError, InputError, Problem

NEEDED = ("species", "project_start", "project_end")


def read(path: Path) -> list[Stand]:
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own errors for unreadable files
        raise InputError(N_("{file} cannot be read as a vector file: {reason}"), file=path.name,
                         reason=str(exc)[:200]) from exc
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise InputError(N_("{file} lacks the column(s) {columns}"), file=path.name, columns=", ".join(missing))
    areas = None
    if "area_ha" not in frame.columns:
        if frame.crs is None or not frame.crs.is_projected:
            raise InputError(N_("{file} has no area_ha column and its CRS is not projected: give area_ha, or "
                                "reproject the stands to a projected CRS"), file=path.name)
        areas = frame.geometry.area / 1e4
    problems: list[Problem] = []
    out: list[Stand] = []
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        values = row._asdict()
        try:
            area = float(areas.iloc[i - 1]) if areas is not None else float(values["area_ha"])
            numbers = [float(values.get(k) if values.get(k) is not None else 0.0)
                       for k in ("baseline_start", "baseline_end", "project_start", "project_end")]
            if any(math.isnan(v) for v in [area, *numbers]):
                raise ValueError
        except (TypeError, ValueError):
            problems.append(Problem(N_("row {row}"), N_("area_ha and the growing stocks are numbers"), row=i))
            continue
        stand = Stand(str(values.get("id") or i), str(values["species"]), area, *numbers)
        try:
            stand.check()
        except InputError as exc:
            problems.append(Problem(N_("row {row}"), exc.template, row=i, **exc.params))
            continue
        out.append(stand)
    if problems:
        raise FileError(path.name, problems)
    return out
