"""Use cases of ecological credit: the catalogue in force, subjects, events recorded by hand, from a file or
from another domain's event (all pending until a reviewer accepts them), the incremental score update when an
event starts or stops counting, the daily expiry, recounts from scratch (one subject, a county, everyone),
objections and corrections (the paths to repair), and what a subject, the credit office and a bank may see.

A score is updated under a lock on its row: the subject's tally (raw points per dimension and the vetoes in
force) moves by exactly the event's points, and the score and grade follow from it by the rules. A recount from
scratch must give the same tally; tests check that it always does."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gep.credit import catalogue as cat
from gep.credit import rules
from gep.credit.models import (
    CreditCatalogue,
    CreditEvent,
    CreditImport,
    CreditScore,
    CreditSubject,
    Objection,
    ScoreChange,
)
from gep.db import add_once, found
from gep.errors import N_, Conflict, FileError, InputError, NotFound, PermissionDenied, Problem
from gep.kit.audit import audit, now
from gep.kit.csvfile import read_rows
from gep.kit.notify import notify
from gep.kit.principal import Principal

RECORD = "credit.record"  # record events by hand or from a file
REVIEW = "credit.review"  # accept or reject events, decide objections, correct
READ_ALL = "credit.read_all"  # see every subject and the distribution
CHINA = timezone(timedelta(hours=8))
MAX_IMPORT_ROWS = 200_000


def today() -> date:
    """The day in Lishui (events count by the calendar day there)."""
    return now().astimezone(CHINA).date()


# -- the catalogue ------------------------------------------------------------------------------------------------

def install_catalogue(session: Session, text: str | None = None, by: Principal | None = None) -> cat.Catalogue:
    """Make a catalogue the one in force (kept under its version; the same text again changes nothing). A new
    version does not move any score until `recount` runs."""
    text = text if text is not None else cat.DEFAULT.read_text(encoding="utf-8")
    c = cat.from_text(text)
    row = session.scalar(select(CreditCatalogue).where(CreditCatalogue.version == c.version))
    if row is not None and row.digest != c.digest:
        raise Conflict(N_("catalogue version {version} is installed with another text: give the new one a new "
                          "version"), version=c.version)
    if row is None:
        row, _added = add_once(session, CreditCatalogue, {"version": c.version}, lambda: CreditCatalogue(
            version=c.version, digest=c.digest, text=text, active=False, loaded_at=now()))
    assert row is not None
    if not row.active:
        session.execute(update(CreditCatalogue).values(active=False))
        row.active = True
        audit(session, by, "install", "credit_catalogue", row.id, version=c.version)
    return c


def current(session: Session) -> cat.Catalogue:
    """The catalogue in force (the shipped one, installed on first use)."""
    text = session.scalar(select(CreditCatalogue.text).where(CreditCatalogue.active.is_(True)))
    return cat.from_text(text) if text is not None else install_catalogue(session)


def catalogue_of(session: Session, version: str) -> cat.Catalogue:
    text = session.scalar(select(CreditCatalogue.text).where(CreditCatalogue.version == version))
    if text is None:
        raise NotFound(N_("catalogue version {id} does not exist"), id=version)
    return cat.from_text(text)


# -- subjects -------------------------------------------------------------------------------------------------------

def subject(session: Session, kind: str, code: str, name: str, *, user_id: int | None = None,
            organisation_id: int | None = None, holder_id: int | None = None, region_id: int | None = None,
            county_code: str = "", township_code: str = "", village_code: str = "",
            synthetic: bool = False) -> CreditSubject:
    """The subject of this code, added once."""
    if kind not in cat.SUBJECT_KINDS:
        raise InputError(N_("unknown kind of subject {kind}"), kind=kind)
    row, added = add_once(session, CreditSubject, {"code": code}, lambda: CreditSubject(
        kind=kind, code=code, name=name[:200], user_id=user_id, organisation_id=organisation_id, holder_id=holder_id,
        region_id=region_id, county_code=county_code, township_code=township_code, village_code=village_code,
        synthetic=synthetic, created_at=now()))
    if added:  # every subject is rated from the start (the base score), so the distribution counts it
        c = current(session)
        add_once(session, CreditScore, {"subject_id": row.id}, lambda: CreditScore(
            subject_id=row.id, score=c.base, grade=rules.grade_of(c.base, False, c), vetoed=False,
            catalogue_version=c.version, tally=rules.Tally().as_dict(), updated_at=now()))
    return row


def get_subject(session: Session, subject_id: int) -> CreditSubject:
    """A subject the caller may see (a scoped session hides the others)."""
    return found(session, CreditSubject, subject_id, N_("credit subject {id} does not exist"))


def subject_unscoped(session: Session, subject_id: int) -> CreditSubject:
    row = session.scalar(select(CreditSubject).where(CreditSubject.id == subject_id)
                         .execution_options(skip_scope=True))
    if row is None:
        raise NotFound(N_("credit subject {id} does not exist"), id=subject_id)
    return row


def subject_of_party(session: Session, user_id: int | None, organisation_id: int | None) -> CreditSubject | None:
    """The subject a person or an organisation is rated as (an organisation first)."""
    q = select(CreditSubject).execution_options(skip_scope=True)
    if organisation_id is not None:
        row = session.scalar(q.where(CreditSubject.organisation_id == organisation_id).order_by(CreditSubject.id))
        if row is not None:
            return row
    if user_id is not None:
        return session.scalar(q.where(CreditSubject.user_id == user_id).order_by(CreditSubject.id))
    return None


def my_subject(session: Session, by: Principal) -> CreditSubject | None:
    return subject_of_party(session, by.user_id, by.organisation_id)


# -- recording events -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewEvent:
    subject_id: int
    indicator: str
    occurred_on: date
    quantity: str = ""
    evidence: str = ""
    note: str = ""


def _event_row(c: cat.Catalogue, s: CreditSubject, e: NewEvent, points: int, source: str, source_ref: str,
               key: str, by: Principal | None, synthetic: bool = False, import_id: int | None = None) -> CreditEvent:
    ind = c.indicator(e.indicator)
    return CreditEvent(subject_id=s.id, indicator=ind.code, list=ind.list, dimension=ind.dimension, veto=ind.veto,
                       catalogue_version=c.version, occurred_on=e.occurred_on,
                       expires_on=rules.expiry(e.occurred_on, ind), quantity=e.quantity.strip()[:40], points=points,
                       evidence=e.evidence.strip()[:500], note=e.note.strip()[:500], source=source,
                       source_ref=source_ref[:200], key=key, state="pending", counted=False, import_id=import_id,
                       synthetic=synthetic, recorded_by=by.user_id if by else None, recorded_at=now(), reason="")


def record(session: Session, e: NewEvent, by: Principal, source: str = "manual", source_ref: str = "",
           authorised: bool = False, synthetic: bool = False) -> CreditEvent:
    """Record an event, pending review. The same event (subject, indicator, day, quantity, evidence) is
    recorded once: a second time is refused, naming the first."""
    if not authorised:
        by.require(RECORD)
    c = current(session)
    s = subject_unscoped(session, e.subject_id)
    ind = c.indicator(e.indicator)
    points = rules.check_event(ind, s.kind, e.occurred_on, e.quantity, e.evidence, today())
    key = source_ref if source == "domain" else rules.event_key(s.id, ind.code, e.occurred_on, e.quantity,
                                                                 e.evidence)
    twin = session.scalar(select(CreditEvent).where(CreditEvent.key == key))
    if twin is not None:
        if source == "domain":
            return twin  # the same domain event delivered again
        raise Conflict(N_("this event is recorded already (event {id}, {state})"), id=twin.id,
                       state=rules.EVENT_STATES[twin.state])
    row = _event_row(c, s, e, points, source, source_ref, key, by, synthetic)
    session.add(row)
    session.flush()
    audit(session, by, "record", "credit_event", row.id, subject=s.code, indicator=ind.code, points=points,
          source=source)
    return row


def review(session: Session, event_id: int, accept: bool, reason: str, by: Principal, authorised: bool = False
           ) -> CreditEvent:
    """Accept an event (it counts from now on) or reject it (with a reason). A person does not review what
    they recorded themselves."""
    if not authorised:
        by.require(REVIEW)
    ev = _locked_event(session, event_id)
    after = rules.event_step(ev.state, "accept" if accept else "reject")
    if not authorised and ev.recorded_by is not None and ev.recorded_by == by.user_id:
        raise PermissionDenied(N_("an event is reviewed by someone other than the person who recorded it"))
    if not accept and not reason.strip():
        raise InputError(N_("a rejection gives its reason"))
    ev.state, ev.reviewed_by, ev.reviewed_at, ev.reason = after, by.user_id, now(), reason.strip()[:500]
    audit(session, by, "accept" if accept else "reject", "credit_event", ev.id, reason=ev.reason)
    if accept and rules.expiry(ev.occurred_on, current(session).indicator(ev.indicator)) > today() \
            and ev.occurred_on <= today():
        _count(session, ev, +1, "accepted", by)
    return ev


def _locked_event(session: Session, event_id: int) -> CreditEvent:
    ev = session.scalar(select(CreditEvent).where(CreditEvent.id == event_id).with_for_update())
    if ev is None:
        raise NotFound(N_("credit event {id} does not exist"), id=event_id)
    return ev


def _as_counted(ev: CreditEvent) -> rules.Counted:
    return rules.Counted(ev.id, ev.indicator, ev.list, ev.dimension, ev.points, ev.veto, ev.occurred_on,
                         ev.expires_on)


def _score_row(session: Session, subject_id: int, c: cat.Catalogue) -> CreditScore:
    """The subject's score row, locked (added at the base score when new)."""
    add_once(session, CreditScore, {"subject_id": subject_id}, lambda: CreditScore(
        subject_id=subject_id, score=c.base, grade=rules.grade_of(c.base, False, c), vetoed=False,
        catalogue_version=c.version, tally=rules.Tally().as_dict(), updated_at=now()))
    locked = session.scalar(select(CreditScore).where(CreditScore.subject_id == subject_id).with_for_update()
                            .execution_options(populate_existing=True))
    assert locked is not None
    return locked


