"""Valuation: quantity × unit price, with prices moved to a common price year by the price index.

Every value in the accounts passes through `valuate`; the Garzê table test runs the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from gep.accounting.indicators.base import SubQuantity
from gep.accounting.methods import MethodProfile
from gep.errors import N_, MethodError


@dataclass(frozen=True)
class Price:
    """The unit price applied to a sub-indicator, expressed in the price year."""

    value: float | None  # None when it varies by zone (statistics prices)
    unit: str
    source: str
    verified: bool
    parameter: str


def unit_price(sub: SubQuantity, profile: MethodProfile, year: int, price_year: int) -> tuple[Price, pd.Series]:
    """The price of a sub-indicator and the per-zone factor (yuan per unit of quantity) in `price_year`."""
    out = sub.output
    index = profile.price_index
    if sub.value_factor is not None:  # prices from the region's statistics, quoted in the accounting year
        factor = index.factor(year, price_year, N_("{output} prices of {year}: the price index has no value for "
                                                   "{years} (it covers {covers}); add the year to the profile's "
                                                   "[price_index] or choose another price year"),
                              output=out.id, year=year)
        return Price(None, f"yuan/{out.unit}", "region statistics", False, out.price or ""), sub.value_factor * factor
    if out.price == "":  # a physical quantity reported for reference, valued through other sub-indicators
        return Price(0.0, "", "not valued separately", True, ""), pd.Series(0.0, index=sub.quantity.index)
    if out.price is None:  # the quantity is already an output value in yuan of the accounting year
        factor = index.factor(year, price_year, N_("{output} output value of {year}: the price index has no value "
                                                   "for {years} (it covers {covers}); add the year to the profile's "
                                                   "[price_index] or choose another price year"),
                              output=out.id, year=year)
        return Price(factor, "yuan/yuan", "current prices, deflated by the price index", index.verified,
                     ""), pd.Series(factor, index=sub.quantity.index)
    param = profile.param(out.price)
    if param.year is None:
        raise MethodError(N_("price {price} in profile {method} has no year; prices need the year they are quoted "
                             "in"), price=param.id, method=profile.id)
    price = param.scalar()
    if price < 0:
        raise MethodError(N_("price {price} is negative ({value}); expected >= 0"), price=param.id, value=price)
    moved = price * index.factor(param.year, price_year, N_("price {price} of {year}: the price index has no value "
                                                            "for {years} (it covers {covers}); add the year to the "
                                                            "profile's [price_index] or choose another price year"),
                                 price=param.id, year=param.year)
    return Price(moved, param.unit, param.source, param.verified, param.id), pd.Series(moved, index=sub.quantity.index)


def valuate(sub: SubQuantity, profile: MethodProfile, year: int, price_year: int) -> tuple[pd.Series, Price]:
    """Value in yuan (at `price_year` prices) per zone of a sub-indicator's quantity."""
    price, factor = unit_price(sub, profile, year, price_year)
    return sub.quantity * factor.reindex(sub.quantity.index).fillna(0.0), price


def at_price_year(value: float, metadata: dict[str, Any]) -> float | None:
    """A nominal figure of the accounting year (GDP) in the prices the accounts are stated in: times
    index[price year] / index[year] of the accounts' price index, so that GEP/GDP does not change with the price
    year chosen. None when the index lacks either year."""
    year, price_year = int(metadata["year"]), int(metadata["price_year"])
    if year == price_year:
        return value
    index = {int(k): float(v) for k, v in metadata.get("price_index", {}).get("values", {}).items()}
    if year not in index or price_year not in index:
        return None
    return value * index[price_year] / index[year]
