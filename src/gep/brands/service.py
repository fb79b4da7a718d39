"""Use cases of the regional brand: producers, applications moved through inspection to a certificate (and on to
suspension, reinstatement or revocation), batches of certified products with their label codes, the steps of a
batch appended to its signed hash chain, the chain's verification, and what a scanned code says to the public.

A settlement recorded on a batch's chain is the trade flow a bank lends on (茶商E贷): it is announced as the event
``brands.sale_settled`` and the finance domain records it as the seller's settled turnover."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from gep.brands import rules
from gep.brands.models import (
    Application,
    Batch,
    ChainHead,
    Inspection,
    Producer,
    StateChange,
    TraceCode,
    TraceRecord,
)
from gep.certificates import service as certificates
from gep.certificates.keys import Signer
from gep.db import found, is_postgresql
from gep.errors import N_, Conflict, InputError, NotFound, PermissionDenied
from gep.kit import events
from gep.kit.audit import audit, aware, now
from gep.kit.principal import Principal
from gep.registry import service as registry

log = logging.getLogger(__name__)
MANAGE = "brands.manage"  # the brand office: review, inspect, certify, suspend, revoke
APPLY = "brands.apply"  # a producer: apply for its products, open batches
TRACE = "brands.trace"  # record a batch's steps (the batch's own producers, its buyers, the office)
READ = "brands.read"
SALE_SETTLED = "brands.sale_settled"
ROLES = {"grower": N_("grower"), "processor": N_("processor"), "trader": N_("trader")}
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed without mistakes
CODE_LENGTH = 12
MAX_CODES = 10_000


def today() -> date:
    return now().date()


# -- producers ------------------------------------------------------------------------------------------------------

def add_producer(session: Session, name: str, role: str, by: Principal, county_code: str = "",
                 organisation_id: int | None = None, holder_id: int | None = None, user_id: int | None = None,
                 synthetic: bool = False) -> Producer:
    """A producer of the brand; the office adds anyone, a producer's own user adds its organisation."""
    if not by.can(MANAGE):
        by.require(APPLY)
        if organisation_id != by.organisation_id or by.organisation_id is None:
            raise PermissionDenied(N_("you may add only your own organisation as a producer"))
    if role not in ROLES:
        raise InputError(N_("unknown producer role {value}; expected one of {expected}"), value=role,
                         expected=", ".join(ROLES))
    if not name.strip():
        raise InputError(N_("a producer has a name"))
    row = Producer(name=name.strip()[:200], role=role, county_code=county_code, organisation_id=organisation_id,
                   holder_id=holder_id, user_id=user_id, synthetic=synthetic, created_at=now())
    session.add(row)
    session.flush()
    audit(session, by, "create", "brand_producer", row.id, name=row.name, role=role)
    return row


def producers(session: Session) -> list[Producer]:
    return list(session.scalars(select(Producer).order_by(Producer.id)))


def my_producer_ids(session: Session, by: Principal) -> set[int]:
    """The producers the caller acts for: its organisation's, or its own as a person."""
    conds = []
    if by.organisation_id is not None:
        conds.append(Producer.organisation_id == by.organisation_id)
    if by.user_id is not None:
        conds.append(Producer.user_id == by.user_id)
    if not conds:
        return set()
    return set(session.scalars(select(Producer.id).where(or_(*conds))))


def _acts_for(session: Session, by: Principal, producer_id: int) -> bool:
    return by.can(MANAGE) or producer_id in my_producer_ids(session, by)


# -- applications ---------------------------------------------------------------------------------------------------

def apply(session: Session, producer_id: int, category: str, product: str, parcel_ids: list[int],
          by: Principal, synthetic: bool = False) -> Application:
    """A producer applies to use the brand on a product grown on registry parcels."""
    if not by.can(MANAGE):
        by.require(APPLY)
    producer = found(session, Producer, producer_id, N_("producer {id} does not exist"))
    if not _acts_for(session, by, producer.id):
        raise PermissionDenied(N_("you may apply only for a producer you act for"))
    rules.category(category)
    if not product.strip():
        raise InputError(N_("name the product"))
    wanted = sorted(set(parcel_ids))
    known = {p.id for p in registry.parcels_by_id(session, wanted)}
    missing = [i for i in wanted if i not in known]
    if missing:
        raise InputError(N_("parcels {ids} are not in the registry"), ids=", ".join(map(str, missing)))
    row = Application(producer_id=producer.id, category=category, product=product.strip()[:200], parcel_ids=wanted,
                      state=rules.SUBMITTED, standard_digest=rules.brand().digest, synthetic=synthetic,
                      submitted_at=now())
    session.add(row)
    session.flush()
    _change(session, row, "apply", "", rules.SUBMITTED, "", by)
    return row


