"""Use cases of watershed compensation: install scheme rounds, basins, sections and agreements; import
observations (all rows or none); compute a year's index and the monthly provisional figures; close the year's
settlement (stakes into the agreement's pool and the payout, in one ledger batch each, once); read the basin's
picture, a section's series and the fund ledger. Damage cases live in `damage_service`."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.compensation import rules
from gep.compensation.models import Agreement, Basin, Observation, ObservationImport, SchemeRound, Section, Settlement
from gep.db import add_once, found
from gep.errors import N_, Conflict, FileError, InputError, NotFound, PermissionDenied, Problem
from gep.kit.audit import audit, now
from gep.kit.csvfile import read_rows
from gep.kit.principal import Principal
from gep.ledger import service as ledger
from gep.ledger.models import LedgerAccount

MANAGE = "compensation.manage"  # sections, agreements, observations, settlements, damage cases
READ = "compensation.read"  # the basin's picture, settlements, the fund ledger, damage cases
COLUMNS = ("section", "period", "parameter", "value", "unit")
MAX_ROWS = 200_000


# -- schemes ------------------------------------------------------------------------------------------------------

def install_schemes(session: Session, schemes: dict[str, rules.Scheme] | None = None) -> list[SchemeRound]:
    """Install every scheme round of the file once. A version already installed with different text is refused:
    a settlement must always be recomputable with the formula it names."""
    out = []
    for s in (schemes or rules.load_schemes()).values():
        def make(s: rules.Scheme = s) -> SchemeRound:
            return SchemeRound(code=s.code, version=s.version, digest=s.digest, body=s.as_dict(), installed_at=now())

        row, added = add_once(session, SchemeRound, {"version": s.version}, make)
        if not added and row.digest != s.digest:
            raise Conflict(N_("scheme version {version} is installed with other text; give the changed scheme a new "
                              "version"), version=s.version)
        out.append(row)
    return out


def scheme(session: Session, version: str) -> rules.Scheme:
    """A scheme round as installed (the database's copy is the one settlements are made with)."""
    row = session.scalar(select(SchemeRound).where(SchemeRound.version == version))
    if row is None:
        raise NotFound(N_("scheme version {version} is not installed"), version=version)
    b = row.body
    raw = {**b, "amount_yuan": Decimal(b["amount_fen"]) / 100, "external_yuan": Decimal(b["external_fen"]) / 100}
    return rules.parse_scheme(raw, row.digest)


def schemes(session: Session) -> list[SchemeRound]:
    return list(session.scalars(select(SchemeRound).order_by(SchemeRound.code, SchemeRound.version)))


# -- basins, sections, agreements ---------------------------------------------------------------------------------

def create_basin(session: Session, code: str, name_zh: str, scheme_code: str, by: Principal, name_en: str = "",
                 region_id: int | None = None, synthetic: bool = False) -> Basin:
    by.require(MANAGE)
    if session.scalar(select(Basin).where(Basin.code == code)) is not None:
        raise Conflict(N_("basin {code} exists already"), code=code)
    row = Basin(code=code, name_zh=name_zh, name_en=name_en, scheme_code=scheme_code, region_id=region_id,
                synthetic=synthetic, created_at=now())
    session.add(row)
    session.flush()
    audit(session, by, "create", "compensation_basin", row.id, code=code)
    return row


def add_section(session: Session, basin_id: int, code: str, name: str, lon: float, lat: float,
                upstream: tuple[str, str], downstream: tuple[str, str], water_class: str, by: Principal,
                river: str = "", synthetic: bool = False) -> Section:
    by.require(MANAGE)
    found(session, Basin, basin_id, N_("basin {id} does not exist"))
    if water_class not in rules.WATER_CLASSES:
        raise InputError(N_("water class {cls} has no thresholds; expected one of {expected}"), cls=water_class,
                         expected=", ".join(rules.WATER_CLASSES))
    if upstream[0] == downstream[0]:
        raise InputError(N_("a section lies between two different counties"))
    if session.scalar(select(Section).where(Section.code == code)) is not None:
        raise Conflict(N_("section {code} exists already"), code=code)
    row = Section(basin_id=basin_id, code=code, name=name, river=river, lon=lon, lat=lat, upstream_code=upstream[0],
                  upstream_name=upstream[1], downstream_code=downstream[0], downstream_name=downstream[1],
                  water_class=water_class, synthetic=synthetic)
    session.add(row)
    session.flush()
    audit(session, by, "create", "compensation_section", row.id, code=code)
    return row


def sign_agreement(session: Session, section_id: int, version: str, baseline: dict[str, str], by: Principal,
                   amount_fen: int | None = None, signed_on: date | None = None) -> Agreement:
    """The agreement of a section's pair for one scheme round: the amount defaults to the round's, the
    baseline gives every parameter the round's index reads."""
    by.require(MANAGE)
    section = found(session, Section, section_id, N_("section {id} does not exist"))
    s = scheme(session, version)
    problems = []
    clean: dict[str, str] = {}
    for p in s.needs():
        raw = str(baseline.get(p, "")).strip()
        try:
            value = Decimal(raw)
            if not value.is_finite() or value <= 0:
                raise ValueError(raw)
            clean[p] = str(value)
        except (ArithmeticError, ValueError):
            problems.append(Problem(N_("baseline {parameter}"), N_("a positive number in {unit}, not {value}"),
                                    parameter=p, unit=rules.PARAMETERS[p].unit, value=repr(raw)))
    if problems:
        raise FileError("baseline", problems)
    if session.scalar(select(Agreement).where(Agreement.section_id == section_id,
                                              Agreement.scheme_version == version)) is not None:
        raise Conflict(N_("section {section} has an agreement for {version} already"), section=section.code,
                       version=version)
    row = Agreement(code=f"{section.code}-{s.version}", section_id=section_id, scheme_version=version,
                    first_year=s.first_year, last_year=s.last_year,
                    amount_fen=s.amount_fen if amount_fen is None else amount_fen, external_fen=s.external_fen,
                    baseline=clean, signed_on=signed_on or now().date(), created_by=by.user_id)
    session.add(row)
    session.flush()
    audit(session, by, "sign", "compensation_agreement", row.id, code=row.code, amount_fen=row.amount_fen)
    return row


def agreement_for(session: Session, section_id: int, year: int) -> Agreement:
    row = session.scalar(select(Agreement).where(Agreement.section_id == section_id, Agreement.first_year <= year,
                                                 Agreement.last_year >= year))
    if row is None:
        raise NotFound(N_("section {id} has no agreement covering {year}"), id=section_id, year=year)
    return row


def basins(session: Session) -> list[Basin]:
    return list(session.scalars(select(Basin).order_by(Basin.id)))


def sections_of(session: Session, basin_id: int) -> list[Section]:
    return list(session.scalars(select(Section).where(Section.basin_id == basin_id).order_by(Section.code)))


# -- observations ---------------------------------------------------------------------------------------------------

def parse_csv(data: bytes, filename: str) -> list[dict[str, str]]:
    """Rows of an observations CSV (UTF-8, with or without BOM): section, period, parameter, value, unit."""
    return read_rows(data, filename, COLUMNS, max_rows=MAX_ROWS)


@dataclass
class ImportResult:
    id: int
    rows: int
    stored: int
    skipped: int
    flagged: list[dict[str, Any]] = field(default_factory=list)


def import_observations(session: Session, rows: list[dict[str, str]], by: Principal, filename: str = "api",
                        data: bytes = b"", first_row: int = 2, synthetic: bool = False) -> ImportResult:
    """Check every row, then store all or nothing. Rows equal to stored ones are skipped, so a file posted twice
    stores nothing twice; a row that contradicts a stored value is refused (correct the stored value)."""
    by.require(MANAGE)
    if not rows:
        raise InputError(N_("{file} has no rows"), file=filename)
    if len(rows) > MAX_ROWS:
        raise InputError(N_("{file} has {count} rows; at most 200,000 at a time"), file=filename, count=len(rows))
    sections = {s.code: s for s in session.scalars(select(Section))}
    codes = {str(r.get("section", "")).strip() for r in rows}
    ids = sorted(sections[c].id for c in codes if c in sections)
    # two imports touching the same sections run one after the other: the second sees the first's rows
    session.execute(select(Section.id).where(Section.id.in_(ids)).order_by(Section.id).with_for_update())
    stored = {(s.code, o.year, o.month, o.parameter): Decimal(o.value) for o, s in session.execute(
        select(Observation, Section).join(Section, Section.id == Observation.section_id)
        .where(Observation.section_id.in_(ids))).all()} if ids else {}
    closed = _closed_years(session, {(sections[code].id, year) for code, year in _section_years(rows)
                                     if code in sections})
    if closed:
        sid, year = sorted(closed)[0]
        code = next(c for c, s in sections.items() if s.id == sid)
        raise Conflict(N_("the settlement of {section} for {year} is closed; its observations cannot change"),
                       section=code, year=year)
    checked = rules.check_rows(rows, set(sections), stored, first_row)
    if checked.problems:
        raise FileError(filename, [Problem(N_("row {row}, {field}"), p["message"],
                                           **{**p["params"], "row": p["row"], "field": p["field"]})
                                   for p in checked.problems])
    imp = ObservationImport(filename=filename[:200], digest=hashlib.sha256(data).hexdigest() if data else "",
                            rows=len(rows), stored=len(checked.records), skipped=checked.skipped,
                            flagged=sum(r.flagged for r in checked.records), by_user_id=by.user_id, at=now())
    session.add(imp)
    session.flush()
    session.add_all([Observation(section_id=sections[r.section].id, year=r.year, month=r.month,
                                 parameter=r.parameter, value=str(r.value), flagged=r.flagged, import_id=imp.id,
                                 synthetic=synthetic) for r in checked.records])
    session.flush()
    flagged = [{"row": r.row, "section": r.section, "period": rules.period_text(r.year, r.month),
                "parameter": r.parameter, "value": str(r.value)} for r in checked.records if r.flagged]
    audit(session, by, "import", "compensation_import", imp.id, rows=len(rows), stored=imp.stored,
          skipped=imp.skipped, flagged=imp.flagged)
    return ImportResult(imp.id, len(rows), imp.stored, imp.skipped, flagged)


def _section_years(rows: list[dict[str, str]]) -> set[tuple[str, int]]:
    out = set()
    for r in rows:
        try:
            out.add((str(r.get("section", "")).strip(), rules.parse_period(str(r.get("period", "")))[0]))
        except ValueError:
            continue
    return out


def correct_observation(session: Session, section_id: int, year: int, month: int, parameter: str, value: str,
                        reason: str, by: Principal) -> Observation:
    """Replace a stored value (a laboratory's correction) while the year is not closed; the old value and the
    reason are kept in the audit log."""
    by.require(MANAGE)
    if not reason.strip():
        raise InputError(N_("a correction gives its reason"))
    row = session.scalar(select(Observation).where(Observation.section_id == section_id, Observation.year == year,
                                                   Observation.month == month, Observation.parameter == parameter))
    if row is None:
        raise NotFound(N_("no stored value for this section, period and parameter"))
    if _closed_years(session, {(section_id, year)}):
        raise Conflict(N_("the settlement of {section} for {year} is closed; its observations cannot change"),
                       section=section_id, year=year)
    section = found(session, Section, section_id, N_("section {id} does not exist"))
    checked = rules.check_rows([{"section": section.code, "period": rules.period_text(year, month),
                                 "parameter": parameter, "value": value,
                                 "unit": rules.PARAMETERS[parameter].unit}], {section.code}, {}, 1)
    if checked.problems:
        p = checked.problems[0]
        raise InputError(p["message"], **p["params"])
    old = row.value
    row.value, row.flagged = str(checked.records[0].value), checked.records[0].flagged
    audit(session, by, "correct", "compensation_observation", row.id, old=old, new=row.value, reason=reason)
    return row


@dataclass
class Fed:
    stored: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # closed years, unknown parameters, impossible values


def feed_month(session: Session, section_code: str, year: int, month: int, values: dict[str, str], source: str
               ) -> Fed:
    """A month's means measured by a monitoring station at the section, as its observations: stored when new,
    updated (with the old value and the source in the audit log) while the year is open and the station's mean
    moved, left alone when equal; a closed year is never changed. Idempotent."""
    out = Fed()
    section = session.scalar(select(Section).where(Section.code == section_code))
    if section is None:
        return out
    if _closed_years(session, {(section.id, year)}):
        out.refused = sorted(values)
        return out
    for parameter, raw in sorted(values.items()):
        param = rules.PARAMETERS.get(parameter)
        if param is None or param.period != "monthly":
            out.refused.append(parameter)
            continue
        checked = rules.check_rows([{"section": section.code, "period": rules.period_text(year, month),
                                     "parameter": parameter, "value": raw, "unit": param.unit}], {section.code}, {}, 1)
        if checked.problems:
            out.refused.append(parameter)
            continue
        record = checked.records[0]
        row = session.scalar(select(Observation).where(Observation.section_id == section.id,
                                                       Observation.year == year, Observation.month == month,
                                                       Observation.parameter == parameter))
        if row is None:
            session.add(Observation(section_id=section.id, year=year, month=month, parameter=parameter,
                                    value=str(record.value), flagged=record.flagged, import_id=None, synthetic=False))
            out.stored.append(parameter)
        elif Decimal(row.value) == record.value:
            out.unchanged.append(parameter)
        else:
            old = row.value
            row.value, row.flagged = str(record.value), record.flagged
            audit(session, None, "correct", "compensation_observation", row.id, old=old, new=row.value,
                  reason=f"monthly mean from {source}")
            out.updated.append(parameter)
    session.flush()
    if out.stored or out.updated:
        audit(session, None, "feed", "compensation_section", section.id, year=year, month=month, source=source,
              stored=out.stored, updated=out.updated)
    return out


def _closed_years(session: Session, keys: set[tuple[int, int]]) -> set[tuple[int, int]]:
    if not keys:
        return set()
    years = {y for _s, y in keys}
    rows = session.execute(select(Agreement.section_id, Settlement.year).join(
        Agreement, Agreement.id == Settlement.agreement_id).where(Settlement.state == "closed",
                                                                  Settlement.year.in_(years)))
    return {(int(s), int(y)) for s, y in rows} & keys


def observations(session: Session, section_id: int, year: int) -> list[Observation]:
    return list(session.scalars(select(Observation).where(Observation.section_id == section_id,
                                                          Observation.year == year)
                                .order_by(Observation.parameter, Observation.month)))


# -- computing a year ---------------------------------------------------------------------------------------------

@dataclass
class Computed:
    """A year's result for one agreement, before or at closing."""

    scheme: rules.Scheme
    year: int
    means: dict[str, Decimal]
    baseline: dict[str, Decimal]
    index: rules.Index | None
    direction: str
    payout: rules.Payout
    gaps: list[tuple[str, int]]
    flagged: list[dict[str, Any]]
    digest: str
    count: int
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "scheme_version": self.scheme.version, "means": _strs(self.means),
                "baseline": _strs(self.baseline), "index": self.index.as_dict() if self.index else None,
                "direction": self.direction, "upstream_fen": self.payout.upstream_fen,
                "downstream_fen": self.payout.downstream_fen, "gaps": [rules.period_text(self.year, m) + f" {p}"
                                                                      for p, m in self.gaps],
                "flagged": self.flagged, "data_digest": self.digest, "observations": self.count,
                "problem": self.problem}