def _count(session: Session, ev: CreditEvent, sign: int, cause: str, by: Principal | None) -> CreditScore:
    """Move the subject's tally by one event (in or out) and record the change of score."""
    c = current(session)
    row = _score_row(session, ev.subject_id, c)
    t = rules.Tally.from_dict(row.tally)
    t.add(_as_counted(ev), sign)
    ev.counted = sign > 0
    return _set_score(session, row, t, c, cause, ev.id, by)


def _set_score(session: Session, row: CreditScore, t: rules.Tally, c: cat.Catalogue, cause: str,
               event_id: int | None, by: Principal | None, tell: bool = True) -> CreditScore:
    s = rules.score_of(t, c)
    before_score, before_grade = row.score, row.grade
    row.tally, row.score, row.grade, row.vetoed = t.as_dict(), s.score, s.grade, s.vetoed
    row.catalogue_version, row.updated_at = c.version, now()
    if (before_score, before_grade) != (s.score, s.grade) or cause != "recount":
        session.add(ScoreChange(subject_id=row.subject_id, before_score=before_score, after_score=s.score,
                                before_grade=before_grade, after_grade=s.grade, cause=cause, event_id=event_id,
                                catalogue_version=c.version, by_user_id=by.user_id if by else None, at=now()))
        if tell:  # a recount records every change above and audits itself once
            audit(session, by, "score", "credit_subject", row.subject_id, before=before_score, after=s.score,
                  grade=s.grade, cause=cause, event=event_id)
    if tell and before_grade != s.grade:
        _tell_subject(session, row.subject_id, N_("Your ecological credit grade is now {grade} (was {before})"),
                      grade=s.grade, before=before_grade)
    return row