def _change(session: Session, row: Application, action: str, before: str, after: str, reason: str,
            by: Principal) -> None:
    session.add(StateChange(application_id=row.id, action=action, before=before, after=after, reason=reason[:2000],
                            by_user_id=by.user_id, at=now()))
    audit(session, by, action, "brand_application", row.id, before=before, after=after, reason=reason)


def get_application(session: Session, application_id: int) -> Application:
    return found(session, Application, application_id, N_("application {id} does not exist"))


def inspect(session: Session, application_id: int, results: dict[str, Any], by: Principal,
            on: date | None = None, laboratory: str = "") -> Inspection:
    """Record an inspection of an application under inspection, judged against the category's standard."""
    by.require(MANAGE)
    row = get_application(session, application_id)
    if row.state != rules.INSPECTING:
        raise Conflict(N_("only an application being inspected takes inspection results (this one is {state})"),
                       state=row.state)
    verdict = rules.judge(rules.category(row.category), results)
    day = on or today()
    if day > today():
        raise InputError(N_("the date {date} is in the future"), date=day.isoformat())
    ins = Inspection(application_id=row.id, on=day, results={k: str(v) for k, v in results.items()},
                     passed=verdict.passed, failed=list(verdict.failed + verdict.missing),
                     laboratory=laboratory[:200], by_user_id=by.user_id, at=now())
    session.add(ins)
    session.flush()
    audit(session, by, "inspect", "brand_application", row.id, passed=verdict.passed, failed=list(verdict.failed),
          missing=list(verdict.missing))
    return ins


def last_inspection(session: Session, application_id: int) -> Inspection | None:
    return session.scalar(select(Inspection).where(Inspection.application_id == application_id)
                          .order_by(Inspection.id.desc()).limit(1))


def act(session: Session, application_id: int, action: str, by: Principal, reason: str = "",
        version: int | None = None) -> Application:
    """Move an application: inspect, certify (after a passed inspection), reject, suspend, reinstate, revoke.

    `version` is the one the caller saw; an application changed meanwhile is refused rather than overwritten."""
    by.require(MANAGE)
    row = session.scalar(select(Application).where(Application.id == application_id).with_for_update()
                         .execution_options(populate_existing=True))
    if row is None:
        raise NotFound(N_("application {id} does not exist"), id=application_id)
    if version is not None and version != row.version:
        raise Conflict(N_("the application changed since you loaded it; load it again"))
    before = rules.state_on(row.state, row.valid_until, today())
    ins = last_inspection(session, row.id) if action == "certify" else None
    after = rules.next_state(before, action, reason, passed=ins.passed if ins else None)
    row.state = after
    row.version += 1
    if action == "certify":
        row.valid_from = today()
        row.valid_until = rules.add_months(row.valid_from, rules.brand().certificate_months) - timedelta(days=1)
        row.certificate_no = f"LSSG-{row.valid_from.year}-{row.id:05d}"
    session.flush()
    _change(session, row, action, before, after, reason, by)
    return row


def history(session: Session, application_id: int) -> list[StateChange]:
    return list(session.scalars(select(StateChange).where(StateChange.application_id == application_id)
                                .order_by(StateChange.id)))


def applications(session: Session, by: Principal) -> list[Application]:
    q = select(Application).order_by(Application.id.desc())
    if not by.can(MANAGE) and not by.can(READ):
        q = q.where(Application.producer_id.in_(my_producer_ids(session, by) or {0}))
    return list(session.scalars(q))


