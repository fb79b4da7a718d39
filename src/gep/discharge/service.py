"""The discharge-rights registry's units of work (排污权, 一企一证一卡).

Quota is booked by double entry per pollutant and year, in grams: a county's cap puts tonnes into its reserve;
a permit allocates from the reserve to the enterprise for each year of its term (refused where the reserve is
short: no new project without reserve); buy-backs return quota to the reserve; offers set quota aside for the
exchange and its events deliver it to buyers or return it; monitored emissions move it from the enterprise to
what it emitted. Nothing is made or lost, and an enterprise's card is its balances.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.auth.models import User
from gep.db import add_once
from gep.discharge import rules
from gep.discharge.models import (
    EmissionImport,
    EmissionRecord,
    Enterprise,
    FeeBill,
    Permit,
    PermitLine,
    Pledge,
    ProjectCheck,
    QuotaAccount,
    QuotaAlert,
    QuotaEntry,
    QuotaOffer,
)
from gep.errors import N_, Conflict, FileError, InputError, NotFound, PermissionDenied, Problem
from gep.kit import events
from gep.kit.audit import audit, aware, now
from gep.kit.csvfile import read_rows
from gep.kit.notify import notify
from gep.kit.principal import Principal
from gep.ledger import service as ledger
from gep.regions.models import Zone

MANAGE = "discharge.manage"  # the environment bureau: caps, permits, buy-backs, reserve auctions, pledges
HOLD = "discharge.hold"  # an enterprise: its card, bills, offers of its own quota, its emission records
READ_ALL = "discharge.read_all"
OFFERED = "discharge.quota_offered"  # outbox: quota set aside for the exchange (a draft listing follows)
UNITS_REF = "discharge:"
QUOTA_EXCEEDED = "discharge.quota_exceeded"  # outbox: an enterprise used its whole quota of a pollutant for a year
CITY = "city"  # the city's reserve (市级储备账户) beside the counties'


@dataclass(frozen=True)
class Move:
    src: QuotaAccount
    dst: QuotaAccount
    pollutant: str
    year: int
    grams: int
    kind: str
    ref: str = ""


# -- accounts and balances ----------------------------------------------------------------------------------

def account(session: Session, code: str, kind: str, name: str, county_code: str = "",
            enterprise_id: int | None = None) -> QuotaAccount:
    row, _added = add_once(session, QuotaAccount, {"code": code}, lambda: QuotaAccount(
        code=code, kind=kind, name=name, county_code=county_code, enterprise_id=enterprise_id))
    return row


def reserve_of(session: Session, county_code: str) -> QuotaAccount:
    name = "市级储备" if county_code == CITY else f"{county_code} 储备"
    return account(session, f"reserve:{county_code}", "reserve", name, county_code)


def cap_of(session: Session, county_code: str) -> QuotaAccount:
    return account(session, f"cap:{county_code}", "cap", f"{county_code} 总量", county_code)


def holding_of(session: Session, enterprise: Enterprise) -> QuotaAccount:
    return account(session, f"enterprise:{enterprise.id}", "enterprise", enterprise.name, enterprise.county_code,
                   enterprise.id)


def usage_of(session: Session, enterprise: Enterprise) -> QuotaAccount:
    return account(session, f"usage:{enterprise.id}", "usage", f"{enterprise.name} 排放", enterprise.county_code,
                   enterprise.id)


def _lock(session: Session, account_id: int) -> None:
    """Moves out of one account happen one at a time (its row is locked until the transaction ends). FOR NO KEY
    UPDATE: rows that merely point at the account (entries, offers) do not wait for it, so two moves in
    opposite directions cannot deadlock."""
    session.get(QuotaAccount, account_id, with_for_update={"key_share": True}, populate_existing=True)


def balances(session: Session, account_ids: Iterable[int], pollutant: str | None = None,
             year: int | None = None) -> dict[tuple[int, str, int], int]:
    """(account, pollutant, year) → grams: what came in less what went out."""
    ids = list(account_ids)
    if not ids:
        return {}
    out: dict[tuple[int, str, int], int] = defaultdict(int)
    for column, sign in ((QuotaEntry.to_id, 1), (QuotaEntry.from_id, -1)):
        q = select(column, QuotaEntry.pollutant, QuotaEntry.year, func.sum(QuotaEntry.grams)).where(column.in_(ids))
        if pollutant is not None:
            q = q.where(QuotaEntry.pollutant == pollutant)
        if year is not None:
            q = q.where(QuotaEntry.year == year)
        for acct, pol, yr, grams in session.execute(q.group_by(column, QuotaEntry.pollutant, QuotaEntry.year)):
            out[(int(acct), str(pol), int(yr))] += sign * int(grams)
    return dict(out)


def balance(session: Session, account_id: int, pollutant: str, year: int) -> int:
    return balances(session, [account_id], pollutant, year).get((account_id, pollutant, year), 0)


def pledged(session: Session, enterprise_id: int, pollutant: str, year: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(Pledge.grams), 0)).where(
        Pledge.enterprise_id == enterprise_id, Pledge.pollutant == pollutant, Pledge.year == year,
        Pledge.state == "active")) or 0)


def available(session: Session, acct: QuotaAccount, pollutant: str, year: int) -> int:
    """What may leave an account: its balance less what is pledged."""
    held = balance(session, acct.id, pollutant, year)
    if acct.enterprise_id is not None and acct.kind == "enterprise":
        held -= pledged(session, acct.enterprise_id, pollutant, year)
    return held


def post(session: Session, moves: list[Move], key: str, by: Principal | None, overdraw: bool = False) -> bool:
    """Book moves all or nothing, once per key. Each source must hold what leaves it (less pledges) unless
    `overdraw` (emissions are facts: an enterprise can emit beyond its quota, and its card shows it)."""
    if session.scalar(select(QuotaEntry.id).where(QuotaEntry.key == f"{key}#0")) is not None:
        return False
    for src_id in sorted({m.src.id for m in moves}):
        _lock(session, src_id)
    need: dict[tuple[int, str, int], int] = defaultdict(int)
    for m in moves:
        rules.check_pollutant(m.pollutant)
        if m.grams <= 0:
            raise InputError(N_("a quantity of quota is positive, not {grams} g"), grams=m.grams)
        if m.src.id == m.dst.id:
            raise InputError(N_("quota moves between two different accounts"))
        need[(m.src.id, m.pollutant, m.year)] += m.grams
    by_id = {m.src.id: m.src for m in moves}
    for (src_id, pollutant, year), grams in need.items():
        src = by_id[src_id]
        if src.kind == "cap" or overdraw:
            continue
        have = available(session, src, pollutant, year)
        if have < grams:
            raise Conflict(N_("{account} holds {have} t of {pollutant} for {year} that can move, not {need} t"),
                           account=src.name, have=rules.tonnes(max(have, 0)), pollutant=_name(pollutant),
                           year=year, need=rules.tonnes(grams))
    at = now()
    for i, m in enumerate(moves):
        session.add(QuotaEntry(key=f"{key}#{i}", from_id=m.src.id, to_id=m.dst.id, pollutant=m.pollutant,
                               year=m.year, grams=m.grams, kind=m.kind, ref=m.ref,
                               by_user_id=by.user_id if by else None, at=at))
    session.flush()
    return True


def _name(pollutant: str) -> str:
    p = rules.pollutants().get(pollutant, {})
    return f"{p.get('name_zh', pollutant)} ({p.get('name_en', pollutant)})"


# -- enterprises, caps, permits -------------------------------------------------------------------------------

def register_enterprise(session: Session, organisation_id: int, name: str, credit_code: str, county_code: str,
                        by: Principal, industry: str = "", synthetic: bool = False) -> Enterprise:
    by.require(MANAGE)
    code = credit_code.strip().upper()
    if len(code) != 18 or not code.isalnum():
        raise InputError(N_("a unified social credit code has 18 letters and digits, not {code}"), code=repr(code))
    row = Enterprise(organisation_id=organisation_id, name=name.strip(), credit_code=code, county_code=county_code,
                     industry=industry, synthetic=synthetic, created_at=now())
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(N_("organisation {id} or credit code {code} is registered already"), id=organisation_id,
                       code=code) from None
    audit(session, by, "register", "discharge_enterprise", row.id, credit_code=code)
    return row


def get_enterprise(session: Session, enterprise_id: int) -> Enterprise:
    row = session.get(Enterprise, enterprise_id)
    if row is None:
        raise NotFound(N_("enterprise {id} does not exist"), id=enterprise_id)
    return row


def enterprise_of(session: Session, by: Principal) -> Enterprise | None:
    if by.organisation_id is None:
        return None
    return session.scalar(select(Enterprise).where(Enterprise.organisation_id == by.organisation_id))


def _visible(session: Session, enterprise_id: int, by: Principal) -> Enterprise:
    """The enterprise if the caller is it or the bureau."""
    row = get_enterprise(session, enterprise_id)
    if not (by.can(READ_ALL) or by.can(MANAGE) or by.organisation_id == row.organisation_id):
        raise NotFound(N_("enterprise {id} does not exist"), id=enterprise_id)
    return row


def set_cap(session: Session, county_code: str, pollutant: str, year: int, grams: int, by: Principal) -> bool:
    """Put a year's total-load cap of a county (or the city) into its reserve. Raising it books the difference;
    the same cap again books nothing."""
    by.require(MANAGE)
    rules.check_pollutant(pollutant)
    cap, reserve = cap_of(session, county_code), reserve_of(session, county_code)
    booked = -balance(session, cap.id, pollutant, year)
    if grams < booked:
        raise Conflict(N_("a cap is raised, never lowered below what is booked ({booked} t); buy quota back to "
                          "the reserve instead"), booked=rules.tonnes(booked))
    if grams == booked:
        return False
    post(session, [Move(cap, reserve, pollutant, year, grams - booked, "cap", f"cap:{county_code}")],
         key=f"cap:{county_code}:{pollutant}:{year}:{grams}", by=by)
    audit(session, by, "cap", "discharge_account", reserve.id, pollutant=pollutant, year=year, grams=grams)
    return True


@dataclass(frozen=True)
class Line:
    pollutant: str
    grams_per_year: int


def issue_permit(session: Session, enterprise_id: int, start_year: int, years: int, lines: list[Line],
                 by: Principal, reserve_county: str | None = None) -> Permit:
    """The enterprise's permit: its allocation for each year of the term comes out of the county's reserve
    (refused, whole, where the reserve is short), and a fee bill per year is made."""
    by.require(MANAGE)
    rules.check_term(start_year, years)
    enterprise = get_enterprise(session, enterprise_id)
    if not lines:
        raise InputError(N_("a permit allocates at least one pollutant"))
    if len({ln.pollutant for ln in lines}) != len(lines):
        raise InputError(N_("a permit lists each pollutant once"))
    live = session.scalar(select(Permit).where(Permit.enterprise_id == enterprise.id, Permit.state == "active"))
    if live is not None:
        raise Conflict(N_("{name} holds permit {number} already (one enterprise, one permit)"), name=enterprise.name,
                       number=live.number)
    at = now()
    permit = Permit(number="pending", enterprise_id=enterprise.id, start_year=start_year,
                    end_year=start_year + years - 1, state="active", issued_by=by.user_id,
                    issuer_org_id=by.organisation_id, issued_at=at)
    session.add(permit)
    session.flush()
    permit.number = f"ZJLS-PW-{enterprise.county_code}-{permit.id:05d}"
    rates = {code: Decimal(str(p["fee_yuan_per_t_year"])) for code, p in rules.pollutants().items()}
    reserve = reserve_of(session, reserve_county or enterprise.county_code)
    holding = holding_of(session, enterprise)
    moves = []
    for ln in lines:
        rules.check_pollutant(ln.pollutant)
        if ln.grams_per_year <= 0:
            raise InputError(N_("{pollutant}: the allocation is positive"), pollutant=_name(ln.pollutant))
        session.add(PermitLine(permit_id=permit.id, pollutant=ln.pollutant, grams_per_year=ln.grams_per_year,
                               fee_yuan_per_t_year=str(rates[ln.pollutant])))
        for year in range(start_year, start_year + years):
            moves.append(Move(reserve, holding, ln.pollutant, year, ln.grams_per_year, "allocate", permit.number))
    try:
        post(session, moves, key=f"permit:{permit.id}", by=by)
    except Conflict as exc:
        raise Conflict(N_("the reserve of {county} is short, so no new allocation (and no new project) is "
                          "possible there: {detail}"), county=reserve.county_code, detail=str(exc)) from None
    due_days = int(rules.config()["permit"]["fee_due_days"])
    for year in range(start_year, start_year + years):
        bill_lines: list[dict[str, Any]] = [
            {"pollutant": ln.pollutant, "t_per_year": str(rules.tonnes(ln.grams_per_year)),
             "rate_yuan": str(rates[ln.pollutant]),
             "fee_fen": rules.annual_fee_fen(ln.grams_per_year, rates[ln.pollutant])}
            for ln in lines]
        due = max(date(year, 1, 1), at.date()) + timedelta(days=due_days)
        session.add(FeeBill(enterprise_id=enterprise.id, permit_id=permit.id, year=year,
                            amount_fen=sum(int(b["fee_fen"]) for b in bill_lines), lines=bill_lines, state="due",
                            due_on=due))
    session.flush()
    audit(session, by, "issue", "discharge_permit", permit.id, number=permit.number, years=years,
          lines={ln.pollutant: ln.grams_per_year for ln in lines})
    return permit


def bureau_account(session: Session, by_org_id: int | None, name: str = "") -> Any:
    """The ledger account the paid-use fees are paid into (and buy-backs paid from): the bureau's funds."""
    if by_org_id is None:
        raise InputError(N_("the environment bureau acts as an organisation"))
    return ledger.funds_of(session, by_org_id, name=name or "生态环境局")


