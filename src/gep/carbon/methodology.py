"""Stand-level carbon estimates by the biomass expansion factor (BEF) method, as pure code.

A methodology is a versioned TOML file in `data/methods/`: every parameter has a value, unit, source and a
verified flag, like the GEP method profiles. For a tree stand (PLATFORM.md §6.2, AR-CM-001 structure):

    B  = V × WD × BEF × (1 + R)          volume m³/ha → biomass t d.m./ha
    C  = B × CF                          t C/ha
    dead wood and litter: fractions of the tree carbon (the default-factor method)
    ΔC = (C_end − C_start) × area        per pool
    ER = (ΔC_project − ΔC_baseline) × 44/12 − leakage      t CO₂e

A bamboo stand has no volume: B = culms/ha × biomass per culm × (1 + R).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.errors import N_, InputError

METHODS_DIR = Path(__file__).resolve().parent / "data" / "methods"
C_TO_CO2 = 44.0 / 12.0
TREE_PARAMS = ("wood_density", "bef", "root_shoot", "carbon_fraction")
BAMBOO_PARAMS = ("biomass_per_culm", "root_shoot", "carbon_fraction")


@dataclass(frozen=True)
class Param:
    value: float
    unit: str
    source: str
    verified: bool


@dataclass(frozen=True)
class Methodology:
    id: str
    name_zh: str
    name_en: str
    version: str
    reference: str
    species: dict[str, dict[str, Param]]  # species group -> parameter -> value
    species_names: dict[str, tuple[str, str]]
    pools: dict[str, Param]  # deadwood_fraction, litter_fraction, leakage_fraction

    def param(self, species: str, name: str) -> Param:
        if species not in self.species:
            raise InputError(N_("species group {species} is not in methodology {method} (known: {known})"),
                             species=repr(species), method=self.id, known=", ".join(sorted(self.species)))
        return self.species[species][name]

    def unverified(self) -> list[str]:
        out = [f"{s}.{k}" for s, ps in self.species.items() for k, p in ps.items() if not p.verified]
        return out + [k for k, p in self.pools.items() if not p.verified]

    def as_dict(self) -> dict[str, Any]:
        def one(p: Param) -> dict[str, Any]:
            return {"value": p.value, "unit": p.unit, "source": p.source, "verified": p.verified}
        return {"id": self.id, "name_zh": self.name_zh, "name_en": self.name_en, "version": self.version,
                "reference": self.reference,
                "species": {s: {"name_zh": self.species_names[s][0], "name_en": self.species_names[s][1],
                                **{k: one(p) for k, p in ps.items()}} for s, ps in self.species.items()},
                "pools": {k: one(p) for k, p in self.pools.items()}}


def available() -> list[str]:
    return sorted(p.stem for p in METHODS_DIR.glob("*.toml"))


@lru_cache(maxsize=8)
def load(method_id: str) -> Methodology:
    path = METHODS_DIR / f"{method_id}.toml"
    if not path.exists():
        raise InputError(N_("unknown carbon methodology {method} (known: {known})"), method=repr(method_id),
                         known=", ".join(available()))
    raw = tomllib.loads(path.read_text(encoding="utf-8"))

    def param(where: str, d: dict[str, Any]) -> Param:
        try:
            return Param(float(d["value"]), str(d["unit"]), str(d["source"]), bool(d["verified"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(N_("{file}: {where} needs value, unit, source and verified"), file=path.name,
                             where=where) from exc

    species: dict[str, dict[str, Param]] = {}
    names: dict[str, tuple[str, str]] = {}
    for sid, spec in raw["species"].items():
        needed = BAMBOO_PARAMS if spec.get("kind") == "bamboo" else TREE_PARAMS
        species[sid] = {k: param(f"species.{sid}.{k}", spec[k]) for k in needed if k in spec}
        missing = [k for k in needed if k not in spec]
        if missing:
            raise InputError(N_("{file}: species {species} lacks {missing}"), file=path.name, species=sid,
                             missing=", ".join(missing))
        names[sid] = (str(spec.get("name_zh", sid)), str(spec.get("name_en", sid)))
    pools = {k: param(f"pools.{k}", v) for k, v in raw.get("pools", {}).items()}
    return Methodology(str(raw["id"]), str(raw["name_zh"]), str(raw["name_en"]), str(raw["version"]),
                       str(raw.get("reference", "")), species, names, pools)


@dataclass(frozen=True)
class Stand:
    """A stand as inventoried: its species group, area, and the growing stock (m³/ha; bamboo: culms/ha) at the
    start and the end of the period, in the baseline and with the project."""

    id: str
    species: str
    area_ha: float
    baseline_start: float
    baseline_end: float
    project_start: float
    project_end: float

    def check(self) -> None:
        if not self.area_ha > 0:
            raise InputError(N_("stand {stand}: area must be positive, not {value} ha"), stand=self.id,
                             value=self.area_ha)
        for name in ("baseline_start", "baseline_end", "project_start", "project_end"):
            value = getattr(self, name)
            if not value >= 0:
                raise InputError(N_("stand {stand}: {field} must be zero or more, not {value}"), stand=self.id,
                                 field=name, value=value)


@dataclass(frozen=True)
class Estimate:
    stand: str
    species: str
    area_ha: float
    carbon_t_per_unit: float  # t C per m³ (or per culm) of growing stock, all pools
    baseline_tco2: float  # ΔC of the baseline × 44/12
    project_tco2: float
    leakage_tco2: float
    removals_tco2: float  # what the stand may be issued
    pools: dict[str, float] = field(default_factory=dict)  # project ΔCO₂ by pool

    def as_dict(self) -> dict[str, Any]:
        return {"stand": self.stand, "species": self.species, "area_ha": self.area_ha,
                "carbon_t_per_unit": self.carbon_t_per_unit, "baseline_tco2": self.baseline_tco2,
                "project_tco2": self.project_tco2, "leakage_tco2": self.leakage_tco2,
                "removals_tco2": self.removals_tco2, "pools": self.pools}


def carbon_per_unit(m: Methodology, species: str) -> dict[str, float]:
    """t C per unit of growing stock (m³, or one bamboo culm), by pool."""
    p = {k: v.value for k, v in m.species[species].items()} if species in m.species else None
    if p is None:
        m.param(species, "carbon_fraction")  # raises the clear error
        raise AssertionError
    if "biomass_per_culm" in p:
        tree = p["biomass_per_culm"] * (1 + p["root_shoot"]) * p["carbon_fraction"]
    else:
        tree = p["wood_density"] * p["bef"] * (1 + p["root_shoot"]) * p["carbon_fraction"]
    out = {"tree": tree}
    for pool in ("deadwood", "litter"):
        key = f"{pool}_fraction"
        if key in m.pools:
            out[pool] = tree * m.pools[key].value
    return out


def estimate(stand: Stand, m: Methodology) -> Estimate:
    stand.check()
    per = carbon_per_unit(m, stand.species)
    total = sum(per.values())
    baseline = (stand.baseline_end - stand.baseline_start) * stand.area_ha * total * C_TO_CO2
    pools = {k: (stand.project_end - stand.project_start) * stand.area_ha * v * C_TO_CO2 for k, v in per.items()}
    project = sum(pools.values())
    leakage_share = m.pools["leakage_fraction"].value if "leakage_fraction" in m.pools else 0.0
    gross = project - baseline
    leakage = max(gross, 0.0) * leakage_share
    return Estimate(stand.id, stand.species, stand.area_ha, total, baseline, project, leakage, gross - leakage, pools)


def issuable(estimates: list[Estimate]) -> int:
    """Whole tonnes a period may be issued: the sum of the stands' removals, rounded down, never negative."""
    return max(int(sum(e.removals_tco2 for e in estimates)), 0)