# -- batches and codes ----------------------------------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def create_batch(session: Session, application_id: int, quantity: Decimal | str, codes: int, by: Principal,
                 signer: Signer, synthetic: bool = False) -> Batch:
    """A batch of a certified product with `codes` label codes and an empty chain whose head is signed."""
    app = get_application(session, application_id)
    if not _acts_for(session, by, app.producer_id):
        raise PermissionDenied(N_("only the product's producer or the brand office opens its batches"))
    if rules.state_on(app.state, app.valid_until, today()) != rules.CERTIFIED:
        raise Conflict(N_("only a certified product gets batches (this one is {state})"),
                       state=rules.state_on(app.state, app.valid_until, today()))
    amount = rules.decimal(quantity, "quantity")
    if not 1 <= codes <= MAX_CODES:
        raise InputError(N_("a batch has 1 to {n} label codes"), n=MAX_CODES)
    at = now()
    row = Batch(batch_no=f"pending-{secrets.token_hex(6)}", application_id=app.id, quantity=str(amount),
                unit=rules.category(app.category).unit, codes=codes, synthetic=synthetic, created_by=by.user_id,
                created_at=at)
    session.add(row)
    session.flush()
    row.batch_no = f"LSSG-{at.year}-B{row.id:06d}"
    issued: set[str] = set()
    while len(issued) < codes:
        issued.add(new_code())
    clash = set(session.scalars(select(TraceCode.code).where(TraceCode.code.in_(issued))))
    for code in clash:  # 32^12 codes: practically never, but a unique code is a promise
        issued.discard(code)
        while (c := new_code()) in issued or c in clash:
            pass
        issued.add(c)
    session.add_all([TraceCode(code=c, batch_id=row.id, serial=n, scans=0) for n, c in enumerate(sorted(issued), 1)])
    certificates.register_key(session, signer)
    session.add(ChainHead(batch_id=row.id, length=0, hash=rules.GENESIS, key_id=signer.key_id,
                          signature=rules.sign(signer.private, rules.head_message(row.batch_no, 0, rules.GENESIS))))
    session.flush()
    audit(session, by, "create", "brand_batch", row.id, batch=row.batch_no, quantity=str(amount), codes=codes)
    return row


def get_batch(session: Session, batch_id: int) -> Batch:
    return found(session, Batch, batch_id, N_("batch {id} does not exist"))


def batch_by_no(session: Session, batch_no: str) -> Batch:
    row = session.scalar(select(Batch).where(Batch.batch_no == batch_no))
    if row is None:
        raise NotFound(N_("batch {id} does not exist"), id=batch_no)
    return row


def batches(session: Session, application_id: int | None = None) -> list[Batch]:
    q = select(Batch).order_by(Batch.id.desc())
    if application_id is not None:
        q = q.where(Batch.application_id == application_id)
    return list(session.scalars(q))


def codes_of(session: Session, batch_id: int) -> list[TraceCode]:
    return list(session.scalars(select(TraceCode).where(TraceCode.batch_id == batch_id).order_by(TraceCode.serial)))


def records(session: Session, batch_id: int) -> list[TraceRecord]:
    return list(session.scalars(select(TraceRecord).where(TraceRecord.batch_id == batch_id)
                                .order_by(TraceRecord.seq, TraceRecord.id)))


# -- the chain ------------------------------------------------------------------------------------------------------

def _lock_head(session: Session, batch_id: int) -> ChainHead:
    q = select(ChainHead).where(ChainHead.batch_id == batch_id)
    if is_postgresql(session):
        q = q.with_for_update()
    else:  # SQLite: take the write lock now, so the head read below is the one this write follows
        session.execute(update(ChainHead).where(ChainHead.batch_id == batch_id).values(length=ChainHead.length))
    head = session.scalar(q.execution_options(populate_existing=True))
    if head is None:
        raise NotFound(N_("batch {id} does not exist"), id=batch_id)
    return head


def _producer_ref(p: Producer) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "role": p.role}


def _producer(session: Session, raw: Any, what: str) -> Producer:
    try:
        pid = int(raw)
    except (TypeError, ValueError):
        raise InputError(N_("{item}: a producer's id is expected, not “{value}”"), item=what, value=str(raw)) from None
    row = session.get(Producer, pid)
    if row is None:
        raise InputError(N_("{item}: producer {value} does not exist"), item=what, value=pid)
    return row


def _day(raw: Any) -> str:
    if raw in (None, ""):
        return today().isoformat()
    try:
        day = date.fromisoformat(str(raw))
    except ValueError:
        raise InputError(N_("on: a date (YYYY-MM-DD) is expected, not “{value}”"), value=str(raw)) from None
    if day > today():
        raise InputError(N_("the date {date} is in the future"), date=day.isoformat())
    return day.isoformat()