def _strs(d: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in d.items()}


def compute(session: Session, agreement: Agreement, year: int) -> Computed:
    """The year's annual means, baseline (ratcheted over the agreement's closed years), index, direction and
    payout, with the gaps and flagged values, from the observations stored now."""
    if not agreement.first_year <= year <= agreement.last_year:
        raise InputError(N_("agreement {code} covers {first}–{last}, not {year}"), code=agreement.code,
                         first=agreement.first_year, last=agreement.last_year, year=year)
    s = scheme(session, agreement.scheme_version)
    section = session.get(Section, agreement.section_id)
    assert section is not None
    rows = observations(session, agreement.section_id, year)
    needed = s.needs()
    values: dict[str, list[Decimal]] = defaultdict(list)
    present = set()
    used = []
    for o in rows:
        if o.parameter in needed:
            values[o.parameter].append(Decimal(o.value))
            present.add((o.parameter, o.month))
            used.append((section.code, o.year, o.month, o.parameter, Decimal(o.value)))
    flagged = [{"period": rules.period_text(o.year, o.month), "parameter": o.parameter, "value": o.value}
               for o in rows if o.flagged and o.parameter in needed]
    gaps = rules.missing_periods(year, needed, present)
    means = rules.annual_means(values)
    earlier = [(st.year, {k: Decimal(v) for k, v in st.means.items()}) for st in session.scalars(
        select(Settlement).where(Settlement.agreement_id == agreement.id, Settlement.state == "closed",
                                 Settlement.year < year))]
    baseline = rules.baseline_for(s.baseline_rule, {k: Decimal(v) for k, v in agreement.baseline.items()}, earlier)
    idx, direction, problem = None, "none", ""
    try:
        idx = rules.index(s, means, baseline)
        direction = rules.direction(s, section.water_class, idx.value)
    except InputError as exc:
        problem = str(exc)
    payout = rules.payout(direction, agreement.amount_fen, agreement.external_fen, s.external_to)
    return Computed(s, year, means, baseline, idx, direction, payout, gaps, flagged, rules.data_digest(used),
                    len(used), problem)


