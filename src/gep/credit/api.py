"""The ecological-credit JSON API: the catalogue, my credit, subjects and their standing, events recorded by hand
or from a CSV file, the review queue, objections and their decisions, corrections, recounts and the grade
distribution by county with the map."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from gep.credit import service, timers
from gep.errors import N_, InputError, NotFound
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Code, Db, Id, Label, LongText, OptName, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service as regions

router = APIRouter(prefix="/api/credit", tags=["credit"], responses=ERROR_RESPONSES)
Recorder = Annotated[Principal, Depends(needs(service.RECORD))]
Reviewer = Annotated[Principal, Depends(needs(service.REVIEW))]
Office = Annotated[Principal, Depends(needs(service.READ_ALL))]
MAX_CSV = 32 * 1024 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventRequest(Strict):
    subject_id: RowId
    indicator: Code
    occurred_on: date
    quantity: Label = Field(default="", description="a number for per-unit indicators; county, city, province or "
                                                     "national for indicators by level")
    evidence: OptName = Field(default="", description="a document number or a link")
    note: OptName = ""

    def new(self) -> service.NewEvent:
        return service.NewEvent(self.subject_id, self.indicator, self.occurred_on, self.quantity, self.evidence,
                                self.note)


class ReviewRequest(Strict):
    accept: bool
    reason: OptName = ""


class CorrectRequest(EventRequest):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ObjectionRequest(Strict):
    reason: LongText


class DecisionRequest(Strict):
    uphold: bool
    decision: LongText


class RecountRequest(Strict):
    county_code: Code | None = None


@router.get("/catalogue", summary="The catalogue in force: dimensions, indicators, points, validity, grades")
def catalogue(db: Db, caller: Caller) -> dict[str, Any]:
    return service.current(db).as_dict()


@router.get("/me", summary="My own credit: grade, explanation, history, events, objections")
def me(db: Db, caller: Caller) -> dict[str, Any]:
    s = service.my_subject(db, caller)
    if s is None:
        raise NotFound(N_("you have no ecological credit record yet"))
    return service.credit_page(db, s.id)


@router.get("/subjects", summary="Find subjects (by name or code)")
def subjects(db: Db, caller: Office, q: Annotated[str, Query(max_length=100)] = "",
             kind: Annotated[str, Query(max_length=20)] = "") -> list[dict[str, Any]]:
    rows = service.find_subjects(db, q, kind)
    grades = {sid: g for sid, g in service.stored_grades(db, [r.id for r in rows]).items()}
    return [{**service.subject_view(r), "grade": grades.get(r.id)} for r in rows]


@router.get("/subjects/{subject_id}", summary="A subject's credit (its own, or any for the credit office)")
def subject(subject_id: Id, db: Db, caller: Caller) -> dict[str, Any]:
    return service.credit_page(db, subject_id)


@router.post("/events", status_code=201, summary="Record an event (pending until reviewed)")
def record(body: EventRequest, db: Db, caller: Recorder) -> dict[str, Any]:
    row = service.record(db, body.new(), caller)
    return {"id": row.id, "state": row.state, "points": row.points, "expires_on": row.expires_on.isoformat()}


@router.post("/events/import", summary="Import events from a CSV (subject,indicator,date,quantity,evidence,note)")
def import_events(db: Db, caller: Recorder,
                  file: Annotated[UploadFile, File(description="CSV, UTF-8: subject (code), indicator, date "
                                                               "(YYYY-MM-DD), quantity, evidence, note")]
                  ) -> dict[str, Any]:
    name = Path(file.filename or "events.csv").name[:200]
    data = file.file.read(MAX_CSV + 1)
    if len(data) > MAX_CSV:
        raise InputError(N_("{file} is larger than {limit} MB"), file=name, limit=MAX_CSV >> 20)
    r = service.import_events(db, data, name, caller)
    return {"import_id": r.import_id, "rows": r.rows, "recorded": r.recorded, "skipped": r.skipped}


@router.get("/queue", summary="The review queue: pending events and open objections")
def review_queue(db: Db, caller: Reviewer, q: Annotated[str, Query(max_length=100)] = "") -> dict[str, Any]:
    return service.queue(db, text=q)


@router.post("/events/{event_id}/review", summary="Accept an event (it counts) or reject it with a reason")
def review(event_id: Id, body: ReviewRequest, db: Db, caller: Reviewer) -> dict[str, Any]:
    row = service.review(db, event_id, body.accept, body.reason, caller)
    if row.state == "accepted":
        timers.ensure(db)  # the event will stop counting on its day
    return {"id": row.id, "state": row.state, "standing": service.standing(db, row.subject_id)}


@router.post("/events/{event_id}/correct", summary="Replace an event by a corrected one")
def correct(event_id: Id, body: CorrectRequest, db: Db, caller: Reviewer) -> dict[str, Any]:
    row = service.correct(db, event_id, body.new(), body.reason, caller)
    return {"id": row.id, "state": row.state, "corrects_id": row.corrects_id}


@router.post("/events/{event_id}/objections", status_code=201, summary="Object to one of my events")
def object_to(event_id: Id, body: ObjectionRequest, db: Db, caller: Caller) -> dict[str, Any]:
    row = service.object_to(db, event_id, body.reason, caller)
    return {"id": row.id, "state": row.state}


@router.post("/objections/{objection_id}/decide", summary="Uphold an objection (the event is withdrawn) or dismiss it")
def decide(objection_id: Id, body: DecisionRequest, db: Db, caller: Reviewer) -> dict[str, Any]:
    row = service.decide(db, objection_id, body.uphold, body.decision, caller)
    return {"id": row.id, "state": row.state}


@router.post("/recount", summary="Recount scores from scratch (a county, or everyone)")
def recount(body: RecountRequest, db: Db, caller: Reviewer) -> dict[str, Any]:
    started = time.perf_counter()
    r = service.recount(db, caller, body.county_code)
    return {"subjects": r.subjects, "events": r.events, "changed": r.changed, "grades": r.grades,
            "seconds": round(time.perf_counter() - started, 3)}


@router.get("/distribution", summary="Subjects per grade in each county, with the counties' outlines")
def distribution(db: Db, caller: Office) -> dict[str, Any]:
    out = service.distribution(db, "county")
    features: list[dict[str, Any]] = []
    for region in regions.list_regions(db)[:1]:
        for f in regions.map_features(db, region.id, "county", None, None)["features"]:
            f["properties"] = {"code": f["properties"]["code"], "name": f["properties"]["name"],
                               **out["zones"].get(f["properties"]["code"], {})}
            features.append(f)
    return {**out, "map": {"type": "FeatureCollection", "features": features}}
