"""Use cases of the GEP comprehensive assessment: install the indicator sets and departments, take the values each
department submits for its indicators (a form or an XLSX workbook; every row checked, all stored or none),
compute what the platform knows itself (growth at constant prices from the stored accounts, trades settled on
the exchange, how departments provided their data), score a year into a sheet with ranks and colours, publish
it, and recheck a published sheet against its inputs."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.assessment import rules
from gep.assessment.models import Department, InstalledSet, ScoreSheet, SettledTrade, Submission, SubmissionImport
from gep.db import add_once
from gep.errors import N_, Conflict, FileError, InputError, NotFound, PermissionDenied, Problem
from gep.finance import service as finance
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions import service as regions
from gep.regions.models import AccountingRun, AccountValue

MANAGE = "assessment.manage"  # indicator sets, departments, computing and publishing sheets
SUBMIT = "assessment.submit"  # a department's values for its own indicators
READ = "assessment.read"  # draft sheets, submissions
COLUMNS = ("unit_code", "indicator", "value", "unit")
MAX_ROWS = 20_000
CHINA = timezone(timedelta(hours=8))
T = TypeVar("T")
NOTHING_DUE = Decimal("100.00")  # a department that provides no data to the assessed set has nothing to be late with


# -- sets and departments ----------------------------------------------------------------------------------------

def install(session: Session, catalogue: rules.Catalogue | None = None) -> list[InstalledSet]:
    """Install the departments and every set of the file once. A version already installed with other text is
    refused: a published sheet must stay recomputable with the set it names."""
    cat = catalogue or rules.load_catalogue()
    for d in cat.departments.values():
        def make_department(d: rules.Department = d) -> Department:
            return Department(code=d.code, name_zh=d.name_zh, name_en=d.name_en)

        dep, added = add_once(session, Department, {"code": d.code}, make_department)
        if not added:
            dep.name_zh, dep.name_en = d.name_zh, d.name_en
    out = []
    for version, s in cat.sets.items():
        raw = cat.raw[version]

        def make(s: rules.IndicatorSet = s, raw: dict[str, Any] = raw) -> InstalledSet:
            return InstalledSet(code=s.code, version=s.version, kind=s.kind, digest=s.digest,
                                body=json.loads(json.dumps(raw, default=str)), installed_at=now())

        row, added = add_once(session, InstalledSet, {"version": version}, make)
        if not added and row.digest != s.digest:
            raise Conflict(N_("indicator set {version} is installed with other text; give the changed set a new "
                              "version"), version=version)
        out.append(row)
    return out


def departments(session: Session) -> dict[str, Department]:
    return {d.code: d for d in session.scalars(select(Department).order_by(Department.code))}


def indicator_set(session: Session, version: str) -> rules.IndicatorSet:
    """A set as installed (the database's copy is the one sheets are scored with)."""
    row = session.scalar(select(InstalledSet).where(InstalledSet.version == version))
    if row is None:
        raise NotFound(N_("indicator set {version} is not installed"), version=version)
    deps = {d.code: rules.Department(d.code, d.name_zh, d.name_en) for d in departments(session).values()}
    return rules.parse_set(row.body, deps, row.digest)


def sets(session: Session) -> list[InstalledSet]:
    return list(session.scalars(select(InstalledSet).order_by(InstalledSet.kind, InstalledSet.version)))


def link_department(session: Session, code: str, organisation_id: int | None, by: Principal) -> Department:
    """Tie a department to the organisation whose users submit its data."""
    by.require(MANAGE)
    dep = session.scalar(select(Department).where(Department.code == code))
    if dep is None:
        raise NotFound(N_("department {code} does not exist"), code=code)
    dep.organisation_id = organisation_id
    audit(session, by, "link", "assessment_department", dep.id, code=code, organisation_id=organisation_id)
    return dep


def department_of(session: Session, by: Principal) -> Department | None:
    if by.organisation_id is None:
        return None
    return session.scalar(select(Department).where(Department.organisation_id == by.organisation_id))


def units(session: Session, s: rules.IndicatorSet, region_id: int) -> dict[str, str]:
    """The assessed units of a set, code -> name: the region's counties, or the departments."""
    if s.kind == "department":
        return {d.code: d.name_zh for d in departments(session).values()}
    return {z.code: z.name for z in regions.zones(session, region_id, "county")}


def county_map(session: Session, region_id: int) -> dict[str, Any]:
    features = [{"type": "Feature", "geometry": json.loads(z.geometry) if z.geometry else None,
                 "properties": {"code": z.code, "name": z.name}} for z in regions.zones(session, region_id, "county")]
    return {"type": "FeatureCollection", "features": features}


# -- submissions -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubmitResult:
    import_id: int
    rows: int
    stored: int
    unchanged: int


def current(session: Session, version: str, year: int) -> dict[tuple[str, str], Submission]:
    """The newest submission of every (unit, indicator) of a set and year."""
    rows = session.scalars(select(Submission).where(Submission.set_version == version, Submission.year == year)
                           .order_by(Submission.id))
    return {(r.unit_code, r.indicator): r for r in rows}


def submit(session: Session, version: str, year: int, region_id: int, rows: list[dict[str, str]], by: Principal,
           filename: str = "form", data: bytes = b"", first_row: int = 2, synthetic: bool = False,
           at: datetime | None = None) -> SubmitResult:
    """Check every row (unit, indicator, value, unit of measure), then store all or none. A department submits
    only its own indicators; the assessment office may submit any, on a department's behalf. A row equal to
    the value stored is left as it is, so the same file sent twice stores nothing twice."""
    if not (by.can(SUBMIT) or by.can(MANAGE)):
        raise PermissionDenied(N_("submitting assessment data needs the permission {permission}"), permission=SUBMIT)
    s = indicator_set(session, version)
    if not rows:
        raise InputError(N_("{file} has no rows"), file=filename)
    if len(rows) > MAX_ROWS:
        raise InputError(N_("{file} has {count} rows; at most 20,000 at a time"), file=filename, count=len(rows))
    # submissions to one set run one after the other: the second sees the first's rows (a value sent twice at
    # once is stored once, and a correction is never mistaken for a first value)
    session.execute(select(InstalledSet.id).where(InstalledSet.version == version).with_for_update())
    own = department_of(session, by)
    if not by.can(MANAGE) and own is None:
        raise PermissionDenied(N_("your organisation is not a providing department of the assessment"))
    known = units(session, s, region_id)
    stored = current(session, version, year)
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    accepted: list[tuple[str, rules.Indicator, Decimal, str]] = []

    def problem(row: int, column: str, message: str, **params: Any) -> None:
        problems.append(Problem(N_("row {row}, {field}"), message, row=row, field=column, **params))

    for i, r in enumerate(rows):
        row = int(r["_row"]) if str(r.get("_row", "")).isdigit() else first_row + i
        before = len(problems)
        unit_code = str(r.get("unit_code", "")).strip()
        code = str(r.get("indicator", "")).strip()
        raw_value = str(r.get("value", "")).strip()
        unit = str(r.get("unit", "")).strip()
        if unit_code not in known:
            problem(row, "unit_code", N_("{value} is not one of the assessed units of {set}"), value=repr(unit_code),
                    set=version)
        ind = s.indicator(code)
        if ind is None:
            problem(row, "indicator", N_("unknown indicator {value} in {set}"), value=repr(code), set=version)
        elif not ind.submitted:
            problem(row, "indicator", N_("{value} is computed by the platform; it is not submitted"), value=code)
        elif own is not None and not by.can(MANAGE) and ind.provider != own.code:
            problem(row, "indicator", N_("{value} is provided by another department ({provider})"), value=code,
                    provider=ind.provider)
        value: Decimal | None = None
        if ind is not None and ind.submitted:
            if not rules.units_match(unit, ind):
                problem(row, "unit", N_("{value} is measured in {expected}, not {unit}"), value=code,
                        expected=ind.unit, unit=repr(unit))
            value, why = rules.parse_value(raw_value, ind)
            if value is None:
                problem(row, "value", why, value=repr(raw_value), low=str(ind.low), high=str(ind.high),
                        unit=ind.unit)
        key = (unit_code, code)
        if key in seen:
            problem(row, "indicator", N_("{value} for {unit_code} is given twice (rows {first} and {row})"),
                    value=code, unit_code=unit_code, first=seen[key])
        seen.setdefault(key, row)
        if len(problems) == before and ind is not None and value is not None:
            accepted.append((unit_code, ind, value, str(r.get("note", "")).strip()[:500]))
    if problems:
        raise FileError(filename, problems)
    imp = SubmissionImport(set_version=version, year=year, department_code=own.code if own else "",
                           filename=filename[:200], digest=hashlib.sha256(data).hexdigest() if data else "",
                           rows=len(rows), stored=0, by_user_id=by.user_id, at=now())
    session.add(imp)
    session.flush()
    at = at or now()  # the demo's synthetic history gives the moment it pretends; everything else is now
    fresh = []
    for unit_code, ind, value, note in accepted:
        old = stored.get((unit_code, ind.code))
        if old is not None and Decimal(old.value) == value:
            continue
        fresh.append(Submission(set_version=version, year=year, unit_code=unit_code, indicator=ind.code,
                                value=str(value), unit=ind.unit, department_code=ind.provider, note=note,
                                submitted_by=by.user_id, submitted_at=at, import_id=imp.id, synthetic=synthetic))
    session.add_all(fresh)
    imp.stored = len(fresh)
    session.flush()
    audit(session, by, "submit", "assessment_import", imp.id, set=version, year=year, rows=len(rows),
          stored=len(fresh), file=filename[:200])
    return SubmitResult(imp.id, len(rows), len(fresh), len(accepted) - len(fresh))


def history(session: Session, version: str, year: int, unit_code: str, indicator: str) -> list[dict[str, Any]]:
    """Every value submitted for one cell, oldest first, with who and when."""
    rows = session.scalars(select(Submission).where(
        Submission.set_version == version, Submission.year == year, Submission.unit_code == unit_code,
        Submission.indicator == indicator).order_by(Submission.id))
    return [{"value": r.value, "unit": r.unit, "by": r.submitted_by, "at": r.submitted_at.isoformat(),
             "note": r.note, "import_id": r.import_id} for r in rows]


# -- what the platform computes --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Accounts:
    """A county-level picture of two years' accounts, the later at the earlier's prices."""

    year: int
    previous: int
    price_year: int
    now: dict[str, dict[str, float]]  # county -> category/indicator/"gep" -> yuan at price_year
    before: dict[str, dict[str, float]]
    runs: tuple[int, int]


def accounts_of(session: Session, region_id: int, year: int, level: str = "county") -> Accounts | None:
    """The stored accounts of `year` and the year before, by zone of a level (counties by default), category and
    indicator, both at the earlier year's prices (the later run revalued with its own price index); None without
    both years."""
    runs = regions.latest_runs(session, region_id)
    now_run, before_run = runs.get(year), runs.get(year - 1)
    if now_run is None or before_run is None:
        return None
    index = (now_run.run_metadata or {}).get("price_index", {}).get("values", {})
    factor = rules.constant_price_factor(index, now_run.price_year, before_run.price_year)
    return Accounts(year, year - 1, before_run.price_year, by_zone(session, now_run, factor, level),
                    by_zone(session, before_run, 1.0, level), (now_run.id, before_run.id))


def by_zone(session: Session, run: AccountingRun, factor: float, level: str = "county"
            ) -> dict[str, dict[str, float]]:
    """A run's values by zone of a level: per indicator, per category and "gep" (yuan, times `factor`)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    q = (select(AccountValue.zone_code, AccountValue.category, AccountValue.indicator,
                func.sum(AccountValue.value_yuan))
         .where(AccountValue.run_id == run.id, AccountValue.level == level)
         .group_by(AccountValue.zone_code, AccountValue.category, AccountValue.indicator))
    for code, category, indicator, value in session.execute(q):
        v = float(value) * factor
        out[code][indicator] += v
        out[code][category] += v
        out[code]["gep"] += v
    return {k: dict(v) for k, v in out.items()}


def _metric(metric: str, units_: list[str], acc: Accounts | None, values: dict[str, dict[str, Decimal | None]],
            trades: dict[str, tuple[int, int]], provision: dict[str, tuple[Decimal | None, Decimal | None]],
            loans: dict[str, tuple[int, int]]) -> dict[str, Decimal | None]:
    name, _, arg = metric.partition(":")

    def grown(key: str) -> dict[str, Decimal | None]:
        if acc is None:
            return dict.fromkeys(units_)
        keys = key.split("+")
        return {u: rules.growth(_sum(acc.now.get(u), keys), _sum(acc.before.get(u), keys)) for u in units_}

    if name == "gep_growth":
        return grown("gep")
    if name in ("material_growth", "regulating_growth", "cultural_growth"):
        return grown(name.split("_")[0])
    if name == "indicator_growth":
        return grown(arg)
    if name == "double_growth":
        gep = grown("gep")
        gdp = values.get(arg, {})
        return {u: None if gep[u] is None or gdp.get(u) is None else
                Decimal(1) if gep[u] > 0 and gdp[u] > 0 else Decimal(0) for u in units_}  # type: ignore[operator]
    if name == "trades_count":
        return {u: Decimal(trades.get(u, (0, 0))[0]) for u in units_}
    if name == "trades_amount":
        return {u: (Decimal(trades.get(u, (0, 0))[1]) / 1_000_000).quantize(Decimal("0.01")) for u in units_}
    if name == "loans_count":
        return {u: Decimal(loans.get(u, (0, 0))[0]) for u in units_}
    if name == "loans_amount":
        return {u: (Decimal(loans.get(u, (0, 0))[1]) / 1_000_000).quantize(Decimal("0.01")) for u in units_}
    if name == "submitted_on_time":
        return {u: provision.get(u, (None, None))[0] for u in units_}
    if name == "submitted_uncorrected":
        return {u: provision.get(u, (None, None))[1] for u in units_}
    raise InputError(N_("unknown metric {value}"), value=metric)


def _sum(zone: dict[str, float] | None, keys: list[str]) -> float | None:
    if zone is None or not any(k in zone for k in keys):
        return None
    return sum(zone.get(k, 0.0) for k in keys)


def trades_by_county(session: Session, year: int) -> dict[str, tuple[int, int]]:
    q = (select(SettledTrade.county_code, func.count(), func.sum(SettledTrade.amount_fen))
         .where(SettledTrade.year == year).group_by(SettledTrade.county_code))
    return {code: (int(n), int(fen or 0)) for code, n, fen in session.execute(q)}


def record_trade(session: Session, deal_id: int, listing: str, county_code: str, settled_on: str,
                 amount_fen: int, detail: str = "") -> bool:
    """A settled trade, once per deal (the event may be delivered twice)."""
    year = int(settled_on[:4]) if settled_on[:4].isdigit() else now().year

    def make() -> SettledTrade:
        return SettledTrade(deal_id=deal_id, listing=listing[:40], county_code=county_code[:40], year=year,
                            amount_fen=amount_fen, recorded_at=now(), detail=detail)

    return add_once(session, SettledTrade, {"deal_id": deal_id}, make)[1]


def deadline_of(s: rules.IndicatorSet, year: int) -> datetime:
    """The end of the deadline day (China time) of the year after the assessed one."""
    month, day = (int(x) for x in s.deadline.split("-"))
    return datetime(year + 1, month, day, tzinfo=CHINA) + timedelta(days=1)


def provision(session: Session, s: rules.IndicatorSet, region_id: int, year: int
              ) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    """How each department provided the data of `s.data_of` for `year`: the share of its cells (assessed unit ×
    indicator) first submitted by the deadline, and the share never corrected, in percent (None: nothing due)."""
    if not s.data_of:
        return {}
    data_set = indicator_set(session, s.data_of)
    due = deadline_of(data_set, year)
    cells: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for u in units(session, data_set, region_id):
        for ind in data_set.indicators:
            if ind.submitted:
                cells[ind.provider].append((u, ind.code))
    firsts: dict[tuple[str, str], datetime] = {}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in session.scalars(select(Submission).where(Submission.set_version == s.data_of, Submission.year == year)
                             .order_by(Submission.id)):
        key = (r.unit_code, r.indicator)
        firsts.setdefault(key, _aware(r.submitted_at))
        counts[key] += 1
    out: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for dep, keys in cells.items():
        on_time = sum(1 for k in keys if k in firsts and firsts[k] < due)
        submitted = [k for k in keys if k in firsts]
        once = sum(1 for k in submitted if counts[k] == 1)
        out[dep] = (_pct(on_time, len(keys)), _pct(once, len(submitted)) if submitted else Decimal(0))
    for code in units(session, s, region_id):
        out.setdefault(code, (NOTHING_DUE, NOTHING_DUE))
    return out


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _pct(n: int, d: int) -> Decimal | None:
    return None if d == 0 else (Decimal(n) * 100 / Decimal(d)).quantize(rules.RATE_PLACES)


# -- score sheets ------------------------------------------------------------------------------------------------

def score_year(session: Session, s: rules.IndicatorSet, region_id: int, year: int) -> tuple[dict[str, Any], str]:
    """The sheet's body and the digest of its inputs (values, previous values, accounts runs)."""
    names = units(session, s, region_id)
    codes = sorted(names)
    stored = current(session, s.version, year)
    before = current(session, s.version, year - 1)
    submitted = {i.code: {u: Decimal(stored[(u, i.code)].value) if (u, i.code) in stored else None for u in codes}
                 for i in s.indicators if i.submitted}
    previous = {i.code: {u: Decimal(before[(u, i.code)].value) if (u, i.code) in before else None for u in codes}
                for i in s.indicators if i.submitted}
    acc = accounts_of(session, region_id, year) if s.kind == "county" else None
    trades = trades_by_county(session, year) if s.kind == "county" else {}
    loans = finance.loans_by_county(session, year) if s.kind == "county" else {}
    prov = provision(session, s, region_id, year) if s.kind == "department" else {}
    values: dict[str, dict[str, Decimal | None]] = dict(submitted)
    for ind in s.indicators:
        if not ind.submitted:
            values[ind.code] = _metric(ind.metric, codes, acc, submitted, trades, prov, loans)
    scored = {ind.code: rules.score(ind, values[ind.code], previous.get(ind.code)) for ind in s.indicators}
    rows: dict[str, dict[str, Any]] = {}
    for u in codes:
        per = {i.code: scored[i.code][u] for i in s.indicators}
        level1 = {x.code: rules.sum_points([per[i.code].points for i in s.indicators if i.level1 == x.code])
                  for x in s.level1}
        total = rules.sum_points(list(level1.values()))
        colour, why = rules.colour(s, total, level1, {i.code: values[i.code][u] for i in s.indicators})
        rows[u] = {"code": u, "name": names[u], "total": str(total), "colour": colour, "colour_rule": why,
                   "level1": {k: str(v) for k, v in level1.items()},
                   "indicators": {i.code: {"value": _str(values[i.code][u]), "points": str(per[i.code].points),
                                           "note": per[i.code].note} for i in s.indicators}}
    ranks = rules.competition_ranks({u: Decimal(r["total"]) for u, r in rows.items()})
    for u, r in rows.items():
        r["rank"] = ranks[u]
    body = {"set": s.version, "kind": s.kind, "year": year, "units": sorted(rows.values(), key=lambda r: r["rank"]),
            "accounts": {"runs": list(acc.runs), "price_year": acc.price_year, "previous": acc.previous}
            if acc else None,
            "missing_accounts": s.kind == "county" and acc is None}
    inputs = {"values": {k: {u: _str(v) for u, v in d.items()} for k, d in values.items()},
              "previous": {k: {u: _str(v) for u, v in d.items()} for k, d in previous.items()},
              "set_digest": s.digest}
    body["synthetic_inputs"] = any(r.synthetic for r in (*stored.values(), *before.values()))
    return body, hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _str(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def compute(session: Session, version: str, region_id: int, year: int, by: Principal,
            synthetic: bool = False) -> ScoreSheet:
    """Score a year into its sheet (a draft, recomputed each time until published)."""
    by.require(MANAGE)
    s = indicator_set(session, version)
    regions.get_region(session, region_id)
    sheet = locked_row(session, ScoreSheet, {"set_version": version, "region_id": region_id, "year": year},
                       lambda: ScoreSheet(set_version=version, set_digest=s.digest, region_id=region_id, year=year,
                                          status="draft", computed_at=now(), synthetic=synthetic, body={}))
    if sheet.status == "published":
        raise Conflict(N_("the {year} sheet of {set} is published; it cannot be computed again"), year=year,
                       set=version)
    body, digest = score_year(session, s, region_id, year)
    sheet.body, sheet.inputs_digest, sheet.set_digest = body, digest, s.digest
    sheet.synthetic = synthetic or bool(body.get("synthetic_inputs"))  # labelled wherever it is shown
    sheet.computed_at, sheet.computed_by = now(), by.user_id
    session.flush()
    audit(session, by, "compute", "assessment_sheet", sheet.id, set=version, year=year, inputs=digest[:16])
    return sheet


def locked_row(session: Session, model: type[T], key: dict[str, Any], make: Callable[[], T]) -> T:
    """The row of `model` with this unique key, locked for the rest of the transaction; made first if missing.
    Two requests at once: one makes it, the other waits for it and then gets it (computing twice at once
    stores one sheet, the second computation after the first)."""
    def locked() -> T | None:
        return session.scalar(select(model).filter_by(**key).with_for_update())

    row = locked()
    if row is None:
        try:
            with session.begin_nested():
                row = make()
                session.add(row)
                session.flush()
        except IntegrityError:
            row = locked()
    assert row is not None
    return row


def publish(session: Session, sheet_id: int, by: Principal) -> ScoreSheet:
    by.require(MANAGE)
    sheet = session.get(ScoreSheet, sheet_id, with_for_update=True)
    if sheet is None:
        raise NotFound(N_("score sheet {id} does not exist"), id=sheet_id)
    if sheet.status == "published":
        raise Conflict(N_("score sheet {id} is published already"), id=sheet_id)
    if sheet.body.get("missing_accounts"):
        raise Conflict(N_("the {year} sheet has no accounts for {year} and the year before; run them first"),
                       year=sheet.year)
    sheet.status, sheet.published_at, sheet.published_by = "published", now(), by.user_id
    audit(session, by, "publish", "assessment_sheet", sheet.id, set=sheet.set_version, year=sheet.year,
          inputs=sheet.inputs_digest[:16])
    return sheet


def recheck(session: Session, sheet_id: int) -> dict[str, Any]:
    """Score the sheet's year again from the stored values and accounts: the same to the point, or what moved."""
    sheet = get_sheet(session, sheet_id)
    s = indicator_set(session, sheet.set_version)
    body, digest = score_year(session, s, sheet.region_id, sheet.year)
    old = {u["code"]: u["total"] for u in sheet.body["units"]}
    new = {u["code"]: u["total"] for u in body["units"]}
    moved = [{"code": c, "was": old.get(c), "now": new.get(c)} for c in sorted(set(old) | set(new))
             if old.get(c) != new.get(c)]
    return {"sheet_id": sheet.id, "same": digest == sheet.inputs_digest and not moved,
            "inputs_same": digest == sheet.inputs_digest, "moved": moved}


def get_sheet(session: Session, sheet_id: int) -> ScoreSheet:
    sheet = session.get(ScoreSheet, sheet_id)
    if sheet is None:
        raise NotFound(N_("score sheet {id} does not exist"), id=sheet_id)
    return sheet


def sheets(session: Session, published_only: bool = False) -> list[ScoreSheet]:
    q = select(ScoreSheet).order_by(ScoreSheet.year.desc(), ScoreSheet.set_version)
    if published_only:
        q = q.where(ScoreSheet.status == "published")
    return list(session.scalars(q))


def published_card(session: Session, version: str, year: int, code: str) -> tuple[ScoreSheet, dict[str, Any]]:
    """A unit's row of a published sheet (what its QR code opens); drafts are never shown."""
    sheet = session.scalar(select(ScoreSheet).where(ScoreSheet.set_version == version, ScoreSheet.year == year,
                                                    ScoreSheet.status == "published"))
    row = next((u for u in sheet.body["units"] if u["code"] == code), None) if sheet else None
    if sheet is None or row is None:
        raise NotFound(N_("no published score card for {code} in {year}"), code=code, year=year)
    return sheet, row


def sheet_view(session: Session, sheet: ScoreSheet) -> dict[str, Any]:
    s = indicator_set(session, sheet.set_version)
    colours: dict[str, int] = defaultdict(int)
    for u in sheet.body["units"]:
        colours[u["colour"]] += 1
    return {"id": sheet.id, "set": sheet.set_version, "region_id": sheet.region_id, "year": sheet.year,
            "status": sheet.status, "computed_at": sheet.computed_at.isoformat(),
            "published_at": sheet.published_at.isoformat() if sheet.published_at else None,
            "inputs_digest": sheet.inputs_digest, "synthetic": sheet.synthetic, "colours": dict(colours),
            "set_view": set_view(s), **sheet.body}


def set_view(s: rules.IndicatorSet) -> dict[str, Any]:
    return {"version": s.version, "kind": s.kind, "name_zh": s.name_zh, "name_en": s.name_en, "source": s.source,
            "deadline": s.deadline, "default_colour": s.default_colour,
            "level1": [{"code": x.code, "name_zh": x.name_zh, "name_en": x.name_en, "points": str(x.points)}
                       for x in s.level1],
            "level2": [{"code": x.code, "name_zh": x.name_zh, "name_en": x.name_en, "level1": x.parent}
                       for x in s.level2],
            "indicators": [i.as_dict() for i in s.indicators],
            "colour_rules": [{"colour": r.colour, "rule": rules.rule_text(r), "when": r.when,
                              "conditions": [{"of": c.of.removeprefix("indicator:"), "op": rules.SIGNS[c.op],
                                              "value": str(c.value)} for c in r.conditions]}
                             for r in s.colour_rules]}


def require_read(by: Principal) -> None:
    if not (by.can(READ) or by.can(MANAGE) or by.can(SUBMIT)):
        raise PermissionDenied(N_("this needs the permission {permission}"), permission=READ)