def pay_bill(session: Session, bill_id: int, by: Principal) -> FeeBill:
    """The enterprise pays a year's fee from its funds on the platform to the bureau (once)."""
    by.require(HOLD)
    bill = session.get(FeeBill, bill_id, with_for_update={"key_share": True})
    if bill is None:
        raise NotFound(N_("fee bill {id} does not exist"), id=bill_id)
    enterprise = get_enterprise(session, bill.enterprise_id)
    if by.organisation_id != enterprise.organisation_id:
        raise PermissionDenied(N_("only {name} pays its own fee bills"), name=enterprise.name)
    if bill.state == "paid":
        return bill
    payer = ledger.funds_of(session, enterprise.organisation_id, name=enterprise.name)
    permit = session.get(Permit, bill.permit_id)
    assert permit is not None
    ledger.post(session, [ledger.Move(payer.id, bureau_account(session, permit.issuer_org_id).id, bill.amount_fen,
                                      "discharge_fee", memo=f"{bill.year}", ref=("discharge_fee_bill", str(bill.id)))],
                key=f"discharge_fee:{bill.id}", by=by)
    bill.state, bill.paid_at = "paid", now()
    audit(session, by, "pay", "discharge_fee_bill", bill.id, amount_fen=bill.amount_fen)
    return bill


