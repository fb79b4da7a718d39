"""Green-loan rules as plain code: the products (from their TOML), the terms a borrower gets (eligibility, limit,
rate, each with its reason), the repayment schedule in integer fen, and the states of a loan. Nothing here
touches the database; every figure the rules use comes in as an argument."""

from __future__ import annotations

import calendar
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.errors import N_, Conflict, InputError, Word
from gep.registry.rules import KINDS as PARCEL_KINDS

PRODUCTS_FILE = Path(__file__).resolve().parent / "data" / "products.toml"
MU_M2 = Decimal("666.6666666667")
LIMIT_KINDS = {"by_grade": N_("by credit grade"), "gep": N_("α × attributable GEP × years"),
               "compensation_multiple": N_("a multiple of the yearly compensation"),
               "appraisal": N_("appraised value × loan-to-value"), "turnover": N_("a share of 12 months' turnover")}
SUBJECT_LABELS = {"individual": N_("individual"), "enterprise": N_("enterprise"), "village": N_("village")}
REPAYMENTS = {"equal_principal": N_("equal principal, monthly"),
              "interest_only": N_("interest monthly, principal at the end")}

# -- loan states ----------------------------------------------------------------------------------------------------

STATES = {"applied": N_("applied"), "approved": N_("approved"), "rejected": N_("rejected"),
          "withdrawn": N_("withdrawn"), "disbursed": N_("disbursed"), "repaid": N_("repaid"),
          "defaulted": N_("defaulted"), "enforcing": N_("collateral on the exchange"),
          "enforced": N_("closed by enforcement")}
FINAL = frozenset({"rejected", "withdrawn", "repaid", "enforced"})
MOVES: dict[str, dict[str, str]] = {
    "approve": {"applied": "approved"},
    "reject": {"applied": "rejected"},
    "withdraw": {"applied": "withdrawn", "approved": "withdrawn"},
    "disburse": {"approved": "disbursed"},
    "repay": {"disbursed": "disbursed", "defaulted": "defaulted"},
    "settle": {"disbursed": "repaid", "defaulted": "repaid", "enforcing": "repaid"},
    "default": {"disbursed": "defaulted"},
    "enforce": {"defaulted": "enforcing"},
    "unsold": {"enforcing": "defaulted"},
    "recover": {"enforcing": "enforced"},
}
VERBS = {"apply": N_("apply for the loan"), "approve": N_("approve"),
         "reject": N_("reject"), "withdraw": N_("withdraw"), "disburse": N_("disburse"),
         "repay": N_("repay"), "settle": N_("settle"), "default": N_("declare in default"),
         "enforce": N_("enforce the collateral"), "unsold": N_("take the collateral back unsold"),
         "recover": N_("recover from the collateral")}


def step(state: str, verb: str) -> str:
    after = MOVES.get(verb, {}).get(state)
    if after is None:
        raise Conflict(N_("a loan that is {state} cannot take the step “{verb}”"),
                       state=Word(STATES.get(state, state)), verb=Word(VERBS.get(verb, verb)))
    return after


# -- products -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Product:
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    subjects: frozenset[str]
    min_grade: str
    limit: str
    params: Mapping[str, Any]
    spread_bp: int
    discount_bp_by_grade: Mapping[str, int]
    max_months: int
    repayment: str
    collateral: frozenset[str]
    optional_collateral: frozenset[str]
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "description_zh": self.description_zh, "description_en": self.description_en,
                "subjects": sorted(self.subjects), "min_grade": self.min_grade, "limit": self.limit,
                "limit_rule": LIMIT_KINDS[self.limit], "params": dict(self.params), "spread_bp": self.spread_bp,
                "discount_bp_by_grade": dict(self.discount_bp_by_grade), "max_months": self.max_months,
                "repayment": self.repayment, "collateral": sorted(self.collateral),
                "optional_collateral": sorted(self.optional_collateral), "source": self.source}


@dataclass(frozen=True)
class Rates:
    lpr_bp: int
    floor_bp: int


_PRODUCT_KEYS = {"name_zh", "name_en", "description_zh", "description_en", "subjects", "min_grade", "limit",
                 "spread_bp", "discount_bp_by_grade", "max_months", "repayment", "collateral",
                 "optional_collateral", "source"}