def _tell_subject(session: Session, subject_id: int, template: str, **params: Any) -> None:
    s = subject_unscoped(session, subject_id)
    if s.user_id is not None:
        notify(session, s.user_id, template, link="/credit/my", kind="credit", **params)


def withdraw(session: Session, event_id: int, reason: str, by: Principal, cause: str = "withdrawn",
             authorised: bool = False) -> CreditEvent:
    """Take an event back (an objection upheld, a correction): if it counted, the score moves back."""
    if not authorised:
        by.require(REVIEW)
    if not reason.strip():
        raise InputError(N_("a withdrawal gives its reason"))
    ev = _locked_event(session, event_id)
    ev.state = rules.event_step(ev.state, "withdraw")
    ev.reason = reason.strip()[:500]
    if ev.counted:
        _count(session, ev, -1, cause, by)
    audit(session, by, "withdraw", "credit_event", ev.id, reason=ev.reason)
    return ev


def correct(session: Session, event_id: int, e: NewEvent, reason: str, by: Principal) -> CreditEvent:
    """Replace an event by a corrected one: the old one is withdrawn and the new one counts at once (the
    reviewer who corrects takes responsibility for it)."""
    by.require(REVIEW)
    old = _locked_event(session, event_id)
    if old.subject_id != e.subject_id:
        raise InputError(N_("a correction stays with the same subject"))
    withdraw(session, event_id, reason, by, cause="corrected")
    c = current(session)
    s = subject_unscoped(session, e.subject_id)
    ind = c.indicator(e.indicator)
    points = rules.check_event(ind, s.kind, e.occurred_on, e.quantity, e.evidence, today())
    row = _event_row(c, s, e, points, "manual", f"correction of {event_id}",
                     f"{rules.event_key(s.id, ind.code, e.occurred_on, e.quantity, e.evidence)}#c{event_id}", by)
    row.corrects_id = event_id
    session.add(row)
    session.flush()
    audit(session, by, "correct", "credit_event", row.id, corrects=event_id, reason=reason)
    return review(session, row.id, True, "", by, authorised=True)