def buy_back(session: Session, enterprise_id: int, pollutant: str, year: int, grams: int, price_fen_per_kg: int,
             by: Principal, key: str) -> bool:
    """Take an enterprise's spare quota back into its county's reserve, free (无偿收回) or paid (有偿收购: the
    bureau pays from its funds)."""
    by.require(MANAGE)
    enterprise = get_enterprise(session, enterprise_id)
    done = post(session, [Move(holding_of(session, enterprise), reserve_of(session, enterprise.county_code),
                               pollutant, year, grams, "buyback", key)], key=f"buyback:{key}", by=by)
    if done and price_fen_per_kg > 0:
        amount = grams * price_fen_per_kg // 1000
        if amount > 0:
            ledger.post(session, [ledger.Move(bureau_account(session, by.organisation_id).id,
                                              ledger.funds_of(session, enterprise.organisation_id,
                                                              name=enterprise.name).id,
                                              amount, "discharge_buyback", ref=("discharge_buyback", key))],
                        key=f"discharge_buyback:{key}", by=by)
    if done:
        audit(session, by, "buyback", "discharge_enterprise", enterprise.id, pollutant=pollutant, year=year,
              grams=grams, price_fen_per_kg=price_fen_per_kg)
    return done


def pledge(session: Session, enterprise_id: int, pollutant: str, year: int, grams: int, bank_name: str,
           contract_no: str, by: Principal) -> Pledge:
    """Register a pledge: the quota stays the enterprise's, locked until released."""
    by.require(MANAGE)
    enterprise = get_enterprise(session, enterprise_id)
    holding = holding_of(session, enterprise)
    _lock(session, holding.id)
    if not bank_name.strip():
        raise InputError(N_("a pledge names its bank"))
    free = available(session, holding, rules.check_pollutant(pollutant), year)
    if grams <= 0 or grams > free:
        raise Conflict(N_("{name} can pledge up to {free} t of {pollutant} for {year}, not {want} t"),
                       name=enterprise.name, free=rules.tonnes(max(free, 0)), pollutant=_name(pollutant), year=year,
                       want=rules.tonnes(grams))
    row = Pledge(enterprise_id=enterprise.id, pollutant=pollutant, year=year, grams=grams, bank_name=bank_name.strip(),
                 contract_no=contract_no.strip(), state="active", created_at=now())
    session.add(row)
    session.flush()
    audit(session, by, "pledge", "discharge_pledge", row.id, grams=grams, bank=row.bank_name)
    return row