def monthly(c: Computed, water_class: str, rows: list[Observation]) -> list[dict[str, Any]]:
    """The provisional index of each month with data (每月计算): that month's values against the year's baseline
    (from the year's computation `c`); the year's water-use efficiency when reported, else the baseline (ratio
    1). Nothing is paid on these."""
    by_month: dict[int, dict[str, Decimal]] = defaultdict(dict)
    annual: dict[str, Decimal] = {}
    for o in rows:
        if o.month == 0:
            annual[o.parameter] = Decimal(o.value)
        else:
            by_month[o.month][o.parameter] = Decimal(o.value)
    out = []
    for month in sorted(by_month):
        values = {**{p: c.baseline[p] for p in c.scheme.needs() if rules.PARAMETERS[p].period == "annual"},
                  **annual, **by_month[month]}
        try:
            idx = rules.index(c.scheme, values, c.baseline)
        except InputError:
            continue
        out.append({"month": month, "index": str(idx.value),
                    "direction": rules.direction(c.scheme, water_class, idx.value),
                    "values": _strs(by_month[month])})
    return out


def draft(session: Session, agreement: Agreement, year: int, computed: Computed | None = None) -> Settlement:
    """The year's settlement as of now: a draft is recomputed from the stored data each time it is read (or
    takes the computation the caller just made); a closed one is returned as closed."""
    row = session.scalar(select(Settlement).where(Settlement.agreement_id == agreement.id, Settlement.year == year))
    if row is not None and row.state == "closed":
        return row
    c = computed or compute(session, agreement, year)
    if row is None:
        made, _ = add_once(session, Settlement, {"agreement_id": agreement.id, "year": year},
                           lambda: Settlement(agreement_id=agreement.id, year=year, state="draft",
                                              computed_at=now(), **_fields(c, agreement)))
        if made.state == "closed":
            return made
        row = made
    current: Settlement = row
    for k, v in _fields(c, agreement).items():
        setattr(current, k, v)
    current.computed_at = now()
    session.flush()
    return current