def _payload(session: Session, batch: Batch, kind: str, raw: dict[str, Any], state: rules.BatchState,
             stored: list[TraceRecord]) -> dict[str, Any]:
    """The step's payload as it goes into the chain: checked, normalised, with the parties' names."""
    app = get_application(session, batch.application_id)
    out: dict[str, Any] = {"on": _day(raw.get("on"))}
    if kind == "harvest":
        out["quantity"] = str(rules.decimal(raw.get("quantity"), "quantity"))
        grower = _producer(session, raw.get("grower") or app.producer_id, "grower")
        out["grower"] = _producer_ref(grower)
        code = str(raw.get("parcel") or "").strip()
        parcels = {p.code: p for p in registry.parcels_by_id(session, app.parcel_ids)}
        if code and code not in parcels:
            raise InputError(N_("parcel: {value} is not one of the product's origin parcels ({expected})"),
                             value=code, expected=", ".join(sorted(parcels)) or "—")
        chosen = parcels.get(code) if code else next(iter(parcels.values()), None)
        if chosen is not None:
            out["parcel"] = {"code": chosen.code, "village_code": chosen.village_code,
                             "county_code": chosen.county_code}
    elif kind == "processing":
        process = str(raw.get("process") or "").strip()
        if not process:
            raise InputError(N_("process: say what was done (e.g. 杀青、揉捻、烘干)"))
        out["process"] = process[:200]
        out["output"] = str(rules.decimal(raw.get("output"), "output"))
        out["processor"] = _producer_ref(_producer(session, raw.get("processor") or app.producer_id, "processor"))
    elif kind == "inspection":
        results = raw.get("results")
        if not isinstance(results, dict) or not results:
            raise InputError(N_("results: the measured value of each inspection item is expected"))
        verdict = rules.judge(rules.category(app.category), results)
        out["results"] = {k: str(v) for k, v in results.items()}
        out["passed"] = verdict.passed
        out["failed"] = list(verdict.failed + verdict.missing)
        out["laboratory"] = str(raw.get("laboratory") or "")[:200]
    elif kind == "sale":
        seller = found(session, Producer, app.producer_id, N_("producer {id} does not exist"))
        buyer = _producer(session, raw.get("buyer"), "buyer")
        if buyer.id == seller.id:
            raise InputError(N_("buyer: {name} is the batch's own producer"), name=buyer.name)
        out["seller"] = _producer_ref(seller)
        out["buyer"] = _producer_ref(buyer)
        out["quantity"] = str(rules.decimal(raw.get("quantity"), "quantity"))
        out["unit_price_yuan"] = str(rules.decimal(raw.get("unit_price_yuan"), "unit_price_yuan"))
    elif kind == "settlement":
        try:
            sale_seq = int(raw.get("sale") or 0)
        except (TypeError, ValueError):
            raise InputError(N_("sale: the number of the sale's record is expected")) from None
        out["sale"] = sale_seq
        out["amount_yuan"] = str(rules.decimal(raw.get("amount_yuan"), "amount_yuan").quantize(Decimal("0.01")))
        sale = next((r for r in stored if r.seq == sale_seq and r.kind in ("sale", "harvest")), None)
        if sale is not None and sale.kind == "sale":
            out["payee"], out["payer"] = sale.payload["seller"], sale.payload["buyer"]
        elif sale is not None:  # the producer pays the grower for the harvest (fresh leaves)
            out["payee"] = sale.payload["grower"]
            out["payer"] = _producer_ref(found(session, Producer, app.producer_id, N_("producer {id} does not exist")))
        if "payee" in out and out["payee"]["id"] == out["payer"]["id"]:
            raise InputError(N_("sale: {name} would pay itself"), name=out["payee"]["name"])
        if not raw.get("reference"):
            raise InputError(N_("reference: the settlement's receipt or card transaction number is expected"))
        out["reference"] = str(raw["reference"])[:120]
    else:
        rules.check_step(state, kind, out)  # names the unknown step
    return out


def parties(session: Session, batch: Batch, stored: list[TraceRecord] | None = None) -> set[int]:
    """The producers who take part in a batch: its own producer, and every grower, processor and buyer on its
    chain."""
    out = {get_application(session, batch.application_id).producer_id}
    for r in stored if stored is not None else records(session, batch.id):
        for key in ("buyer", "grower", "processor"):
            if isinstance(r.payload.get(key), dict):
                out.add(int(r.payload[key]["id"]))
    return out


def first_code(session: Session, batch_id: int) -> str | None:
    return session.scalar(select(TraceCode.code).where(TraceCode.batch_id == batch_id)
                          .order_by(TraceCode.serial).limit(1))


def _may_record(session: Session, batch: Batch, by: Principal, stored: list[TraceRecord]) -> bool:
    if by.can(MANAGE):
        return True
    if not by.can(TRACE):
        return False
    return bool(my_producer_ids(session, by) & parties(session, batch, stored))