# -- expiry and recounts ------------------------------------------------------------------------------------------

def expire_due(session: Session, on: date | None = None) -> int:
    """Every counted event whose validity ended by `on` stops counting (the daily timer runs this)."""
    on = on or today()
    ids = list(session.scalars(select(CreditEvent.id).where(CreditEvent.counted.is_(True),
                                                            CreditEvent.expires_on <= on).order_by(CreditEvent.id)))
    for event_id in ids:
        ev = _locked_event(session, event_id)
        if ev.counted:
            _count(session, ev, -1, "expired", None)
    return len(ids)


def counted_events(session: Session, subject_ids: Sequence[int] | None = None, county_code: str | None = None
                   ) -> dict[int, list[rules.Counted]]:
    """Accepted events by subject: of the subjects named, of a county's subjects, or of all."""
    q = select(CreditEvent.subject_id, CreditEvent.id, CreditEvent.indicator, CreditEvent.list,
               CreditEvent.dimension, CreditEvent.points, CreditEvent.veto, CreditEvent.occurred_on,
               CreditEvent.expires_on).where(CreditEvent.state == "accepted")
    if subject_ids is not None:
        q = q.where(CreditEvent.subject_id.in_(subject_ids))
    if county_code:
        q = q.where(CreditEvent.subject_id.in_(select(CreditSubject.id).where(CreditSubject.county_code == county_code)
                                               .scalar_subquery()))
    out: dict[int, list[rules.Counted]] = defaultdict(list)
    for sid, eid, ind, lst, dim, points, veto, on, until in session.execute(q.execution_options(skip_scope=True)):
        out[int(sid)].append(rules.Counted(int(eid), str(ind), str(lst), str(dim), int(points), bool(veto), on, until))
    return out