def parse(text: str, where: str = "products.toml") -> tuple[dict[str, Product], Rates]:
    data = tomllib.loads(text)
    out = {}
    for code, p in data["products"].items():
        if p["limit"] not in LIMIT_KINDS:
            raise InputError(N_("{file}: product {code} has an unknown limit rule {rule}"), file=where, code=code,
                             rule=p["limit"])
        if p["repayment"] not in REPAYMENTS:
            raise InputError(N_("{file}: product {code} has an unknown repayment {rule}"), file=where, code=code,
                             rule=p["repayment"])
        out[code] = Product(code, p["name_zh"], p["name_en"], p.get("description_zh", ""), p.get("description_en", ""),
                            frozenset(p["subjects"]), p["min_grade"], p["limit"],
                            {k: v for k, v in p.items() if k not in _PRODUCT_KEYS}, int(p["spread_bp"]),
                            {str(k): int(v) for k, v in p.get("discount_bp_by_grade", {}).items()},
                            int(p["max_months"]), p["repayment"], frozenset(p.get("collateral", [])),
                            frozenset(p.get("optional_collateral", [])), str(p.get("source", "")))
    r = data["rates"]
    return out, Rates(int(r["lpr_1y_bp"]), int(r["floor_bp"]))


@lru_cache(maxsize=2)
def _load(text: str) -> tuple[dict[str, Product], Rates]:
    return parse(text)


def products() -> dict[str, Product]:
    return _load(PRODUCTS_FILE.read_text(encoding="utf-8"))[0]


def rates() -> Rates:
    return _load(PRODUCTS_FILE.read_text(encoding="utf-8"))[1]


def product(code: str) -> Product:
    found = products().get(code)
    if found is None:
        raise InputError(N_("unknown loan product {code} (known: {known})"), code=code, known=", ".join(products()))
    return found


# -- terms ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Collateral:
    """A right offered as collateral, with what the rules need of its parcel."""

    right_id: int
    parcel_kind: str
    area_m2: float = 0.0
    length_m: float = 0.0
    annual_compensation_yuan: float = 0.0
    water_volume_m3: float = 0.0
    years_left: int = 0
    gep_yuan: float | None = None  # the parcel's VEP from the accounts
    appraisal_fen: int | None = None  # the bank's appraisal, when it made one


@dataclass(frozen=True)
class Applicant:
    kind: str  # individual, enterprise, village
    grade: str | None  # None: no credit record
    grades: Sequence[str]  # the catalogue's grades, best first
    zone_gep_yuan: float | None = None  # GEP of the applicant's own zone (a village company's village)
    turnover_fen: int = 0  # settled turnover of the trailing 12 months


@dataclass
class Terms:
    eligible: bool = True
    limit_fen: int = 0
    rate_bp: int = 0
    max_months: int = 0
    reasons: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    values_fen: dict[int, int] = field(default_factory=dict)  # right id -> the value the limit counts

    def because(self, template: str, **params: Any) -> None:
        self.reasons.append({"message": template, "params": params})

    def refuse(self, template: str, **params: Any) -> None:
        self.eligible = False
        self.problems.append({"message": template, "params": params})

    def as_dict(self) -> dict[str, Any]:
        return {"eligible": self.eligible, "limit_fen": self.limit_fen, "rate_bp": self.rate_bp,
                "max_months": self.max_months, "reasons": self.reasons, "problems": self.problems,
                "values_fen": {str(k): v for k, v in self.values_fen.items()}}


