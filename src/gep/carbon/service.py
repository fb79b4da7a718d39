"""The forest carbon registry's units of work: projects on registry parcels, monitoring reports estimated by the
methodology and verified by someone else, issuance of serial ranges, transfers, offers on the exchange, and
retirements with a public certificate. A unit number exists once: blocks move whole or split, never copied."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.carbon import crosscheck, methodology, rules
from gep.carbon.models import (
    CarbonProject,
    ExchangeOffer,
    Issuance,
    MonitoringPeriod,
    ProjectStand,
    Retirement,
    UnitAccount,
    UnitBlock,
    UnitMove,
)
from gep.certificates import service as certificates
from gep.certificates.keys import Signer
from gep.db import add_once
from gep.errors import N_, Conflict, GepError, InputError, NotFound, PermissionDenied
from gep.kit import events
from gep.kit.audit import audit, aware, now
from gep.kit.i18n import Catalogues
from gep.kit.notify import notify
from gep.kit.principal import Principal
from gep.regions.models import Region
from gep.registry import service as registry

DEVELOP = "carbon.develop"  # register projects, report monitoring, hold, transfer, offer and retire units
VERIFY = "carbon.verify"  # verify monitoring reports (a third party)
ISSUE = "carbon.issue"  # issue units for verified reports (the forestry bureau)
READ_ALL = "carbon.read_all"
OFFERED = "carbon.units_offered"  # outbox: units set aside for the exchange (a draft listing follows)
UNITS_REF = "carbon:"  # an exchange listing's units_ref for an offer of these units
RETIRED = "carbon.units_retired"  # outbox: units retired for good (ecological credit counts carbon neutrality)


# -- projects and monitoring ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StandInput:
    parcel_code: str
    species: str


def create_project(session: Session, name: str, type_: str, method: str, region_id: int,
                   stands: list[StandInput], start: date, by: Principal, crediting_years: int = 20,
                   synthetic: bool = False) -> CarbonProject:
    """A project of the caller's organisation on registry parcels (a parcel belongs to one project at most)."""
    by.require(DEVELOP)
    if by.organisation_id is None:
        raise PermissionDenied(N_("a carbon project is developed by an organisation"))
    if type_ not in rules.PROJECT_TYPES:
        raise InputError(N_("unknown project type {type} (known: {known})"), type=repr(type_),
                         known=", ".join(rules.PROJECT_TYPES))
    m = methodology.load(method)
    if not stands:
        raise InputError(N_("a project needs at least one stand"))
    if not name.strip():
        raise InputError(N_("a project needs a name"))
    parcels = []
    for i, s in enumerate(stands, start=1):
        m.param(s.species, "carbon_fraction")
        parcel = registry.parcel_by_code(session, region_id, s.parcel_code)
        if parcel is None:
            raise InputError(N_("stand {row}: parcel {code} is not in the registry"), row=i, code=s.parcel_code)
        taken = session.scalar(select(ProjectStand.project_id).where(ProjectStand.parcel_id == parcel.id))
        if taken is not None:
            raise Conflict(N_("stand {row}: parcel {code} belongs to carbon project {project} already"), row=i,
                           code=s.parcel_code, project=taken)
        parcels.append((parcel, s.species))
    outline = shapely.union_all([shapely.from_geojson(p.geojson) for p, _ in parcels])
    point = outline.representative_point()
    project = CarbonProject(
        code="pending", name=name.strip(), type=type_, methodology=m.id, region_id=region_id,
        county_code=parcels[0][0].county_code, developer_org_id=by.organisation_id, developer_name=by.party_name,
        start=start, crediting_years=crediting_years, area_ha=sum(p.area_m2 for p, _ in parcels) / 1e4,
        geojson=json.loads(shapely.to_geojson(shapely.simplify(outline, 1e-5))), lon=round(point.x, 6),
        lat=round(point.y, 6), next_number=1, issued_t=0, retired_t=0, flag="", check={}, synthetic=synthetic,
        created_by=by.user_id, created_at=now())
    session.add(project)
    session.flush()
    project.code = f"LSFC-{project.id:04d}"
    for parcel, species in parcels:
        session.add(ProjectStand(project_id=project.id, parcel_id=parcel.id, parcel_code=parcel.code,
                                 species=species, area_ha=parcel.area_m2 / 1e4))
    audit(session, by, "create", "carbon_project", project.id, code=project.code, stands=len(parcels))
    return project