@dataclass(frozen=True)
class Recount:
    subjects: int
    events: int
    changed: int
    grades: dict[str, int]


def recount(session: Session, by: Principal | None, county_code: str | None = None, on: date | None = None
            ) -> Recount:
    """Every subject's score from scratch (of a county, or of all), with the catalogue in force: what the
    incremental updates must equal, and how a new catalogue version reaches every score."""
    on = on or today()
    c = current(session)
    q = select(CreditSubject.id).execution_options(skip_scope=True)
    if county_code:
        q = q.where(CreditSubject.county_code == county_code)
    ids = list(session.scalars(q))
    events = counted_events(session, county_code=county_code)
    n_events = sum(len(v) for v in events.values())
    sq = select(CreditScore)
    if county_code:
        sq = sq.where(CreditScore.subject_id.in_(q.scalar_subquery()))
    scores = {r.subject_id: r for r in session.scalars(sq)}
    changed = 0
    grades: Counter[str] = Counter()
    counted_now: set[int] = set()
    counted_not: set[int] = set()
    for sid in ids:
        evs = events.get(sid, [])
        live = {e.id for e in evs if e.in_force(on)}
        t = rules.tally(evs, on)
        row = scores.get(sid)
        if row is None:
            row = CreditScore(subject_id=sid, score=c.base, grade=rules.grade_of(c.base, False, c), vetoed=False,
                              catalogue_version=c.version, tally=rules.Tally().as_dict(), updated_at=now())
            session.add(row)
        if rules.Tally.from_dict(row.tally) != t or row.catalogue_version != c.version:
            changed += 1
            _set_score(session, row, t, c, "recount", None, by, tell=False)
        grades[row.grade] += 1
        if evs:
            counted_now.update(live)
            counted_not.update(e.id for e in evs if e.id not in live)
    for flag, chosen in ((True, counted_now), (False, counted_not)):
        todo = sorted(chosen)
        for k in range(0, len(todo), 5000):
            session.execute(update(CreditEvent).where(CreditEvent.id.in_(todo[k:k + 5000])).values(counted=flag)
                            .execution_options(synchronize_session=False))
    audit(session, by, "recount", "credit_score", county_code or "all", subjects=len(ids), changed=changed)
    return Recount(len(ids), n_events, changed, dict(grades))


# -- imports --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    import_id: int | None
    rows: int
    recorded: int
    skipped: int


def read_csv(data: bytes, filename: str) -> list[dict[str, str]]:
    return read_rows(data, filename, ("subject", "indicator", "date"), rules.COLUMNS, MAX_IMPORT_ROWS)


def import_events(session: Session, data: bytes, filename: str, by: Principal, synthetic: bool = False
                  ) -> ImportResult:
    """Record the events of a CSV file (subject code, indicator, date, quantity, evidence, note), pending review.
    All or nothing: a file with a problem is refused with every bad row named. Rows recorded before (the same
    file again, or a file that overlaps) are skipped and counted."""
    by.require(RECORD)
    rows = read_csv(data, filename)
    digest = hashlib.sha256(data).hexdigest()
    done = session.scalar(select(CreditImport).where(CreditImport.digest == digest))
    if done is not None:
        return ImportResult(done.id, done.rows, 0, done.rows)
    c = current(session)
    codes = {r.get("subject", "").strip() for r in rows}
    subjects = {s.code: (s.id, s.kind) for s in session.scalars(
        select(CreditSubject).where(CreditSubject.code.in_(codes)).execution_options(skip_scope=True))}
    ids = {v[0] for v in subjects.values()}
    known = set(session.scalars(select(CreditEvent.key).where(CreditEvent.subject_id.in_(ids)))) if ids else set()
    checked, skipped = rules.check_rows(rows, subjects, c, today(), known)
    if checked.problems:
        raise FileError(filename, [Problem(N_("row {row}, {field}"), p["message"],
                                           **{**p["params"], "row": p["row"], "field": p["field"]})
                                   for p in checked.problems[:200]])
    imp = CreditImport(digest=digest, filename=filename[:300], rows=len(rows), recorded=len(checked.rows),
                       skipped=skipped, by_user_id=by.user_id, at=now())
    session.add(imp)
    session.flush()
    kinds = {v[0]: v[1] for v in subjects.values()}
    at = now()
    session.add_all([CreditEvent(
        subject_id=r.subject_id, indicator=r.indicator.code, list=r.indicator.list, dimension=r.indicator.dimension,
        veto=r.indicator.veto, catalogue_version=c.version, occurred_on=r.occurred_on,
        expires_on=rules.expiry(r.occurred_on, r.indicator), quantity=r.quantity[:40], points=r.points,
        evidence=r.evidence[:500], note=r.note[:500], source="csv", source_ref=f"{filename[:150]}#{r.row}",
        key=r.key, state="pending", counted=False, import_id=imp.id, synthetic=synthetic,
        recorded_by=by.user_id, recorded_at=at, reason="") for r in checked.rows if kinds.get(r.subject_id)])
    session.flush()
    audit(session, by, "import", "credit_import", imp.id, rows=len(rows), recorded=imp.recorded, skipped=skipped)
    return ImportResult(imp.id, len(rows), imp.recorded, skipped)


