"""The JSON API of responsibility tracking: the pilot's tasks, set by the office, moved by their owners."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from gep.assessment import pilot_tasks as tasks
from gep.assessment import service
from gep.assessment.api import Reader
from gep.kit.principal import Principal
from gep.kit.web.deps import Code, Db, Id, LongText, Name, needs
from gep.kit.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/assessment/tasks", tags=["assessment"], responses=ERROR_RESPONSES)
Office = Annotated[Principal, Depends(needs(service.MANAGE))]


class TaskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Name
    department: Code
    deadline: date
    detail: LongText = ""


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Code
    note: LongText = ""


@router.get("", summary="The pilot's tasks with owner, deadline, status and whether they are overdue")
def list_tasks(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [tasks.view(t) for t in tasks.tasks(db)]


@router.post("", status_code=201, summary="Set a task for a department")
def create(body: TaskBody, db: Db, caller: Office) -> dict[str, Any]:
    return tasks.view(tasks.create(db, body.title, body.department, body.deadline, caller, body.detail))


@router.post("/{task_id}/status", summary="Move a task (its owner department or the office)")
def move(task_id: Id, body: MoveBody, db: Db, caller: Reader) -> dict[str, Any]:
    return tasks.view(tasks.move(db, task_id, body.status, caller, body.note))