def _fields(c: Computed, agreement: Agreement) -> dict[str, Any]:
    band = c.scheme.thresholds
    return {"index_value": str(c.index.value) if c.index else "", "parts": c.index.as_dict() if c.index else {},
            "means": _strs(c.means), "baseline": _strs(c.baseline),
            "thresholds": {k: {"lower": str(b.lower), "upper": str(b.upper), "lower_inclusive": b.lower_inclusive}
                           for k, b in band.items()},
            "direction": c.direction, "amount_fen": agreement.amount_fen, "upstream_fen": c.payout.upstream_fen,
            "downstream_fen": c.payout.downstream_fen, "scheme_version": c.scheme.version,
            "scheme_digest": c.scheme.digest, "data_digest": c.digest, "observations": c.count,
            "gaps": [[p, m] for p, m in c.gaps], "flagged": c.flagged}


# -- money ------------------------------------------------------------------------------------------------------------

def county_account(session: Session, code: str, name: str) -> LedgerAccount:
    """A county's compensation fund (its budget line for horizontal compensation)."""
    return ledger.open_account(session, f"compensation:county:{code}", f"{name} 生态补偿资金", "liability",
                               "compensation")


def pool_account(session: Session, agreement: Agreement, year: int) -> LedgerAccount:
    """An agreement's pool for one year: both counties' stakes (and outside money) until the settlement."""
    return ledger.open_account(session, f"compensation:pool:{agreement.id}:{year}",
                               f"{agreement.code} {year} 补偿资金池", "liability", "compensation_pool",
                               no_overdraft=True)