def get_project(session: Session, project_id: int) -> CarbonProject:
    project = session.get(CarbonProject, project_id)
    if project is None:
        raise NotFound(N_("carbon project {id} does not exist"), id=project_id)
    return project


def stands_of(session: Session, project_id: int) -> list[ProjectStand]:
    return list(session.scalars(select(ProjectStand).where(ProjectStand.project_id == project_id)
                                .order_by(ProjectStand.id)))


def _require_developer(project: CarbonProject, by: Principal) -> None:
    by.require(DEVELOP)
    if by.organisation_id != project.developer_org_id:
        raise PermissionDenied(N_("only the developer of project {code} may do this"), code=project.code)


def report_period(session: Session, project_id: int, start: date, end: date, measurements: list[dict[str, Any]],
                  by: Principal) -> MonitoringPeriod:
    """A monitoring report: every stand's growing stock at the start and the end, baseline and project; the
    methodology's estimate is computed and stored with it."""
    project = get_project(session, project_id)
    _require_developer(project, by)
    if end <= start:
        raise InputError(N_("a monitoring period ends after it starts"))
    if start < project.start:
        raise InputError(N_("a monitoring period starts on or after the project's start ({start})"),
                         start=project.start.isoformat())
    last = session.scalar(select(MonitoringPeriod.end).where(MonitoringPeriod.project_id == project.id)
                          .order_by(MonitoringPeriod.end.desc()).limit(1))
    if last is not None and start < last:
        raise Conflict(N_("monitoring periods do not overlap: the last one ends on {end}"), end=last.isoformat())
    stands = {s.parcel_code: s for s in stands_of(session, project.id)}
    m = methodology.load(project.methodology)
    estimates = []
    seen = set()
    for i, row in enumerate(measurements, start=1):
        code = str(row.get("parcel_code", ""))
        stand = stands.get(code)
        if stand is None:
            raise InputError(N_("measurement {row}: parcel {code} is not a stand of project {project}"), row=i,
                             code=repr(code), project=project.code)
        if code in seen:
            raise InputError(N_("measurement {row}: stand {code} is measured twice"), row=i, code=code)
        seen.add(code)
        try:
            values = [float(row[k]) for k in ("baseline_start", "baseline_end", "project_start", "project_end")]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(N_("measurement {row}: baseline_start, baseline_end, project_start and project_end "
                                "are numbers (m³/ha, or culms/ha for bamboo)"), row=i) from exc
        estimates.append(methodology.estimate(methodology.Stand(code, stand.species, stand.area_ha, *values), m))
    missing = sorted(set(stands) - seen)
    if missing:
        raise InputError(N_("stands not measured: {codes}"), codes=", ".join(missing[:10]))
    period = MonitoringPeriod(project_id=project.id, start=start, end=end, measurements=measurements,
                              estimate=[e.as_dict() for e in estimates], estimated_t=methodology.issuable(estimates),
                              state="draft", verifier_name="", opinion="", created_at=now())
    session.add(period)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(N_("project {code} has a monitoring report starting on {start} already"), code=project.code,
                       start=start.isoformat()) from None
    audit(session, by, "report", "carbon_period", period.id, project=project.code, estimated_t=period.estimated_t)
    return period


def get_period(session: Session, period_id: int) -> MonitoringPeriod:
    period = session.get(MonitoringPeriod, period_id, with_for_update={"key_share": True})
    if period is None:
        raise NotFound(N_("monitoring report {id} does not exist"), id=period_id)
    return period


def submit_period(session: Session, period_id: int, by: Principal) -> MonitoringPeriod:
    period = get_period(session, period_id)
    _require_developer(get_project(session, period.project_id), by)
    before, period.state = period.state, rules.period_step(period.state, "submit")
    audit(session, by, "submit", "carbon_period", period.id, before=before)
    return period


