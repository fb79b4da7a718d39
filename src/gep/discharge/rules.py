"""The discharge-rights rules as plain code: pollutants and their fee rates (data/discharge.toml), quantities
(grams inside, tonnes for people), the paid-use fee of an allocation, the shares that raise alerts, and the
checking of emission records (unknown enterprise, negative values, duplicates, out-of-order times, wrong units),
each problem naming its row. Nothing here touches the database."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.errors import N_, InputError

CONFIG = Path(__file__).resolve().parent / "data" / "discharge.toml"
GRAMS = {"g": 1, "kg": 1000, "t": 1_000_000}
CHINA = timezone(timedelta(hours=8))
ACCOUNT_KINDS = {"cap": N_("total-load cap"), "reserve": N_("government reserve"), "enterprise": N_("enterprise"),
                 "escrow": N_("set aside for the exchange"), "usage": N_("emitted")}
ENTRY_KINDS = {"cap": N_("cap set"), "allocate": N_("initial allocation"), "buyback": N_("bought back"),
               "offer": N_("set aside for the exchange"), "deliver": N_("bought on the exchange"),
               "return": N_("returned unsold"), "emission": N_("emitted")}


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def pollutants() -> dict[str, dict[str, Any]]:
    return dict(config()["pollutants"])


def pollutant_code(text: str) -> str | None:
    """A pollutant by its code (cod), its Chinese name (化学需氧量) or its English name (COD, NH3-N)."""
    wanted = text.strip().lower().replace("₃", "3").replace("ₓ", "x").replace("₂", "2")
    for code, p in pollutants().items():
        names = {code, str(p["name_zh"]).lower(), str(p["name_en"]).lower().replace("₃", "3").replace("ₓ", "x")
                 .replace("₂", "2")}
        if wanted in names:
            return code
    return None


def check_pollutant(code: str) -> str:
    if code not in pollutants():
        raise InputError(N_("unknown pollutant {pollutant} (known: {known})"), pollutant=repr(code),
                         known=", ".join(pollutants()))
    return code


def to_grams(value: Decimal, unit: str) -> int:
    """A quantity in g, kg or t as whole grams (rounded half up)."""
    factor = GRAMS.get(unit.strip().lower())
    if factor is None:
        raise InputError(N_("unit {unit} is not one of g, kg, t"), unit=repr(unit))
    return int((value * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tonnes(grams: int) -> Decimal:
    return (Decimal(grams) / GRAMS["t"]).quantize(Decimal("0.001"))


def annual_fee_fen(grams_per_year: int, fee_yuan_per_t_year: Decimal) -> int:
    """The paid-use fee of one year of an allocation: t/a × rate, in fen (rounded half up)."""
    return int((Decimal(grams_per_year) / GRAMS["t"] * fee_yuan_per_t_year * 100).quantize(Decimal(1),
                                                                                           rounding=ROUND_HALF_UP))


def check_term(start_year: int, years: int) -> None:
    most = int(config()["permit"]["max_years"])
    if years < 1 or years > most:
        raise InputError(N_("a permit's term is 1 to {most} years, not {years}"), most=most, years=years)
    if start_year < 2000 or start_year > 2100:
        raise InputError(N_("{year} is not a plausible first year"), year=start_year)


def thresholds() -> list[int]:
    return sorted(int(t) for t in config()["alerts"]["thresholds_pct"])


def crossed(used: int, held: int, before_used: int) -> list[int]:
    """The alert thresholds (%) the usage passed with this booking (from before_used to used, of held)."""
    def share(u: int) -> float:
        return u * 100 / held if held > 0 else (math.inf if u > 0 else 0.0)
    return [t for t in thresholds() if share(before_used) < t <= share(used)]


def share_pct(used: int, held: int) -> float | None:
    return None if held <= 0 else round(100 * used / held, 1)


# -- emission records --------------------------------------------------------------------------------------

COLUMNS = ("enterprise", "pollutant", "time", "value", "unit")


@dataclass(frozen=True)
class Record:
    row: int
    enterprise_id: int
    pollutant: str
    at: datetime  # UTC
    grams: int


@dataclass
class Checked:
    records: list[Record] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"row", "field", "message", "params"}

    def problem(self, row: int, column: str, message: str, **params: Any) -> None:
        self.problems.append({"row": row, "field": column, "message": message, "params": params})


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without an offset is China Standard Time (what monitoring stations report)."""
    at = datetime.fromisoformat(text.strip().replace(" ", "T", 1) if "T" not in text else text.strip())
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA)
    return at.astimezone(UTC)