# -- objections -----------------------------------------------------------------------------------------------------

def object_to(session: Session, event_id: int, reason: str, by: Principal) -> Objection:
    """A subject disputes one of its own events (once while an objection is open)."""
    ev = session.get(CreditEvent, event_id)
    if ev is None:
        raise NotFound(N_("credit event {id} does not exist"), id=event_id)
    get_subject(session, ev.subject_id)  # the caller's own (or visible) subject, or NotFound
    mine = my_subject(session, by)
    if mine is None or mine.id != ev.subject_id:
        raise PermissionDenied(N_("only the subject of an event may object to it"))
    if not reason.strip():
        raise InputError(N_("an objection gives its reason"))
    if ev.state not in ("accepted", "pending"):
        raise Conflict(N_("event {id} is {state}: there is nothing to object to"), id=ev.id,
                       state=rules.EVENT_STATES[ev.state])
    if session.scalar(select(Objection.id).where(Objection.event_id == ev.id, Objection.state == "open")):
        raise Conflict(N_("an objection to event {id} is open already"), id=ev.id)
    row = Objection(subject_id=ev.subject_id, event_id=ev.id, reason=reason.strip()[:1000], state="open",
                    by_user_id=by.user_id, at=now(), decision="")
    session.add(row)
    session.flush()
    audit(session, by, "object", "credit_event", ev.id, objection=row.id, reason=row.reason)
    return row


def decide(session: Session, objection_id: int, uphold: bool, decision: str, by: Principal) -> Objection:
    """Uphold an objection (the event is withdrawn, the score moves back) or dismiss it, with reasons."""
    by.require(REVIEW)
    row = session.scalar(select(Objection).where(Objection.id == objection_id).with_for_update())
    if row is None:
        raise NotFound(N_("objection {id} does not exist"), id=objection_id)
    if row.state != "open":
        raise Conflict(N_("objection {id} is decided already"), id=objection_id)
    if not decision.strip():
        raise InputError(N_("a decision gives its reason"))
    row.state, row.decided_by, row.decision, row.decided_at = ("upheld" if uphold else "dismissed"), by.user_id, \
        decision.strip()[:1000], now()
    if uphold:
        ev = session.get(CreditEvent, row.event_id)
        assert ev is not None
        if ev.state in ("pending", "accepted"):
            withdraw(session, ev.id, decision, by, cause="objection")
    audit(session, by, "decide", "credit_objection", row.id, upheld=uphold, decision=row.decision)
    _tell_subject(session, row.subject_id, N_("Your objection to event {event} was {outcome}"), event=row.event_id,
                  outcome=N_("upheld") if uphold else N_("dismissed"))
    return row


# -- what people see ------------------------------------------------------------------------------------------------