def fen(yuan: Decimal | float | int) -> int:
    """Yuan to integer fen, rounded half up (limits are money: no float in what is stored)."""
    return int((Decimal(str(yuan)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _yuan_text(f: int) -> str:
    return f"{Decimal(f) / 100:,.2f}"


def collateral_value_fen(p: Product, c: Collateral) -> tuple[int, str, dict[str, Any]]:
    """What a right is worth to an appraisal-based product: the bank's appraisal, or the product's estimate."""
    if c.appraisal_fen is not None:
        return c.appraisal_fen, N_("right {id}: appraised by the bank at {value} yuan"), {}
    if c.parcel_kind == "river_section":
        km = Decimal(str(c.length_m)) / 1000
        value = fen(km * Decimal(str(p.params.get("estimate_yuan_per_km", 0))))
        return value, N_("right {id}: {km} km of river × {rate} yuan/km = {value} yuan (estimate until appraised)"), \
            {"km": f"{km:.2f}", "rate": p.params.get("estimate_yuan_per_km", 0)}
    if c.parcel_kind == "water_take_permit":
        years = max(c.years_left, 1)
        value = fen(Decimal(str(c.water_volume_m3)) * Decimal(str(p.params.get("estimate_yuan_per_m3_year", 0)))
                    * years)
        return value, N_("right {id}: {m3} m³ a year × {rate} yuan/m³ × {years} years = {value} yuan (estimate "
                         "until appraised)"), {"m3": f"{c.water_volume_m3:,.0f}",
                                               "rate": p.params.get("estimate_yuan_per_m3_year", 0), "years": years}
    mu = Decimal(str(c.area_m2)) / MU_M2
    value = fen(mu * Decimal(str(p.params.get("estimate_yuan_per_mu", 0))))
    return value, N_("right {id}: {mu} mu × {rate} yuan/mu = {value} yuan (estimate until appraised)"), \
        {"mu": f"{mu:.2f}", "rate": p.params.get("estimate_yuan_per_mu", 0)}


def terms(p: Product, a: Applicant, collateral: Sequence[Collateral], months: int, rates_: Rates) -> Terms:
    """Eligibility, limit and rate of a product for an applicant and the rights offered, with the reasons."""
    t = Terms(max_months=p.max_months)
    if a.kind not in p.subjects:
        t.refuse(N_("{product} is for {kinds}, not a {kind}"), product=p.name_zh,
                 kinds="、".join(SUBJECT_LABELS.get(k, k) for k in sorted(p.subjects)),
                 kind=SUBJECT_LABELS.get(a.kind, a.kind))
    if a.grade is None:
        t.refuse(N_("no ecological credit grade on record: the credit office rates the borrower first"))
    elif a.grade not in a.grades or p.min_grade not in a.grades \
            or a.grades.index(a.grade) > a.grades.index(p.min_grade):
        t.refuse(N_("{product} needs a credit grade of {min} or better; the borrower is {grade}"), product=p.name_zh,
                 min=p.min_grade, grade=a.grade)
    else:
        t.because(N_("credit grade {grade} (at least {min} needed)"), grade=a.grade, min=p.min_grade)
    kinds = {c.parcel_kind for c in collateral}
    allowed = p.collateral | p.optional_collateral
    for c in collateral:
        if c.parcel_kind not in allowed:
            t.refuse(N_("right {id} ({kind}) cannot back {product}"), id=c.right_id, kind=_parcel(c.parcel_kind),
                     product=p.name_zh)
    for needed in sorted(p.collateral - kinds):
        t.refuse(N_("{product} is secured by a right of this kind: {kind}"), product=p.name_zh, kind=_parcel(needed))
    if months < 1 or months > p.max_months:
        t.refuse(N_("the term is 1 to {max} months for {product}, not {months}"), max=p.max_months,
                 product=p.name_zh, months=months)
    t.limit_fen = _limit(p, a, collateral, months, t)
    if t.limit_fen <= 0 and t.eligible:
        t.refuse(N_("the rule gives no credit line here (limit 0)"))
    discount = p.discount_bp_by_grade.get(a.grade or "", 0)
    t.rate_bp = max(rates_.floor_bp, rates_.lpr_bp + p.spread_bp - discount)
    t.because(N_("rate {rate} % = LPR {lpr} % + {spread} % − {discount} % for grade {grade} (never below {floor} %)"),
              rate=_pct(t.rate_bp), lpr=_pct(rates_.lpr_bp), spread=_pct(p.spread_bp), discount=_pct(discount),
              grade=a.grade or "—", floor=_pct(rates_.floor_bp))
    return t


def _parcel(kind: str) -> str:
    found = PARCEL_KINDS.get(kind)
    return found.label if found else kind


def _pct(bp: int) -> str:
    return f"{Decimal(bp) / 100:.2f}"


def _limit(p: Product, a: Applicant, collateral: Sequence[Collateral], months: int, t: Terms) -> int:
    match p.limit:
        case "by_grade":
            yuan = p.params.get("limit_by_grade", {}).get(a.grade or "", 0)
            t.because(N_("limit {value} yuan for grade {grade}"), value=f"{yuan:,}", grade=a.grade or "—")
            return fen(yuan)
        case "gep":
            years = min(max(1, math.ceil(months / 12)), int(p.params.get("max_years", 5)))
            alpha = Decimal(str(p.params.get("alpha", 0)))
            parcels = [c for c in collateral if c.gep_yuan is not None]
            if parcels:
                gep = sum(Decimal(str(c.gep_yuan)) for c in parcels)
                template = N_("limit = α {alpha} × the pledged parcels' GEP (VEP) {gep} yuan × {years} years = "
                              "{value} yuan")
            elif a.zone_gep_yuan is not None:
                gep = Decimal(str(a.zone_gep_yuan))
                template = N_("limit = α {alpha} × the GEP of the borrower's zone {gep} yuan × {years} years = "
                              "{value} yuan")
            else:
                t.refuse(N_("no GEP to lend on: pledge parcels, or borrow as a village with finished accounts"))
                return 0
            value = fen(alpha * gep * years)
            t.because(template, alpha=str(alpha), gep=f"{gep:,.2f}", years=years, value=_yuan_text(value))
            return value
        case "compensation_multiple":
            m = Decimal(str(p.params.get("multiple", 0)))
            yearly = sum(Decimal(str(c.annual_compensation_yuan)) for c in collateral)
            value = fen(m * yearly)
            t.because(N_("limit = {m} × yearly compensation {yearly} yuan = {value} yuan"), m=str(m),
                      yearly=f"{yearly:,.2f}", value=_yuan_text(value))
            return value
        case "appraisal":
            ltv = Decimal(str(p.params.get("ltv", 0)))
            total = 0
            for c in collateral:
                v, template, params = collateral_value_fen(p, c)
                t.values_fen[c.right_id] = v
                t.because(template, id=c.right_id, value=_yuan_text(v), **params)
                total += v
            value = int((Decimal(total) * ltv).to_integral_value(rounding=ROUND_HALF_UP))
            t.because(N_("limit = value {total} yuan × loan-to-value {ltv} = {value} yuan"),
                      total=_yuan_text(total), ltv=str(ltv), value=_yuan_text(value))
            return value
        case "turnover":
            k = Decimal(str(p.params.get("turnover_multiple", 0)))
            cap = fen(p.params.get("max_yuan", 0))
            value = min(int((Decimal(a.turnover_fen) * k).to_integral_value(rounding=ROUND_HALF_UP)), cap)
            t.because(N_("limit = {k} × settled turnover of the last 12 months {turnover} yuan, at most {cap} yuan: "
                         "{value} yuan"), k=str(k), turnover=_yuan_text(a.turnover_fen), cap=_yuan_text(cap),
                      value=_yuan_text(value))
            return value
    return 0  # pragma: no cover - parse() admits only the kinds above


# -- the schedule ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instalment:
    n: int
    due_on: date
    principal_fen: int
    interest_fen: int


def add_months(start: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def monthly_interest(outstanding_fen: int, rate_bp: int) -> int:
    """A month's interest on what is outstanding: rate / 12, in fen, rounded half up."""
    return int((Decimal(outstanding_fen) * rate_bp / Decimal(120000)).to_integral_value(rounding=ROUND_HALF_UP))


def schedule(amount_fen: int, rate_bp: int, months: int, start: date, repayment: str) -> list[Instalment]:
    """The instalments of a loan: principal adds up to the amount exactly; interest on what is outstanding."""
    if amount_fen <= 0 or months < 1:
        raise InputError(N_("a loan needs a positive amount and at least one month"))
    out = []
    outstanding = amount_fen
    for n in range(1, months + 1):
        if repayment == "equal_principal":
            principal = amount_fen // months + (amount_fen % months if n == months else 0)
        else:
            principal = amount_fen if n == months else 0
        out.append(Instalment(n, add_months(start, n), principal, monthly_interest(outstanding, rate_bp)))
        outstanding -= principal
    return out