def append(session: Session, batch_id: int, kind: str, raw: dict[str, Any], by: Principal, signer: Signer
           ) -> TraceRecord:
    """Append a step to the batch's chain: the head is locked, the step checked against what the chain holds,
    hashed onto the last record, signed, and the head re-signed — all in the caller's transaction."""
    batch = get_batch(session, batch_id)
    if kind not in rules.STEPS:
        raise InputError(N_("unknown step {value}; expected one of {expected}"), value=kind,
                         expected=", ".join(rules.STEPS))
    head = _lock_head(session, batch.id)
    stored = records(session, batch.id)
    if not _may_record(session, batch, by, stored):
        raise PermissionDenied(N_("only the batch's producers, its buyers and the brand office record its steps"))
    if head.length != len(stored):
        raise Conflict(N_("the chain of batch {batch} does not hold; run gep trace verify before adding to it"),
                       batch=batch.batch_no)
    state = rules.replay(Decimal(batch.quantity), [(r.seq, r.kind, r.payload) for r in stored])
    payload = _payload(session, batch, kind, raw, state, stored)
    payload["recorded_by"] = by.party_name
    rules.check_step(state, kind, payload)
    seq, at = head.length + 1, now().isoformat(timespec="microseconds")
    digest = rules.record_hash(batch.batch_no, seq, kind, at, payload, head.hash)
    certificates.register_key(session, signer)
    row = TraceRecord(batch_id=batch.id, seq=seq, kind=kind, at=at, payload=payload, prev=head.hash, hash=digest,
                      key_id=signer.key_id, signature=rules.sign(signer.private, bytes.fromhex(digest)),
                      by_user_id=by.user_id)
    session.add(row)
    head.length, head.hash, head.key_id = seq, digest, signer.key_id
    head.signature = rules.sign(signer.private, rules.head_message(batch.batch_no, seq, digest))
    after = rules.replay(Decimal(batch.quantity), [*((r.seq, r.kind, r.payload) for r in stored),
                                                   (seq, kind, payload)])
    if after.remaining <= 0 and batch.sold_out_at is None:
        batch.sold_out_at = now()
    session.flush()
    if kind == "settlement" and "payee" in payload:
        payee = session.get(Producer, int(payload["payee"]["id"]))
        events.record(session, SALE_SETTLED, by.user_id, batch=batch.batch_no, seq=seq, hash=digest,
                      on=payload["on"], amount_fen=int(Decimal(payload["amount_yuan"]) * 100),
                      reference=f"trace:{batch.batch_no}:{seq}",
                      holder_id=payee.holder_id if payee else None,
                      organisation_id=payee.organisation_id if payee else None,
                      seller=payload["payee"]["name"], buyer=payload["payer"]["name"], synthetic=batch.synthetic)
    audit(session, by, "append", "brand_trace_record", row.id, batch=batch.batch_no, seq=seq, kind=kind,
          hash=digest)
    log.info("batch %s: record %d (%s) appended by %s", batch.batch_no, seq, kind, by.username)
    return row


def chain_of(session: Session, batch: Batch) -> tuple[list[rules.ChainRecord], rules.Head | None]:
    rows = records(session, batch.id)
    head = session.get(ChainHead, batch.id)
    return ([rules.ChainRecord(r.seq, r.kind, r.at, dict(r.payload), r.prev, r.hash, r.key_id, r.signature)
             for r in rows],
            rules.Head(head.length, head.hash, head.key_id, head.signature) if head else None)


def verify(session: Session, batch: Batch, keys: dict[str, bytes] | None = None) -> list[rules.Break]:
    recs, head = chain_of(session, batch)
    return rules.verify_chain(batch.batch_no, recs, head, keys if keys is not None else
                              certificates.known_keys(session))


def export_chain(session: Session, batch: Batch) -> dict[str, Any]:
    """The batch's chain as a document anyone can check with the platform's public key (`gep trace verify
    --file`)."""
    recs, head = chain_of(session, batch)
    return {"format": "gep-trace-chain/1", "batch": batch.batch_no, "records": [r.as_dict() for r in recs],
            "head": None if head is None else {"length": head.length, "hash": head.hash, "key_id": head.key_id,
                                                 "signature": head.signature}}