def _event_view(ev: CreditEvent, c: cat.Catalogue) -> dict[str, Any]:
    ind = c.indicators.get(ev.indicator)
    return {"id": ev.id, "indicator": ev.indicator, "name_zh": ind.name_zh if ind else ev.indicator,
            "name_en": ind.name_en if ind else ev.indicator, "list": ev.list, "dimension": ev.dimension,
            "veto": ev.veto, "points": ev.points if ev.list == "positive" else -ev.points,
            "occurred_on": ev.occurred_on.isoformat(), "expires_on": ev.expires_on.isoformat(),
            "quantity": ev.quantity, "evidence": ev.evidence, "note": ev.note, "source": ev.source,
            "source_ref": ev.source_ref, "state": ev.state, "counted": ev.counted, "reason": ev.reason,
            "catalogue_version": ev.catalogue_version, "synthetic": ev.synthetic, "subject_id": ev.subject_id,
            "recorded_at": ev.recorded_at.isoformat(), "corrects_id": ev.corrects_id}


def subject_view(s: CreditSubject) -> dict[str, Any]:
    return {"id": s.id, "kind": s.kind, "code": s.code, "name": s.name, "county_code": s.county_code,
            "township_code": s.township_code, "village_code": s.village_code, "synthetic": s.synthetic}


def standing(session: Session, subject_id: int, on: date | None = None) -> dict[str, Any]:
    """A subject's grade as of a day, recounted from its accepted events, with the explanation."""
    c = current(session)
    evs = counted_events(session, [subject_id]).get(subject_id, [])
    out = rules.explain(evs, c, on or today())
    names = {k: (i.name_zh, i.name_en) for k, i in c.indicators.items()}
    for e in out["events"]:
        e["name_zh"], e["name_en"] = names.get(e["indicator"], (e["indicator"], e["indicator"]))
    return out


def grade_of(session: Session, subject_id: int | None) -> str | None:
    """The grade a subject has today (None: no subject)."""
    if subject_id is None:
        return None
    return str(standing(session, subject_id)["grade"])


def credit_page(session: Session, subject_id: int) -> dict[str, Any]:
    """Everything about one subject: its grade and why, its score history, its events and objections."""
    s = get_subject(session, subject_id)
    c = current(session)
    history = [{"at": h.at.isoformat(), "score": h.after_score, "grade": h.after_grade, "before": h.before_score,
                "cause": h.cause, "event_id": h.event_id} for h in session.scalars(
        select(ScoreChange).where(ScoreChange.subject_id == s.id).order_by(ScoreChange.id))]
    evs = [_event_view(e, c) for e in session.scalars(select(CreditEvent).where(CreditEvent.subject_id == s.id)
                                                       .order_by(CreditEvent.occurred_on.desc(), CreditEvent.id))]
    objections = [{"id": o.id, "event_id": o.event_id, "reason": o.reason, "state": o.state,
                   "decision": o.decision, "at": o.at.isoformat()} for o in session.scalars(
        select(Objection).where(Objection.subject_id == s.id).order_by(Objection.id.desc()))]
    return {"subject": subject_view(s), "standing": standing(session, s.id), "history": history, "events": evs,
            "objections": objections, "catalogue": {"version": c.version, "grades": [list(g) for g in c.grades]}}