def release_pledge(session: Session, pledge_id: int, by: Principal) -> Pledge:
    by.require(MANAGE)
    row = session.get(Pledge, pledge_id, with_for_update={"key_share": True})
    if row is None:
        raise NotFound(N_("pledge {id} does not exist"), id=pledge_id)
    if row.state != "active":
        raise Conflict(N_("pledge {id} was released already"), id=pledge_id)
    row.state, row.released_at = "released", now()
    audit(session, by, "release", "discharge_pledge", row.id)
    return row


def check_project(session: Session, name: str, county_code: str, year: int, needs: Mapping[str, int],
                  by: Principal) -> ProjectCheck:
    """May a new construction project with these needs (grams a year) go ahead in this county? Not where the
    county's reserve holds less than it needs; the answer is recorded."""
    by.require(MANAGE)
    reserve = reserve_of(session, county_code)
    have = {p: balance(session, reserve.id, rules.check_pollutant(p), year) for p in needs}
    allowed = all(have[p] >= g for p, g in needs.items())
    row = ProjectCheck(project_name=name.strip(), county_code=county_code, year=year, needs=dict(needs),
                       reserve=have, allowed=allowed, by_user_id=by.user_id, at=now())
    session.add(row)
    session.flush()
    audit(session, by, "check_project", "discharge_project_check", row.id, allowed=allowed)
    return row


# -- the exchange ----------------------------------------------------------------------------------------------