def funder_account(session: Session, scheme_code: str) -> LedgerAccount:
    return ledger.open_account(session, f"compensation:funder:{scheme_code}", f"{scheme_code} 上级财政补偿资金",
                               "liability", "compensation_funder")


def stake(session: Session, agreement: Agreement, year: int, by: Principal) -> ledger.Batch:
    """Both counties put the agreement's amount into the year's pool (outside money too); once per year."""
    by.require(MANAGE)
    section = session.get(Section, agreement.section_id)
    assert section is not None
    s = scheme(session, agreement.scheme_version)
    up = county_account(session, section.upstream_code, section.upstream_name)
    down = county_account(session, section.downstream_code, section.downstream_name)
    pool = pool_account(session, agreement, year)
    ref = ("compensation_agreement", f"{agreement.id}:{year}")
    moves = [ledger.Move(up.id, pool.id, agreement.amount_fen, "compensation_stake", ref=ref),
             ledger.Move(down.id, pool.id, agreement.amount_fen, "compensation_stake", ref=ref)]
    if agreement.external_fen:
        moves.append(ledger.Move(funder_account(session, s.code).id, pool.id, agreement.external_fen,
                                 "compensation_stake", ref=ref))
    return ledger.post(session, [m for m in moves if m.amount > 0], f"compensation:stake:{agreement.id}:{year}", by)