def verify_period(session: Session, period_id: int, approve: bool, verified_t: int | None, opinion: str,
                  by: Principal) -> MonitoringPeriod:
    """The verifier's opinion: approve (with the tonnes verified, at most the estimate) or reject with reasons.
    A verifier never verifies their own organisation's project."""
    by.require(VERIFY)
    period = get_period(session, period_id)
    project = get_project(session, period.project_id)
    if by.organisation_id is not None and by.organisation_id == project.developer_org_id:
        raise PermissionDenied(N_("a project is verified by someone other than its developer"))
    if not opinion.strip():
        raise InputError(N_("the verifier states an opinion"))
    after = rules.period_step(period.state, "verify" if approve else "reject")
    tonnes = period.estimated_t if verified_t is None else verified_t
    if approve and (tonnes < 0 or tonnes > period.estimated_t):
        raise InputError(N_("verified tonnes are 0 to the estimate of {estimate} t, not {value}"),
                         estimate=period.estimated_t, value=tonnes)
    period.state = after
    if approve:
        period.verified_t = tonnes
    period.verifier_org_id, period.verifier_name = by.organisation_id, by.party_name
    period.opinion, period.verified_at = opinion.strip(), now()
    audit(session, by, "verify" if approve else "reject", "carbon_period", period.id, verified_t=period.verified_t)
    if project.created_by is not None:
        notify(session, project.created_by, N_("Monitoring report {id} of {code} was verified") if approve else
               N_("Monitoring report {id} of {code} was rejected: {opinion}"), link=f"/carbon/projects/{project.id}",
               kind="carbon", id=period.id, code=project.code, opinion=period.opinion)
    return period


def issue(session: Session, period_id: int, by: Principal) -> Issuance:
    """Issue the verified tonnes of a period as one serial range into the developer's holding account."""
    by.require(ISSUE)
    period = get_period(session, period_id)
    project = session.get(CarbonProject, period.project_id, with_for_update={"key_share": True})
    assert project is not None
    period.state = rules.period_step(period.state, "issue")
    quantity = int(period.verified_t or 0)
    if quantity <= 0:
        raise Conflict(N_("monitoring report {id} has no verified tonnes to issue"), id=period.id)
    account = holding_account(session, project.developer_org_id, None, project.developer_name)
    start, end = project.next_number, project.next_number + quantity - 1
    project.next_number, project.issued_t = end + 1, project.issued_t + quantity
    row = Issuance(project_id=project.id, period_id=period.id, vintage=period.end.year, start=start, end=end,
                   quantity=quantity, account_id=account.id, issued_by=by.user_id, issued_at=now())
    session.add(row)
    session.add(UnitBlock(project_id=project.id, vintage=row.vintage, start=start, end=end, account_id=account.id,
                          state="active"))
    session.flush()
    _record(session, "issue", project.id, row.vintage, start, end, None, account.id, f"period:{period.id}", by)
    audit(session, by, "issue", "carbon_issuance", row.id, project=project.code, quantity=quantity,
          serials=rules.serial_range(project.code, row.vintage, start, end))
    cross_check(session, project)
    return row


def cross_check(session: Session, project: CarbonProject) -> dict[str, Any]:
    """Compare what the project was issued with the accounts' carbon sequestration over its parcels for the same
    years; flag the project when issuance exceeds it by more than the margin. A region without the inputs (no
    NPP layer) leaves the check undone, saying why."""
    region = session.get(Region, project.region_id)
    assert region is not None
    periods = list(session.scalars(select(MonitoringPeriod).where(MonitoringPeriod.project_id == project.id,
                                                                  MonitoringPeriod.state == "issued")))
    parcels = registry.parcels_by_id(session, [s.parcel_id for s in stands_of(session, project.id)])
    margin = crosscheck.margin_pct()
    try:
        seq = crosscheck.sequestration(region.package_path, region.method,
                                       [shapely.from_wkb(p.geometry) for p in parcels],
                                       periods[-1].end.year if periods else project.start.year)
    except (OSError, KeyError, GepError) as exc:
        project.check = {"done": False, "reason": str(exc)[:300], "at": now().isoformat()}
        return project.check
    years = sum(crosscheck.years_between(p.start, p.end) for p in periods)
    expected = seq.tco2_per_year * years
    issued = sum(int(p.verified_t or 0) for p in periods)
    flagged = crosscheck.exceeds(issued, expected, margin)
    project.check = {"done": True, **seq.as_dict(), "years": round(years, 3), "expected_t": round(expected, 1),
                     "issued_t": issued, "margin_pct": margin, "flagged": flagged, "at": now().isoformat()}
    project.flag = FLAG if flagged else ""
    if flagged:
        audit(session, None, "flag", "carbon_project", project.id, **project.check)
    return project.check