def check_records(rows: Iterable[Mapping[str, str]], enterprises: Mapping[str, int],
                  latest: Mapping[tuple[int, str], datetime], stored: Mapping[tuple[int, str, datetime], int],
                  first_row: int = 2) -> tuple[Checked, int]:
    """Check emission rows (CSV rows from line `first_row`, or API items from 1): every problem with its row.
    `enterprises` maps credit codes to ids; `latest` is the last stored time per (enterprise, pollutant);
    `stored` the grams of records already stored at a time. Returns the new records and how many rows repeat
    stored ones exactly (skipped: posting a file again books nothing twice)."""
    out = Checked()
    skipped = 0
    seen: dict[tuple[int, str, datetime], int] = {}
    last_in_file: dict[tuple[int, str], datetime] = {}
    for n, row in enumerate(rows, start=first_row):
        missing = [c for c in COLUMNS if not str(row.get(c) or "").strip()]
        if missing:
            out.problem(n, missing[0], N_("{field} is missing"), field=missing[0])
            continue
        code = str(row["enterprise"]).strip()
        enterprise = enterprises.get(code)
        if enterprise is None:
            out.problem(n, "enterprise", N_("no enterprise with credit code {code} holds a discharge permit"),
                        code=code)
        pollutant = pollutant_code(str(row["pollutant"]))
        if pollutant is None:
            out.problem(n, "pollutant", N_("unknown pollutant {pollutant} (known: {known})"),
                        pollutant=str(row["pollutant"]).strip(), known=", ".join(pollutants()))
        try:
            at = parse_time(str(row["time"]))
        except ValueError:
            out.problem(n, "time", N_("{value} is not a date and time (2025-06-01T08:00:00+08:00)"),
                        value=str(row["time"]).strip())
            continue
        unit = str(row["unit"]).strip()
        if unit.lower() not in GRAMS:
            out.problem(n, "unit", N_("unit {unit} is not one of g, kg, t"), unit=unit)
            continue
        try:
            value = Decimal(str(row["value"]).strip())
            if not value.is_finite():
                raise ValueError
        except (ArithmeticError, ValueError):
            out.problem(n, "value", N_("{value} is not a number"), value=str(row["value"]).strip())
            continue
        if value < 0:
            out.problem(n, "value", N_("an emission is zero or more, not {value}"), value=str(value))
            continue
        if enterprise is None or pollutant is None:
            continue
        grams = to_grams(value, unit)
        key = (enterprise, pollutant, at)
        if key in stored:
            if stored[key] == grams:
                skipped += 1
            else:
                out.problem(n, "value", N_("a different value ({grams} g) is recorded for this enterprise, "
                                           "pollutant and time"), grams=stored[key])
            continue
        if key in seen:
            out.problem(n, "time", N_("the same enterprise, pollutant and time as row {other}"), other=seen[key])
            continue
        seen[key] = n
        pair = (enterprise, pollutant)
        before = last_in_file.get(pair)
        if before is not None and at < before:
            out.problem(n, "time", N_("times of one enterprise and pollutant go forward; {time} is before the "
                                      "row above it"), time=at.astimezone(CHINA).isoformat(timespec="minutes"))
            continue
        if pair in latest and at < latest[pair]:
            out.problem(n, "time", N_("{time} is before the last record stored for this enterprise and pollutant "
                                      "({last})"), time=at.astimezone(CHINA).isoformat(timespec="minutes"),
                        last=latest[pair].astimezone(CHINA).isoformat(timespec="minutes"))
            continue
        last_in_file[pair] = at
        out.records.append(Record(n, enterprise, pollutant, at, grams))
    return out, skipped


def year_of(at: datetime) -> int:
    """The quota year of a moment: the calendar year in China."""
    return at.astimezone(CHINA).year


def kg_per_year(grams: int) -> int:
    return math.floor(grams / GRAMS["kg"])