def close(session: Session, agreement_id: int, year: int, by: Principal, accept_gaps: bool = False,
          reason: str = "") -> tuple[Settlement, bool]:
    """Close a year: refuse while values are missing (unless accepted with a reason), then stake and pay out of
    the pool in the caller's transaction. Closing again returns the closed settlement and posts nothing
    (returns closed=False then)."""
    by.require(MANAGE)
    agreement = session.scalar(select(Agreement).where(Agreement.id == agreement_id).with_for_update())
    if agreement is None:
        raise NotFound(N_("agreement {id} does not exist"), id=agreement_id)
    row = draft(session, agreement, year)
    session.refresh(row, with_for_update=True)
    if row.state == "closed":
        return row, False
    s = scheme(session, agreement.scheme_version)
    if s.baseline_rule == "ratchet":
        done = set(session.scalars(select(Settlement.year).where(Settlement.agreement_id == agreement.id,
                                                                 Settlement.state == "closed")))
        earlier = [y for y in range(agreement.first_year, year) if y not in done]
        if earlier:
            raise Conflict(N_("close {earlier} first: the baseline of {year} is ratcheted on the years before it"),
                           earlier=earlier[0], year=year)
    if row.index_value == "":
        raise Conflict(N_("the index of {year} cannot be computed yet: {problem}"), year=year,
                       problem=compute(session, agreement, year).problem)
    if accept_gaps and not reason.strip():
        raise InputError(N_("accepting missing values needs a reason"))
    rules.can_close(row.gaps, accept_gaps, row.state)
    section = session.get(Section, agreement.section_id)
    assert section is not None
    stake(session, agreement, year, by)
    up = county_account(session, section.upstream_code, section.upstream_name)
    down = county_account(session, section.downstream_code, section.downstream_name)
    pool = pool_account(session, agreement, year)
    ref = ("compensation_settlement", str(row.id))
    key = f"compensation:settle:{agreement.id}:{year}"
    ledger.post(session, [m for m in (ledger.Move(pool.id, up.id, row.upstream_fen, "compensation_payout", ref=ref),
                                      ledger.Move(pool.id, down.id, row.downstream_fen, "compensation_payout",
                                                  ref=ref)) if m.amount > 0], key, by)
    row.state, row.batch = "closed", key
    row.gaps_accepted, row.gaps_reason = bool(row.gaps) and accept_gaps, reason.strip() if row.gaps else ""
    row.closed_by, row.closed_at = by.user_id, now()
    session.flush()
    audit(session, by, "close", "compensation_settlement", row.id, agreement=agreement.code, year=year,
          index=row.index_value, direction=row.direction, upstream_fen=row.upstream_fen,
          downstream_fen=row.downstream_fen, gaps=len(row.gaps), data_digest=row.data_digest)
    return row, True