FLAG = N_("issued tonnes exceed the GEP accounts' carbon sequestration over the same parcels and years by more "
          "than the margin")


# -- accounts and moves -----------------------------------------------------------------------------------------

def holding_account(session: Session, organisation_id: int | None, user_id: int | None, name: str) -> UnitAccount:
    """An organisation's (or a person's) holding account, opened once."""
    if organisation_id is None and user_id is None:
        raise InputError(N_("units are held by an organisation or a person"))
    code = f"org:{organisation_id}" if organisation_id is not None else f"user:{user_id}"
    return _account(session, code, "holding", name, organisation_id, user_id)


def _account(session: Session, code: str, kind: str, name: str, organisation_id: int | None,
             user_id: int | None) -> UnitAccount:
    row, _added = add_once(session, UnitAccount, {"code": code}, lambda: UnitAccount(
        code=code, kind=kind, name=name or code, organisation_id=organisation_id, user_id=user_id, created_at=now()))
    if name and row.name == row.code:  # opened without a name before (an account seen by id only)
        row.name = name
    return row


def my_accounts(session: Session, by: Principal) -> list[UnitAccount]:
    return [holding_account(session, by.organisation_id, None if by.organisation_id else by.user_id,
                            by.party_name)] if (by.organisation_id or by.user_id) else []


def _own_account(session: Session, account_id: int, by: Principal) -> UnitAccount:
    """The caller's account, locked: every move out of one account happens one at a time."""
    by.require(DEVELOP)
    account = session.get(UnitAccount, account_id, with_for_update={"key_share": True},
                          execution_options={"skip_scope": True})
    if account is None:
        raise NotFound(N_("unit account {id} does not exist"), id=account_id)
    mine = (account.organisation_id is not None and account.organisation_id == by.organisation_id) or \
        (account.user_id is not None and account.user_id == by.user_id)
    if not mine or account.kind != "holding":
        raise PermissionDenied(N_("unit account {id} is not yours"), id=account_id)
    return account


def _active_blocks(session: Session, account_id: int, project_id: int | None = None) -> list[UnitBlock]:
    q = select(UnitBlock).where(UnitBlock.account_id == account_id, UnitBlock.state == "active")
    if project_id is not None:
        q = q.where(UnitBlock.project_id == project_id)
    return list(session.scalars(q.order_by(UnitBlock.vintage, UnitBlock.project_id, UnitBlock.start)
                                .with_for_update(key_share=True)))


def balance(session: Session, account_id: int) -> int:
    return sum(b.end - b.start + 1 for b in session.scalars(
        select(UnitBlock).where(UnitBlock.account_id == account_id, UnitBlock.state == "active")))


def _record(session: Session, kind: str, project_id: int, vintage: int, start: int, end: int, src: int | None,
            dst: int | None, ref: str, by: Principal | None) -> None:
    session.add(UnitMove(kind=kind, project_id=project_id, vintage=vintage, start=start, end=end,
                         from_account_id=src, to_account_id=dst, ref=ref, by_user_id=by.user_id if by else None,
                         at=now()))