def offer(session: Session, pollutant: str, first_year: int, last_year: int, kg_per_year: int, by: Principal,
          county_code: str | None = None, start_price_fen: int = 0, title: str = "") -> QuotaOffer:
    """Set quota aside (kg a year for each year of a run) and ask the exchange for a draft listing of it: the
    bureau sells from a reserve (`county_code`), an enterprise from its own holding."""
    rules.check_pollutant(pollutant)
    if last_year < first_year or last_year - first_year + 1 > int(rules.config()["permit"]["max_years"]):
        raise InputError(N_("quota is offered for 1 to {most} consecutive years"),
                         most=rules.config()["permit"]["max_years"])
    if kg_per_year <= 0:
        raise InputError(N_("a quantity of quota is positive, not {grams} g"), grams=kg_per_year * 1000)
    if county_code is not None:
        by.require(MANAGE)
        source = reserve_of(session, county_code)
        seller_org, seller_name = by.organisation_id, by.party_name
    else:
        by.require(HOLD)
        enterprise = enterprise_of(session, by)
        if enterprise is None:
            raise PermissionDenied(N_("only an enterprise with a permit offers its quota"))
        source, seller_org, seller_name = holding_of(session, enterprise), enterprise.organisation_id, enterprise.name
    if seller_org is None:
        raise PermissionDenied(N_("quota is offered by an organisation"))
    _lock(session, source.id)
    row = QuotaOffer(account_id=source.id, escrow_id=None, pollutant=pollutant, first_year=first_year,
                     last_year=last_year, kg_per_year=kg_per_year, delivered_kg=0, returned_kg=0, settled_deals=[],
                     listing="", start_price_fen=start_price_fen, open=True, by_user_id=by.user_id, created_at=now())
    session.add(row)
    session.flush()
    escrow = account(session, f"offer:{row.id}", "escrow", f"offer {row.id}", source.county_code)
    row.escrow_id = escrow.id
    post(session, [Move(source, escrow, pollutant, y, kg_per_year * 1000, "offer", f"offer:{row.id}")
                   for y in range(first_year, last_year + 1)], key=f"offer:{row.id}", by=by)
    p = rules.pollutants()[pollutant]
    years = last_year - first_year + 1
    events.record(session, OFFERED, actor_id=by.user_id, units_ref=f"{UNITS_REF}{row.id}", category_code="discharge",
                  title=title or f"{p['name_zh']}排污权 {kg_per_year:,} kg/年 · {first_year}–{last_year}",
                  quantity=kg_per_year, unit="kg/a", seller_org_id=seller_org, seller_name=seller_name,
                  county_code=source.county_code, start_price_fen=start_price_fen, term_years=years,
                  description=f"{p['name_zh']}（{p['name_en']}）排污权，每单位为 1 kg/年，"
                              f"期限 {first_year}–{last_year} 年（共 {years} 年），报价为每 kg/年整个期限的价格。")
    audit(session, by, "offer", "discharge_offer", row.id, pollutant=pollutant, kg_per_year=kg_per_year)
    return row


def reserve_price_fen(pollutant: str, years: int) -> int:
    """A reserve auction's starting price per kg/a for the term: the paid-use fee × the configured multiple."""
    rate = Decimal(str(rules.pollutants()[rules.check_pollutant(pollutant)]["fee_yuan_per_t_year"]))
    multiple = Decimal(str(rules.config()["auction"]["reserve_multiple"]))
    return rules.annual_fee_fen(1000, rate * multiple) * years


def _offer_of(session: Session, units_ref: str) -> QuotaOffer | None:
    if not units_ref.startswith(UNITS_REF):
        return None
    return session.get(QuotaOffer, int(units_ref.removeprefix(UNITS_REF)), with_for_update={"key_share": True})


def deliver(session: Session, units_ref: str, deal_id: int, kg: int, buyer_org_id: int | None, listing: str) -> bool:
    """A trade of offered quota settled: the buying enterprise gets kg a year for every year of the run."""
    row = _offer_of(session, units_ref)
    if row is None or deal_id in row.settled_deals:
        return False
    buyer = session.scalar(select(Enterprise).where(Enterprise.organisation_id == buyer_org_id)) \
        if buyer_org_id is not None else None
    if buyer is None:  # the exchange let a non-enterprise buy: the quota goes to the county's reserve, recorded
        target = reserve_of(session, session.get(QuotaAccount, row.account_id).county_code)  # type: ignore[union-attr]
    else:
        target = holding_of(session, buyer)
    escrow = session.get(QuotaAccount, row.escrow_id)
    assert escrow is not None
    post(session, [Move(escrow, target, row.pollutant, y, kg * 1000, "deliver", f"{listing}:deal:{deal_id}")
                   for y in range(row.first_year, row.last_year + 1)], key=f"deliver:{row.id}:{deal_id}", by=None)
    row.delivered_kg += kg
    row.settled_deals = [*row.settled_deals, deal_id]
    row.listing = listing
    row.open = not (row.sold_kg is not None and row.delivered_kg >= row.sold_kg)
    return True


def listing_ended(session: Session, units_ref: str, sold_kg: int, listing: str) -> bool:
    """The listing ended: unsold quota goes back where it came from."""
    row = _offer_of(session, units_ref)
    if row is None or row.sold_kg is not None:
        return False
    row.sold_kg, row.listing = sold_kg, listing
    back = row.kg_per_year - sold_kg
    if back > 0:
        escrow, source = session.get(QuotaAccount, row.escrow_id), session.get(QuotaAccount, row.account_id)
        assert escrow is not None and source is not None
        post(session, [Move(escrow, source, row.pollutant, y, back * 1000, "return", f"{listing}:unsold")
                       for y in range(row.first_year, row.last_year + 1)], key=f"return:{row.id}", by=None)
        row.returned_kg = back
    row.open = not (row.delivered_kg >= sold_kg)
    return True


# -- emissions ------------------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    import_id: int
    rows: int
    booked: int
    skipped: int
    alerts: list[dict[str, Any]]


def read_csv(data: bytes, filename: str) -> list[dict[str, str]]:
    return read_rows(data, filename, rules.COLUMNS)