def recompute(session: Session, settlement_id: int) -> dict[str, Any]:
    """Compute a settlement again from the stored data with the formula it names, and say whether every figure
    is the same to the fen (and, if not, what differs)."""
    row = found(session, Settlement, settlement_id, N_("settlement {id} does not exist"))
    agreement = session.get(Agreement, row.agreement_id)
    assert agreement is not None
    c = compute(session, agreement, row.year)
    now_ = _fields(c, agreement)
    keys = ("index_value", "direction", "upstream_fen", "downstream_fen", "data_digest", "scheme_digest",
            "baseline", "means")
    differs = [k for k in keys if getattr(row, k) != now_[k]]
    return {"settlement": row.id, "state": row.state, "matches": not differs, "differs": differs,
            "stored": {k: getattr(row, k) for k in keys}, "recomputed": {k: now_[k] for k in keys}}


# -- reading ----------------------------------------------------------------------------------------------------------

def settlement_view(session: Session, row: Settlement, agreement: Agreement, section: Section) -> dict[str, Any]:
    return {"id": row.id, "agreement": agreement.code, "agreement_id": agreement.id, "section": section.code,
            "section_id": section.id, "section_name": section.name, "year": row.year, "state": row.state,
            "index": row.index_value, "parts": row.parts, "means": row.means, "baseline": row.baseline,
            "thresholds": row.thresholds.get(section.water_class), "water_class": section.water_class,
            "direction": row.direction, "amount_fen": row.amount_fen, "upstream_fen": row.upstream_fen,
            "downstream_fen": row.downstream_fen, "upstream": {"code": section.upstream_code,
                                                               "name": section.upstream_name},
            "downstream": {"code": section.downstream_code, "name": section.downstream_name},
            "transfer_fen": row.amount_fen if row.direction != "none" else 0,
            "scheme_version": row.scheme_version, "scheme_digest": row.scheme_digest,
            "data_digest": row.data_digest, "observations": row.observations,
            "gaps": [rules.period_text(row.year, m) + f" {p}" for p, m in row.gaps], "flagged": row.flagged,
            "gaps_accepted": row.gaps_accepted, "gaps_reason": row.gaps_reason, "batch": row.batch,
            "closed_at": row.closed_at.isoformat() if row.closed_at else None}


def year_of_basin(session: Session, basin_id: int, year: int) -> list[dict[str, Any]]:
    """Every section's settlement of the year (a draft computed now, or the closed one)."""
    out = []
    for section in sections_of(session, basin_id):
        try:
            agreement = agreement_for(session, section.id, year)
        except NotFound:
            out.append({"section": section.code, "section_id": section.id, "section_name": section.name,
                        "year": year, "state": "no_agreement", "upstream": {"code": section.upstream_code,
                                                                             "name": section.upstream_name},
                        "downstream": {"code": section.downstream_code, "name": section.downstream_name},
                        "water_class": section.water_class, "direction": "none", "transfer_fen": 0, "gaps": []})
            continue
        out.append(settlement_view(session, draft(session, agreement, year), agreement, section))
    return out


def close_year(session: Session, basin_id: int, year: int, by: Principal, accept_gaps: bool = False,
               reason: str = "") -> dict[str, Any]:
    """Close every section's settlement of the year that can be closed; say which could not and why."""
    by.require(MANAGE)
    closed: list[str] = []
    already: list[str] = []
    refused: list[dict[str, str]] = []
    for section in sections_of(session, basin_id):
        try:
            agreement = agreement_for(session, section.id, year)
        except NotFound:
            continue
        try:
            with session.begin_nested():
                _row, new = close(session, agreement.id, year, by, accept_gaps, reason)
            (closed if new else already).append(section.code)
        except (Conflict, InputError) as exc:
            refused.append({"section": section.code, "reason": str(exc)})
    return {"closed": closed, "already": already, "refused": refused}


def section_series(session: Session, section_id: int, year: int) -> dict[str, Any]:
    """A section's monthly values and provisional index of a year, with its thresholds (for the chart)."""
    section = found(session, Section, section_id, N_("section {id} does not exist"))
    agreement = agreement_for(session, section_id, year)
    rows = observations(session, section_id, year)
    c = compute(session, agreement, year)
    s, band = c.scheme, c.scheme.thresholds[section.water_class]
    values: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in rows:
        values[o.parameter].append({"month": o.month, "value": o.value, "flagged": o.flagged})
    return {"section": {"id": section.id, "code": section.code, "name": section.name, "river": section.river,
                        "water_class": section.water_class, "upstream": section.upstream_name,
                        "downstream": section.downstream_name, "synthetic": section.synthetic},
            "year": year, "agreement": agreement.code, "scheme": s.as_dict(),
            "orientation": s.orientation, "lower": str(band.lower), "upper": str(band.upper),
            "months": monthly(c, section.water_class, rows), "values": values,
            "settlement": settlement_view(session, draft(session, agreement, year, c), agreement, section),
            "years": sorted({y for (y,) in session.execute(select(Observation.year).where(
                Observation.section_id == section_id).distinct())})}