def parse_export(doc: Any) -> tuple[str, list[rules.ChainRecord], rules.Head | None]:
    if not isinstance(doc, dict) or doc.get("format") != "gep-trace-chain/1":
        raise InputError(N_("not a trace chain document (format gep-trace-chain/1 expected)"))
    try:
        recs = [rules.ChainRecord(int(r["seq"]), str(r["kind"]), str(r["at"]), dict(r["payload"]), str(r["prev"]),
                                  str(r["hash"]), str(r["key_id"]), str(r["signature"])) for r in doc["records"]]
        h = doc.get("head")
        head = None if h is None else rules.Head(int(h["length"]), str(h["hash"]), str(h["key_id"]),
                                                 str(h["signature"]))
    except (KeyError, TypeError, ValueError):
        raise InputError(N_("the trace chain document is incomplete")) from None
    return str(doc["batch"]), recs, head


# -- what a scanned code says ---------------------------------------------------------------------------------------

GENUINE, UNKNOWN, OTHER_BATCH, AFTER_SOLD_OUT, MANY_SCANS, BROKEN = (
    "genuine", "unknown_code", "other_batch", "after_sold_out", "many_scans", "chain_broken")
VERDICTS = {
    GENUINE: N_("A genuine code of this batch; its history below is intact and signed by the platform."),
    UNKNOWN: N_("This code was never issued under the brand: the label is not genuine."),
    OTHER_BATCH: N_("This code belongs to another batch than the label says: the label is not genuine."),
    AFTER_SOLD_OUT: N_("The whole batch was sold by {date}: goods with this label offered as new stock after that "
                       "may carry a copied label. Ask the seller where they bought them."),
    MANY_SCANS: N_("This code has been scanned {n} times; a genuine label is scanned a few times. It may have "
                   "been copied."),
    BROKEN: N_("The history of this batch fails verification; do not rely on it, and tell the brand office."),
}


@dataclass
class Scan:
    verdicts: list[str]
    batch: Batch | None = None
    code: TraceCode | None = None
    breaks: list[rules.Break] | None = None


def scan(session: Session, code: str, batch_no: str = "", count: bool = True) -> Scan:
    """What a code scanned by the public says: refused when unknown or of another batch; warned when scanned after
    its batch sold out, scanned very often, or its chain does not hold. A real scan is counted."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    row = session.scalar(select(TraceCode).where(TraceCode.code == cleaned)) if cleaned else None
    if row is None:
        return Scan([UNKNOWN])
    batch = session.get(Batch, row.batch_id)
    assert batch is not None
    if batch_no and batch_no != batch.batch_no:
        return Scan([OTHER_BATCH])
    at = now()
    if count:
        session.execute(update(TraceCode).where(TraceCode.id == row.id).values(
            scans=TraceCode.scans + 1, last_scan_at=at, first_scan_at=func.coalesce(TraceCode.first_scan_at, at)))
        session.refresh(row)
    verdicts = []
    breaks = verify(session, batch)
    if breaks:
        verdicts.append(BROKEN)
    if batch.sold_out_at is not None and at > aware(batch.sold_out_at):
        verdicts.append(AFTER_SOLD_OUT)
    if row.scans > rules.brand().scan_warning:
        verdicts.append(MANY_SCANS)
    return Scan(verdicts or [GENUINE], batch, row, breaks)


def public_record(r: TraceRecord | rules.ChainRecord) -> dict[str, Any]:
    """A step as the public sees it: what, when, who and where — not the money."""
    p = dict(r.payload)
    shown: dict[str, Any] = {"seq": r.seq, "kind": r.kind, "on": p.get("on"), "hash": r.hash}
    for key in ("grower", "processor", "seller", "buyer", "payee", "payer"):
        if isinstance(p.get(key), dict):
            shown[key] = p[key]["name"]
    for key in ("quantity", "output", "process", "results", "passed", "failed", "laboratory", "sale"):
        if key in p:
            shown[key] = p[key]
    if isinstance(p.get("parcel"), dict):
        shown["parcel"] = p["parcel"]["code"]
        shown["village_code"] = p["parcel"].get("village_code", "")
    return shown


def sold_out_on(batch: Batch) -> str:
    return aware(batch.sold_out_at).date().isoformat() if batch.sold_out_at else ""


def remaining(session: Session, batch: Batch) -> Decimal:
    return rules.replay(Decimal(batch.quantity), [(r.seq, r.kind, r.payload) for r in records(session, batch.id)]
                        ).remaining


def created(moment: datetime) -> str:
    return aware(moment).isoformat(timespec="seconds")