def _move_blocks(session: Session, blocks: list[UnitBlock], quantity: int, src: int, dst: int | None, kind: str,
                 ref: str, by: Principal | None, retirement_id: int | None = None) -> list[UnitBlock]:
    """Move `quantity` units (lowest first) out of `blocks` to `dst`, or retire them (dst None). Returns the
    blocks that moved (a split leaves the rest where it was)."""
    plan = rules.take([rules.Block(b.id, b.start, b.end) for b in blocks], quantity)
    by_id = {b.id: b for b in blocks}
    moved = [by_id[i] for i in plan.whole]
    if plan.split is not None:
        block, n = by_id[plan.split[0]], plan.split[1]
        part = UnitBlock(project_id=block.project_id, vintage=block.vintage, start=block.start,
                         end=block.start + n - 1, account_id=block.account_id, state="active")
        block.start += n
        session.add(part)
        moved.append(part)
    for b in moved:
        if dst is None:
            b.state, b.retirement_id = "retired", retirement_id
        else:
            b.account_id = dst
        _record(session, kind, b.project_id, b.vintage, b.start, b.end, src, dst, ref, by)
    session.flush()
    return moved


def transfer(session: Session, account_id: int, to_org_id: int, to_name: str, quantity: int, by: Principal,
             project_id: int | None = None) -> list[UnitBlock]:
    """Give units to another organisation's holding account (outside the exchange: a gift, a contract)."""
    account = _own_account(session, account_id, by)
    target = holding_account(session, to_org_id, None, to_name)
    if target.id == account.id:
        raise InputError(N_("units are transferred to another account"))
    moved = _move_blocks(session, _active_blocks(session, account.id, project_id), quantity, account.id, target.id,
                         "transfer", f"to:{target.code}", by)
    audit(session, by, "transfer", "carbon_account", account.id, to=target.code, quantity=quantity)
    return moved


# -- retirement ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetireRequest:
    account_id: int
    purpose: str
    beneficiary: str
    detail: str = ""
    quantity: int | None = None  # the lowest numbers of the account …
    project_id: int | None = None
    start: int | None = None  # … or exactly this range of one project
    end: int | None = None


def retire(session: Session, req: RetireRequest, key: str, by: Principal, signer: Signer,
           synthetic: bool = False) -> Retirement:
    """Retire units for a purpose and a beneficiary, for good: they never move again. The same request (key)
    retires once; two requests for the same units: the second finds them retired and is refused."""
    done = session.scalar(select(Retirement).where(Retirement.key == key))
    if done is not None:
        same = (done.account_id, done.purpose, done.beneficiary) == (req.account_id, req.purpose,
                                                                     req.beneficiary.strip())
        if not same or (req.quantity is not None and req.quantity != done.quantity):
            raise Conflict(N_("this Idempotency-Key was used for another retirement ({code})"), code=done.code)
        return done
    if req.purpose not in rules.PURPOSES:
        raise InputError(N_("unknown purpose {purpose} (known: {known})"), purpose=repr(req.purpose),
                         known=", ".join(rules.PURPOSES))
    if not req.beneficiary.strip():
        raise InputError(N_("a retirement names its beneficiary"))
    if req.purpose == "court" and not req.detail.strip():
        raise InputError(N_("a retirement for judicial restoration names the judgment"))
    account = _own_account(session, req.account_id, by)
    if req.start is not None or req.end is not None:
        if req.project_id is None or req.start is None or req.end is None:
            raise InputError(N_("a range of units names its project, first and last number"))
        blocks = rules.within([rules.Block(b.id, b.start, b.end) for b in
                               _active_blocks(session, account.id, req.project_id)], req.start, req.end)
        chosen = _carve(session, [b.id for b in blocks], req.start, req.end)
        quantity = req.end - req.start + 1
    else:
        if req.quantity is None:
            raise InputError(N_("a retirement gives a quantity or a range of units"))
        chosen = _active_blocks(session, account.id, req.project_id)
        quantity = req.quantity
    rules.take([rules.Block(b.id, b.start, b.end) for b in chosen], quantity)  # refuse before anything is written
    at = now()
    row = Retirement(code="pending", key=key, account_id=account.id, holder_name=account.name, quantity=quantity,
                     purpose=req.purpose, beneficiary=req.beneficiary.strip(), detail=req.detail.strip(), ranges=[],
                     certificate_serial="", synthetic=synthetic, by_user_id=by.user_id, at=at)
    session.add(row)
    session.flush()
    row.code = f"ZX{at.year}{row.id:06d}"
    moved = _move_blocks(session, chosen, quantity, account.id, None, "retire", row.code, by, row.id)
    projects = {p.id: p for p in session.scalars(select(CarbonProject).where(
        CarbonProject.id.in_({b.project_id for b in moved})).with_for_update(key_share=True))}
    for b in moved:
        projects[b.project_id].retired_t += b.end - b.start + 1
    row.ranges = [{"project": projects[b.project_id].code, "project_id": b.project_id, "vintage": b.vintage,
                   "start": b.start, "end": b.end,
                   "serials": rules.serial_range(projects[b.project_id].code, b.vintage, b.start, b.end)}
                  for b in sorted(moved, key=lambda b: (b.project_id, b.start))]
    cert = certificates.issue(session, signer, "carbon_retirement", f"carbon_retirement:{row.id}",
                              f"林业碳汇注销 · {row.quantity} tCO₂e", certificate_payload(row),
                              party_user_ids=[u for u in (by.user_id,) if u is not None],
                              party_org_ids=[o for o in (account.organisation_id,) if o is not None], by=by)
    row.certificate_serial = cert.serial
    audit(session, by, "retire", "carbon_retirement", row.id, code=row.code, quantity=quantity, purpose=req.purpose)
    events.record(session, RETIRED, actor_id=by.user_id, retirement=row.code, quantity=quantity, purpose=req.purpose,
                  organisation_id=account.organisation_id, user_id=account.user_id, holder_name=account.name,
                  on=at.date().isoformat(), detail=req.detail.strip()[:300])
    return row


