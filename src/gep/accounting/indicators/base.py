"""What an indicator is: a SPEC that describes it, and two hooks that compute its quantities.

An indicator contributes per-pixel layers (summed per zone in the engine's single pass over the chunks)
and turns those sums and the statistics into per-zone quantities of its sub-indicators. Valuation is
quantity x unit price, done by the engine, so every indicator's value is linear in its quantity and the
levels above the lowest one are exact sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal, TypeAlias

import pandas as pd

if TYPE_CHECKING:
    import dask.array as da

    from gep.accounting.context import ClassValues, PixelContext, ZoneContext

    Layer: TypeAlias = da.Array | ClassValues  # a raster-derived layer, or one that depends on the class only

Category = Literal["material", "regulating", "cultural"]
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "material": ("物质产品", "Material products"),
    "regulating": ("调节服务", "Regulating services"),
    "cultural": ("文化服务", "Cultural services"),
}


@dataclass(frozen=True)
class ParamSpec:
    """A parameter an indicator reads from the method profile (id is `indicator.name`)."""

    name: str
    name_zh: str
    unit: str
    by_ecosystem: bool = False
    description: str = ""


@dataclass(frozen=True)
class OutputSpec:
    """A sub-indicator: one physical quantity and the parameter that prices it.

    price None: the quantity is already an output value in yuan; price "": shown for reference, not valued
    (its value is carried by sibling sub-indicators, e.g. soil retained vs. avoided sedimentation).
    """

    id: str
    name_zh: str
    name_en: str
    unit: str
    price: str | None


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    name_zh: str
    name_en: str
    category: Category
    outputs: tuple[OutputSpec, ...]
    layers: tuple[str, ...] = ()
    optional_layers: tuple[str, ...] = ()
    statistics: tuple[str, ...] = ()
    parameters: tuple[ParamSpec, ...] = ()
    reference: str = ""
    formula: str = ""

    def param_id(self, name: str) -> str:
        return f"{self.id}.{name}"

    def output(self, sub_id: str) -> OutputSpec:
        for out in self.outputs:
            if out.id == sub_id:
                return out
        raise KeyError(f"{self.id} has no sub-indicator {sub_id!r}")


@dataclass
class SubQuantity:
    """Per-zone quantity of one sub-indicator, indexed by lowest-level zone code."""

    output: OutputSpec
    quantity: pd.Series
    source_level: str = "pixel"
    proxy: str = ""
    value_factor: pd.Series | None = None  # per-zone yuan per unit when the price varies by zone


@dataclass
class Skip(Exception):
    """Raised by an indicator whose optional inputs are absent: the accounts record the reason."""

    reason: str


@dataclass
class Indicator:
    """Base class: override `pixel_layers` and/or `quantities`."""

    SPEC: ClassVar[IndicatorSpec]
    notes: list[str] = field(default_factory=list)

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        """Per-pixel layers (quantity per pixel) to be summed per zone; keys are local names."""
        return {}

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        """Per-zone quantities; by default each pixel layer named after an output is that output."""
        return [SubQuantity(out, ctx.sums(self.SPEC.id, out.id)) for out in self.SPEC.outputs]