def record_emissions(session: Session, rows: list[dict[str, str]], by: Principal, filename: str = "api",
                     data: bytes = b"", first_row: int = 2) -> ImportResult:
    """Check every row, then book all or nothing: each record draws its enterprise's card down for its year.
    Rows that repeat stored records exactly are skipped, so posting a file again books nothing twice. An
    enterprise posts its own records; the bureau posts anyone's."""
    if not (by.can(MANAGE) or by.can(HOLD)):
        raise PermissionDenied(N_("you may not record emissions"))
    codes = {str(r.get("enterprise", "")).strip().upper() for r in rows}
    known = {e.credit_code: e for e in session.scalars(select(Enterprise).where(Enterprise.credit_code.in_(codes))
                                                       .execution_options(skip_scope=True))}
    if not by.can(MANAGE):
        own = enterprise_of(session, by)
        known = {c: e for c, e in known.items() if own is not None and e.id == own.id}
    ids = {e.id for e in known.values()}
    latest = {(int(e), str(p)): at for e, p, at in session.execute(
        select(EmissionRecord.enterprise_id, EmissionRecord.pollutant, func.max(EmissionRecord.at))
        .where(EmissionRecord.enterprise_id.in_(ids)).group_by(EmissionRecord.enterprise_id, EmissionRecord.pollutant))}
    latest = {k: aware(v) for k, v in latest.items()}
    stored = _stored(session, ids, rows)
    upper = [{**r, "enterprise": str(r.get("enterprise", "")).strip().upper()} for r in rows]
    checked, skipped = rules.check_records(upper, {c: e.id for c, e in known.items()}, latest, stored, first_row)
    if checked.problems:
        raise FileError(filename, [Problem(N_("row {row}, {field}"), p["message"],
                                           **{**p["params"], "row": p["row"], "field": p["field"]})
                                   for p in checked.problems])
    imp = EmissionImport(filename=filename[:200], digest=hashlib.sha256(data).hexdigest() if data else "",
                         rows=len(rows), booked=len(checked.records), skipped=skipped, by_user_id=by.user_id,
                         at=now())
    session.add(imp)
    session.flush()
    by_id = {e.id: e for e in known.values()}
    before = _used(session, {(r.enterprise_id, r.pollutant, rules.year_of(r.at)) for r in checked.records})
    # all rows checked: book them in bulk (emissions may overdraw the card, so there is nothing to check per row)
    rows_made = [EmissionRecord(enterprise_id=r.enterprise_id, pollutant=r.pollutant, at=r.at, grams=r.grams,
                                import_id=imp.id) for r in checked.records]
    session.add_all(rows_made)
    session.flush()
    accounts = {eid: (holding_of(session, e), usage_of(session, e)) for eid, e in by_id.items()}
    at = now()
    session.add_all([QuotaEntry(key=f"emission:{row.id}#0", from_id=accounts[row.enterprise_id][0].id,
                                to_id=accounts[row.enterprise_id][1].id, pollutant=row.pollutant,
                                year=rules.year_of(aware(row.at)), grams=row.grams, kind="emission",
                                ref=f"emission:{row.id}", by_user_id=by.user_id, at=at)
                     for row in rows_made if row.grams > 0])
    session.flush()
    alerts = _alerts(session, before, by_id)
    audit(session, by, "import", "discharge_import", imp.id, rows=len(rows), booked=imp.booked, skipped=skipped)
    return ImportResult(imp.id, len(rows), imp.booked, skipped, alerts)


def _stored(session: Session, ids: set[int], rows: list[dict[str, str]]) -> dict[tuple[int, str, datetime], int]:
    """Stored records at the times the rows name (to tell a repeat from a conflict)."""
    times = set()
    for r in rows:
        try:
            times.add(rules.parse_time(str(r.get("time", ""))))
        except ValueError:
            continue
    if not ids or not times:
        return {}
    found = session.execute(select(EmissionRecord.enterprise_id, EmissionRecord.pollutant, EmissionRecord.at,
                                   EmissionRecord.grams).where(EmissionRecord.enterprise_id.in_(ids),
                                                               EmissionRecord.at >= min(times),
                                                               EmissionRecord.at <= max(times)))
    return {key: int(g) for e, p, at, g in found if (key := (int(e), str(p), aware(at)))[2] in times}


def _used(session: Session, keys: set[tuple[int, str, int]]) -> dict[tuple[int, str, int], tuple[int, int]]:
    """(enterprise, pollutant, year) → (emitted, held) in grams, now."""
    out = {}
    for enterprise_id, pollutant, year in keys:
        e = get_enterprise(session, enterprise_id)
        used = balance(session, usage_of(session, e).id, pollutant, year)
        held = balance(session, holding_of(session, e).id, pollutant, year) + used
        out[(enterprise_id, pollutant, year)] = (used, held)
    return out