def _carve(session: Session, block_ids: list[int], start: int, end: int) -> list[UnitBlock]:
    """Split the blocks covering start..end so that exactly that range is in whole blocks; returns those."""
    out = []
    for bid in block_ids:
        b = session.get(UnitBlock, bid)
        assert b is not None
        if b.start < start:  # keep the head where it is
            session.add(UnitBlock(project_id=b.project_id, vintage=b.vintage, start=b.start, end=start - 1,
                                  account_id=b.account_id, state="active"))
            b.start = start
        if b.end > end:  # and the tail
            session.add(UnitBlock(project_id=b.project_id, vintage=b.vintage, start=end + 1, end=b.end,
                                  account_id=b.account_id, state="active"))
            b.end = end
        out.append(b)
    session.flush()
    return sorted(out, key=lambda b: b.start)


WORDS = Catalogues((Path(__file__).resolve().parent,))
CHINA = timezone(timedelta(hours=8))


def certificate_payload(row: Retirement) -> dict[str, Any]:
    """What a retirement's certificate states: lines for people (Chinese and English) and fields for machines."""
    msgid = rules.PURPOSES[row.purpose]
    purpose = f"{WORDS.words('zh').get(msgid, msgid)} / {msgid}"
    lines = [("注销编号", "Retirement", row.code), ("持有人", "Holder", row.holder_name),
             ("注销数量", "Quantity", f"{row.quantity:,} tCO₂e"), ("用途", "Purpose", purpose),
             ("受益方", "Beneficiary", row.beneficiary)]
    if row.detail:
        lines.append(("说明", "Detail", row.detail))
    lines += [("序列号", "Serial numbers", "; ".join(r["serials"] for r in row.ranges)),
              ("注销时间", "Retired", aware(row.at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S (UTC+8)"))]
    return {"lines": [{"zh": a, "en": b, "value": v} for a, b, v in lines], "retirement": row.code,
            "quantity": row.quantity, "purpose": row.purpose, "beneficiary": row.beneficiary,
            "ranges": row.ranges, "synthetic": row.synthetic}


def find_retirements(session: Session, text: str = "", limit: int = 100) -> list[Retirement]:
    """The public retirement search: by code, beneficiary, holder, detail or a serial number."""
    q = select(Retirement).order_by(Retirement.id.desc()).limit(limit)
    text = text.strip()
    if text:
        number = rules.parse_serial(text)
        if number is not None:
            project_code, vintage, n = number
            hit = session.scalar(
                select(UnitBlock.retirement_id).join(CarbonProject, CarbonProject.id == UnitBlock.project_id)
                .where(CarbonProject.code == project_code, UnitBlock.vintage == vintage, UnitBlock.start <= n,
                       UnitBlock.end >= n, UnitBlock.state == "retired"))
            return [] if hit is None else [r for r in [session.get(Retirement, hit)] if r is not None]
        like = f"%{text}%"
        q = q.where(Retirement.code.ilike(like) | Retirement.beneficiary.ilike(like) |
                    Retirement.holder_name.ilike(like) | Retirement.detail.ilike(like))
    return list(session.scalars(q))



# -- the exchange -------------------------------------------------------------------------------------------------

def offer(session: Session, account_id: int, quantity: int, title: str, by: Principal,
          project_id: int | None = None, description: str = "") -> ExchangeOffer:
    """Set units aside in an escrow account and ask the exchange for a draft listing of them (an event: the
    exchange and this registry know each other only through events)."""
    account = _own_account(session, account_id, by)
    if account.organisation_id is None:
        raise PermissionDenied(N_("an organisation's units are offered on the exchange"))
    # the escrow account is named after the offer: the offer points at the seller's account until it exists
    row = ExchangeOffer(account_id=account.id, escrow_id=account.id, quantity=quantity, delivered=0, returned=0,
                        listing="", settled_deals=[], open=True, by_user_id=by.user_id, created_at=now())
    session.add(row)
    session.flush()
    escrow = _account(session, f"offer:{row.id}", "escrow", f"exchange escrow · offer {row.id}", None, None)
    row.escrow_id = escrow.id
    moved = _move_blocks(session, _active_blocks(session, account.id, project_id), quantity, account.id, escrow.id,
                         "offer", f"offer:{row.id}", by)
    projects = {p.id: p for p in session.scalars(select(CarbonProject).where(
        CarbonProject.id.in_({b.project_id for b in moved})))}
    first = projects[moved[0].project_id]
    events.record(session, OFFERED, actor_id=by.user_id, units_ref=f"{UNITS_REF}{row.id}",
                  category_code="forest_carbon", title=title or f"林业碳汇 {quantity} tCO₂e · {first.name}",
                  quantity=quantity, unit="tCO2e", seller_org_id=account.organisation_id, seller_name=account.name,
                  region_id=first.region_id, county_code=first.county_code, geojson=first.geojson,
                  description=description or "; ".join(sorted({
                      rules.serial_range(projects[b.project_id].code, b.vintage, b.start, b.end) for b in moved})))
    audit(session, by, "offer", "carbon_offer", row.id, quantity=quantity)
    return row


def _offer_of(session: Session, units_ref: str) -> ExchangeOffer | None:
    if not units_ref.startswith(UNITS_REF):
        return None
    return session.get(ExchangeOffer, int(units_ref.removeprefix(UNITS_REF)), with_for_update={"key_share": True})


def deliver(session: Session, units_ref: str, deal_id: int, quantity: int, buyer_org_id: int | None,
            buyer_user_id: int | None, buyer_name: str, listing: str) -> bool:
    """A trade of offered units settled: the buyer gets them from escrow (once per deal)."""
    row = _offer_of(session, units_ref)
    if row is None or deal_id in row.settled_deals:
        return False
    target = holding_account(session, buyer_org_id, buyer_user_id, buyer_name)
    _move_blocks(session, _active_blocks(session, row.escrow_id), quantity, row.escrow_id, target.id, "deliver",
                 f"{listing}:deal:{deal_id}", None)
    row.delivered += quantity
    row.settled_deals = [*row.settled_deals, deal_id]
    row.listing = listing
    _close_if_done(session, row)
    return True


def listing_ended(session: Session, units_ref: str, sold: int, listing: str) -> bool:
    """The listing ended: what was not sold goes back to the seller (what was sold and is not yet delivered
    stays in escrow for its settlement)."""
    row = _offer_of(session, units_ref)
    if row is None or row.sold is not None:
        return False
    row.sold, row.listing = sold, listing
    back = row.quantity - sold
    if back > 0:
        _move_blocks(session, _active_blocks(session, row.escrow_id), back, row.escrow_id, row.account_id, "return",
                     f"{listing}:unsold", None)
        row.returned = back
    _close_if_done(session, row)
    return True


def _close_if_done(session: Session, row: ExchangeOffer) -> None:
    row.open = not (row.sold is not None and row.delivered >= row.sold)