def funds(session: Session, basin_id: int) -> dict[str, Any]:
    """The counties' compensation accounts and the pools of the basin's agreements, with their balances and
    the sum of the counties' (it moves only by outside money)."""
    codes = set()
    names = {}
    for s in sections_of(session, basin_id):
        codes |= {s.upstream_code, s.downstream_code}
        names[s.upstream_code], names[s.downstream_code] = s.upstream_name, s.downstream_name
    accounts = {a.code: a for a in session.scalars(
        select(LedgerAccount).where(LedgerAccount.code.in_([f"compensation:county:{c}" for c in codes]))
        .execution_options(skip_scope=True))}
    counties = []
    for c in sorted(codes):
        a = accounts.get(f"compensation:county:{c}")
        counties.append({"code": c, "name": names[c], "account_id": a.id if a else None,
                         "balance_fen": _balance(a) if a else 0,
                         "received_fen": a.credits_posted if a else 0, "paid_fen": a.debits_posted if a else 0,
                         "statement": _statement(session, a) if a else []})
    return {"counties": counties, "total_fen": sum(c["balance_fen"] for c in counties)}


def _balance(a: LedgerAccount) -> int:
    return int(a.credits_posted - a.debits_posted)


def _statement(session: Session, a: LedgerAccount) -> list[dict[str, Any]]:
    return ledger.statement(session, a, limit=50)


def require_read(by: Principal) -> None:
    if not (by.can(READ) or by.can(MANAGE)):
        raise PermissionDenied(N_("you may not see watershed compensation"))


# -- for other mechanisms -------------------------------------------------------------------------------------------

def value_land_change(session: Session, region_id: int, geometry: dict[str, Any], from_ecosystem: str,
                      to_ecosystem: str, title: str, year: int | None = None) -> dict[str, Any]:
    """The yearly value of turning the pixels of one ecosystem inside an outline (GeoJSON, WGS84) into another,
    valued as a damage is: the accounts' value density of those pixels against the county's mean density of the new
    ecosystem (what a project check before approval asks; no recovery period, no discounting)."""
    from gep.compensation import damage_service

    occurred = date(year, 12, 31) if year is not None else now().date()
    return damage_service.valuate(session, damage_service.CaseRequest(
        title, region_id, geometry, occurred, from_ecosystem, to_ecosystem, 1, path="step",
        discount_rate=Decimal(0), year=year))


def events_in(session: Session, county_code: str, first: date, last: date) -> list[dict[str, Any]]:
    """What compensation recorded about a county between two dates (a tenure audit reads it): the closed
    settlements of its sections for the years of the period, and the damage cases valued in it."""
    from gep.compensation.models import DamageCase

    out: list[dict[str, Any]] = []
    q = (select(Settlement, Section).join(Agreement, Agreement.id == Settlement.agreement_id)
         .join(Section, Section.id == Agreement.section_id)
         .where(Settlement.state == "closed", Settlement.year >= first.year, Settlement.year <= last.year)
         .where((Section.upstream_code == county_code) | (Section.downstream_code == county_code)))
    for st, sec in session.execute(q):
        side = "upstream" if sec.upstream_code == county_code else "downstream"
        received = st.upstream_fen if side == "upstream" else st.downstream_fen
        out.append({"kind": "settlement", "date": f"{st.year}-12-31", "ref": f"{sec.code} {st.year}",
                    "text": f"{sec.name}: index {st.index_value}, {st.direction}", "side": side,
                    "net_fen": received - st.amount_fen})
    for case in session.scalars(select(DamageCase).where(DamageCase.occurred_on >= first,
                                                         DamageCase.occurred_on <= last)):
        if (case.result or {}).get("reference_zone") == county_code:
            out.append({"kind": "damage", "date": case.occurred_on.isoformat(), "ref": case.code, "text": case.title,
                        "net_fen": -case.total_fen})
    return sorted(out, key=lambda e: (e["date"], e["ref"]))