def _alerts(session: Session, before: dict[tuple[int, str, int], tuple[int, int]],
            enterprises: dict[int, Enterprise]) -> list[dict[str, Any]]:
    made = []
    after = _used(session, set(before))
    for key, (used, held) in after.items():
        enterprise_id, pollutant, year = key
        for t in rules.crossed(used, held, before[key][0]):
            exists = session.scalar(select(QuotaAlert.id).where(
                QuotaAlert.enterprise_id == enterprise_id, QuotaAlert.pollutant == pollutant,
                QuotaAlert.year == year, QuotaAlert.threshold_pct == t))
            if exists is not None:
                continue
            session.add(QuotaAlert(enterprise_id=enterprise_id, pollutant=pollutant, year=year, threshold_pct=t,
                                   used_grams=used, held_grams=held, at=now()))
            e = enterprises[enterprise_id]
            made.append({"enterprise": e.name, "pollutant": pollutant, "year": year, "threshold_pct": t})
            if t >= 100:  # other domains (ecological credit) hear of a quota used up
                events.record(session, QUOTA_EXCEEDED, organisation_id=e.organisation_id, enterprise=e.name,
                              county_code=e.county_code, pollutant=pollutant, year=year, used_grams=used,
                              held_grams=held)
            for user_id in session.scalars(select(User.id).where(User.organisation_id == e.organisation_id)):
                notify(session, user_id, N_("{pollutant} {year}: {pct} % of the quota is used"),
                       link="/discharge/card", kind="discharge", pollutant=_name(pollutant), year=year,
                       pct=rules.share_pct(used, held) or 100)
    session.flush()
    return made


# -- reading ------------------------------------------------------------------------------------------------

def card(session: Session, enterprise_id: int, year: int, by: Principal) -> dict[str, Any]:
    """The enterprise's card (一卡): per pollutant, what it holds for the year, what it emitted, its balance,
    what is pledged, the share used; its alerts, bills, pledges and monthly emissions."""
    e = _visible(session, enterprise_id, by)
    holding, usage = holding_of(session, e), usage_of(session, e)
    bal = balances(session, [holding.id, usage.id], year=year)
    permit = session.scalar(select(Permit).where(Permit.enterprise_id == e.id).order_by(Permit.id.desc()).limit(1))
    lines = {ln.pollutant: ln for ln in session.scalars(select(PermitLine).where(PermitLine.permit_id == permit.id))} \
        if permit else {}
    rows = []
    for code, p in rules.pollutants().items():
        left = bal.get((holding.id, code, year), 0)
        used = bal.get((usage.id, code, year), 0)
        held = left + used
        if not held and not used and code not in lines:
            continue
        rows.append({"pollutant": code, "name_zh": p["name_zh"], "name_en": p["name_en"],
                     "allocated_t": str(rules.tonnes(lines[code].grams_per_year)) if code in lines else None,
                     "held_t": str(rules.tonnes(held)), "used_t": str(rules.tonnes(used)),
                     "balance_t": str(rules.tonnes(left)), "pledged_t": str(rules.tonnes(pledged(session, e.id, code,
                                                                                                  year))),
                     "used_pct": rules.share_pct(used, held)})
    series: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    days: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    start, end = datetime(year, 1, 1, tzinfo=rules.CHINA), datetime(year + 1, 1, 1, tzinfo=rules.CHINA)
    for pol, at, grams in session.execute(
            select(EmissionRecord.pollutant, EmissionRecord.at, EmissionRecord.grams)
            .where(EmissionRecord.enterprise_id == e.id, EmissionRecord.at >= start, EmissionRecord.at < end)):
        local = aware(at).astimezone(rules.CHINA)
        series[str(pol)][f"{local.month:02d}"] += grams / 1e6  # t
        days[str(pol)][local.date().isoformat()] += grams / 1e3  # kg
    return {"enterprise": enterprise_view(e), "year": year,
            "permit": {"number": permit.number, "start_year": permit.start_year, "end_year": permit.end_year,
                       "state": permit.state} if permit else None,
            "pollutants": rows, "monthly_t": {k: dict(sorted(v.items())) for k, v in series.items()},
            "daily_kg": {k: dict(sorted(v.items())) for k, v in days.items()},
            "alerts": [{"pollutant": a.pollutant, "year": a.year, "threshold_pct": a.threshold_pct,
                        "used_t": str(rules.tonnes(a.used_grams)), "held_t": str(rules.tonnes(a.held_grams)),
                        "at": a.at.isoformat()} for a in session.scalars(
                select(QuotaAlert).where(QuotaAlert.enterprise_id == e.id).order_by(QuotaAlert.id.desc()))],
            "bills": [{"id": b.id, "year": b.year, "amount_fen": b.amount_fen, "lines": b.lines, "state": b.state,
                       "due_on": b.due_on.isoformat(), "paid_at": b.paid_at.isoformat() if b.paid_at else None}
                      for b in session.scalars(select(FeeBill).where(FeeBill.enterprise_id == e.id)
                                               .order_by(FeeBill.year))],
            "pledges": [{"id": p.id, "pollutant": p.pollutant, "year": p.year, "t": str(rules.tonnes(p.grams)),
                         "bank": p.bank_name, "contract_no": p.contract_no, "state": p.state}
                        for p in session.scalars(select(Pledge).where(Pledge.enterprise_id == e.id)
                                                 .order_by(Pledge.id.desc()))]}


