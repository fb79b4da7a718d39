"""Responsibility tracking of the pilot work (推进机制): tasks with an owner department, a deadline and a status.
The office sets tasks; the owner department moves its own (open → in progress → done, and a done task reopened
by the office only, with a reason); a task not done past its deadline is overdue. Every change is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.assessment import service
from gep.assessment.models import PilotTask
from gep.errors import N_, Conflict, InputError, NotFound, PermissionDenied, Word
from gep.kit.audit import audit, now
from gep.kit.principal import Principal

STATUSES = {"open": N_("not started"), "in_progress": N_("in progress"), "done": N_("done")}
MOVES = {("open", "in_progress"), ("open", "done"), ("in_progress", "done"), ("in_progress", "open"),
         ("done", "in_progress")}


def can_move(current: str, to: str, office: bool) -> bool:
    """Whether a task may go from one status to another: reopening a done task is the office's alone."""
    if (current, to) not in MOVES:
        return False
    return office or current != "done"


def overdue(status: str, deadline: date, today: date) -> bool:
    return status != "done" and deadline < today


def create(session: Session, title: str, department_code: str, deadline: date, by: Principal, detail: str = "",
           synthetic: bool = False) -> PilotTask:
    by.require(service.MANAGE)
    if department_code not in service.departments(session):
        raise InputError(N_("department {code} does not exist"), code=department_code)
    row = PilotTask(title=title.strip()[:200], detail=detail[:4000], department_code=department_code,
                    deadline=deadline, status="open", note="", created_by=by.user_id, created_at=now(),
                    updated_by=by.user_id, updated_at=now(), synthetic=synthetic)
    session.add(row)
    session.flush()
    audit(session, by, "create", "pilot_task", row.id, title=row.title, department=department_code,
          deadline=deadline.isoformat())
    return row


def move(session: Session, task_id: int, to: str, by: Principal, note: str = "", on: date | None = None
         ) -> PilotTask:
    """Change a task's status (the owner department or the office); reopening a done task needs a note."""
    row = session.get(PilotTask, task_id, with_for_update=True)
    if row is None:
        raise NotFound(N_("task {id} does not exist"), id=task_id)
    office = by.can(service.MANAGE)
    own = service.department_of(session, by)
    if not office and not (by.can(service.SUBMIT) and own is not None and own.code == row.department_code):
        raise PermissionDenied(N_("only the owner department or the assessment office may update task {id}"),
                               id=task_id)
    if to not in STATUSES:
        raise InputError(N_("{value} is not a status; expected one of {expected}"), value=repr(to),
                         expected=", ".join(STATUSES))
    if not can_move(row.status, to, office):
        raise Conflict(N_("task {id} cannot go from {was} to {to}"), id=task_id, was=Word(STATUSES[row.status]),
                       to=Word(STATUSES[to]))
    if row.status == "done" and not note.strip():
        raise InputError(N_("reopening a done task needs a note saying why"))
    was = row.status
    row.status, row.note = to, note.strip()[:2000] or row.note
    row.done_on = (on or now().date()) if to == "done" else None
    row.updated_by, row.updated_at = by.user_id, now()
    audit(session, by, "move", "pilot_task", row.id, was=was, to=to, note=note[:200])
    return row


def tasks(session: Session) -> list[PilotTask]:
    return list(session.scalars(select(PilotTask).order_by(PilotTask.deadline, PilotTask.id)))


def view(row: PilotTask, today: date | None = None) -> dict[str, Any]:
    today = today or now().date()
    return {"id": row.id, "title": row.title, "detail": row.detail, "department": row.department_code,
            "deadline": row.deadline.isoformat(), "status": row.status,
            "done_on": row.done_on.isoformat() if row.done_on else None,
            "late": bool(row.done_on and row.done_on > row.deadline), "note": row.note,
            "overdue": overdue(row.status, row.deadline, today), "updated_at": row.updated_at.isoformat(),
            "synthetic": row.synthetic}