def queue(session: Session, limit: int = 100, text: str = "") -> dict[str, Any]:
    """The review queue: pending events (oldest first, of the subjects whose name or code contains `text`) and
    open objections."""
    c = current(session)
    q = select(CreditEvent).where(CreditEvent.state == "pending")
    if text.strip():
        like = f"%{text.strip()}%"
        q = q.where(CreditEvent.subject_id.in_(select(CreditSubject.id).where(
            CreditSubject.name.like(like) | CreditSubject.code.like(like)).scalar_subquery()))
    pending = list(session.scalars(q.order_by(CreditEvent.id).limit(limit)))
    subjects = {s.id: s for s in session.scalars(select(CreditSubject).where(
        CreditSubject.id.in_({e.subject_id for e in pending}))
        .execution_options(skip_scope=True))} if pending else {}
    total = session.scalar(select(func.count()).select_from(CreditEvent).where(CreditEvent.state == "pending"))
    objections = list(session.scalars(select(Objection).where(Objection.state == "open").order_by(Objection.id)))
    events_of = {e.id: e for e in session.scalars(select(CreditEvent).where(
        CreditEvent.id.in_([o.event_id for o in objections])))} if objections else {}
    return {"total": total, "events": [{**_event_view(e, c), "subject": subject_view(subjects[e.subject_id])}
                                       for e in pending],
            "objections": [{"id": o.id, "event": _event_view(events_of[o.event_id], c), "reason": o.reason,
                            "at": o.at.isoformat()} for o in objections]}


def find_subjects(session: Session, text: str = "", kind: str = "", limit: int = 50) -> list[CreditSubject]:
    q = select(CreditSubject)
    if text.strip():
        like = f"%{text.strip()}%"
        q = q.where(CreditSubject.name.like(like) | CreditSubject.code.like(like))
    if kind:
        q = q.where(CreditSubject.kind == kind)
    return list(session.scalars(q.order_by(CreditSubject.id).limit(limit)))


def distribution(session: Session, level: str = "county") -> dict[str, Any]:
    """Subjects per grade in each county (or township), from the stored scores."""
    column = CreditSubject.county_code if level == "county" else CreditSubject.township_code
    rows = session.execute(select(column, CreditScore.grade, func.count(), func.avg(CreditScore.score))
                           .join(CreditScore, CreditScore.subject_id == CreditSubject.id)
                           .group_by(column, CreditScore.grade).execution_options(skip_scope=True))
    zones: dict[str, dict[str, Any]] = {}
    for code, grade, n, avg in rows:
        z = zones.setdefault(str(code or ""), {"grades": {}, "subjects": 0, "score_sum": 0.0})
        z["grades"][grade] = int(n)
        z["subjects"] += int(n)
        z["score_sum"] += float(avg or 0) * int(n)
    c = current(session)
    out = {}
    good = {g for g, _ in c.grades[:3]}
    for code, z in zones.items():
        out[code] = {"grades": z["grades"], "subjects": z["subjects"],
                     "mean_score": round(z["score_sum"] / z["subjects"], 1) if z["subjects"] else None,
                     "share_a_or_better": round(sum(n for g, n in z["grades"].items() if g in good)
                                                / z["subjects"], 4) if z["subjects"] else None}
    return {"level": level, "grades": [g for g, _ in c.grades], "zones": out}


def counts(session: Session) -> dict[str, int]:
    return {"subjects": session.scalar(select(func.count()).select_from(CreditSubject)
                                       .execution_options(skip_scope=True)) or 0,
            "events": session.scalar(select(func.count()).select_from(CreditEvent)) or 0}


def event_for(session: Session, kind: str, code: str, name: str, indicator: str, occurred_on: date, ref: str,
              quantity: str = "", note: str = "", evidence: str = "", **where: Any) -> CreditEvent | None:
    """What another domain's event becomes: a pending event for the party it names (added as a subject if
    new). Idempotent on `ref`."""
    c = current(session)
    ind = c.indicator(indicator)
    if kind not in ind.subjects:
        return None
    s = subject(session, kind, code, name, **where)
    try:
        return record(session, NewEvent(s.id, indicator, min(occurred_on, today()), quantity, evidence, note),
                      Principal(None, "system", "admin", None, frozenset({"*"}), "system"), source="domain",
                      source_ref=ref, authorised=True)
    except InputError:
        return None


def stored_grades(session: Session, subject_ids: Sequence[int]) -> dict[int, str]:
    if not subject_ids:
        return {}
    return {int(s): str(g) for s, g in session.execute(select(CreditScore.subject_id, CreditScore.grade).where(
        CreditScore.subject_id.in_(subject_ids)))}