def enterprise_view(e: Enterprise) -> dict[str, Any]:
    return {"id": e.id, "name": e.name, "credit_code": e.credit_code, "county_code": e.county_code,
            "industry": e.industry, "organisation_id": e.organisation_id, "synthetic": e.synthetic}


def overview(session: Session, year: int, by: Principal) -> dict[str, Any]:
    """The bureau's overview: reserves per county and pollutant, enterprises by share used (those over the
    thresholds first), offers on the exchange, bills unpaid, and the project checks."""
    if not (by.can(MANAGE) or by.can(READ_ALL)):
        raise PermissionDenied(N_("the overview is for the environment bureau"))
    reserves = list(session.scalars(select(QuotaAccount).where(QuotaAccount.kind == "reserve")
                                    .order_by(QuotaAccount.county_code)))
    bal = balances(session, [r.id for r in reserves], year=year)
    caps = {a.county_code: a for a in session.scalars(select(QuotaAccount).where(QuotaAccount.kind == "cap"))}
    cap_bal = balances(session, [a.id for a in caps.values()], year=year)
    reserve_rows = []
    for r in reserves:
        cap = caps.get(r.county_code)
        reserve_rows.append({"county_code": r.county_code, "name": r.name, **{
            code: {"reserve_t": str(rules.tonnes(bal.get((r.id, code, year), 0))),
                   "cap_t": str(rules.tonnes(-cap_bal.get((cap.id, code, year), 0))) if cap else "0.000"}
            for code in rules.pollutants()}})
    enterprises = list(session.scalars(select(Enterprise).order_by(Enterprise.id)))
    accounts = {a.code: a for a in session.scalars(select(QuotaAccount).where(QuotaAccount.enterprise_id.is_not(None)))}
    ebal = balances(session, [a.id for a in accounts.values()], year=year)
    rows = []
    for e in enterprises:
        h, u = accounts.get(f"enterprise:{e.id}"), accounts.get(f"usage:{e.id}")
        worst = None
        per = {}
        for code in rules.pollutants():
            left = ebal.get((h.id, code, year), 0) if h else 0
            used = ebal.get((u.id, code, year), 0) if u else 0
            if left + used == 0 and used == 0:
                continue
            pct = rules.share_pct(used, left + used)
            per[code] = {"held_t": str(rules.tonnes(left + used)), "used_t": str(rules.tonnes(used)), "used_pct": pct}
            if pct is not None and (worst is None or pct > worst):
                worst = pct
        rows.append({**enterprise_view(e), "pollutants": per, "worst_pct": worst})
    rows.sort(key=lambda r: -(r["worst_pct"] or 0))
    offers = [{"id": o.id, "pollutant": o.pollutant, "years": f"{o.first_year}–{o.last_year}",
               "kg_per_year": o.kg_per_year, "sold_kg": o.sold_kg, "delivered_kg": o.delivered_kg,
               "listing": o.listing, "open": o.open} for o in session.scalars(
        select(QuotaOffer).order_by(QuotaOffer.id.desc()).limit(50))]
    due = session.execute(select(func.count(), func.coalesce(func.sum(FeeBill.amount_fen), 0))
                          .where(FeeBill.state == "due", FeeBill.year <= year)).one()
    paid = session.scalar(select(func.coalesce(func.sum(case((FeeBill.state == "paid", FeeBill.amount_fen), else_=0)),
                                               0))) or 0
    checks = [{"id": c.id, "project": c.project_name, "county_code": c.county_code, "year": c.year,
               "needs": {k: str(rules.tonnes(v)) for k, v in c.needs.items()},
               "reserve": {k: str(rules.tonnes(v)) for k, v in c.reserve.items()}, "allowed": c.allowed,
               "at": c.at.isoformat()} for c in session.scalars(select(ProjectCheck).order_by(ProjectCheck.id.desc())
                                                               .limit(20))]
    thresholds = rules.thresholds()
    codes = {str(r["county_code"]) for r in [*rows, *reserve_rows]} | {str(c["county_code"]) for c in checks}
    return {"year": year, "county_names": county_names(session, codes),
            "reserves": reserve_rows, "enterprises": rows, "offers": offers,
            "bills_due": {"count": int(due[0]), "amount_fen": int(due[1])}, "fees_paid_fen": int(paid),
            "checks": checks, "thresholds": thresholds,
            "over": {t: sum(1 for r in rows if (r["worst_pct"] or 0) >= t) for t in thresholds}}


def county_names(session: Session, codes: set[str]) -> dict[str, str]:
    """County codes as people read them (the city's reserve as 市级)."""
    names = {code: name for code, name in session.execute(select(Zone.code, Zone.name).where(Zone.code.in_(codes)))}
    return {c: names.get(c, "市级" if c == CITY else c) for c in codes}


def totals(session: Session, pollutant: str, year: int) -> dict[str, int]:
    """Grams per kind of account for a pollutant and year (the cap's is negative: the sum is always zero)."""
    out: dict[str, int] = defaultdict(int)
    accounts = {a.id: a.kind for a in session.scalars(select(QuotaAccount))}
    for (acct, _p, _y), grams in balances(session, accounts, pollutant, year).items():
        out[accounts[acct]] += grams
    return dict(out)
