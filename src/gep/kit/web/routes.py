"""The kit's own routes: the notification inbox, background tasks and the audit log for administrators, the
pages' words for their scripts, the CJK web font, and a health check for the operator."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, text

from gep.kit import notify, tasks
from gep.kit.audit import AuditEntry, audit
from gep.kit.i18n import LANGUAGES
from gep.kit.principal import Principal
from gep.kit.web import fonts
from gep.kit.web.deps import Caller, Db, Id, Limit, RowId, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.kit.web.pages import render

TASKS = "kit.tasks.manage"
AUDIT = "kit.audit.read"

api = APIRouter(prefix="/api", tags=["platform"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)
assets = APIRouter(include_in_schema=False)


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    link: str
    created_at: datetime
    read_at: datetime | None


class Unread(BaseModel):
    unread: int


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[RowId] | None = None


class Marked(BaseModel):
    marked: int


class TaskOut(BaseModel):
    id: int
    kind: str
    key: str | None
    status: str
    attempts: int
    max_attempts: int
    due_at: datetime
    last_error: str
    traceback: str
    created_at: datetime
    finished_at: datetime | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    user_id: int | None
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any]


class Health(BaseModel):
    status: str
    database: str
    tasks: dict[str, int]


def _user(caller: Principal) -> int:
    return caller.user_id if caller.user_id is not None else -1


@api.get("/notifications")
def list_notifications(request: Request, caller: Caller, db: Db, unread: bool = False,
                       limit: Limit = 50) -> list[NotificationOut]:
    """The caller's notifications, newest first, in the caller's language."""
    catalogues = request.app.state.platform.catalogues
    lang = lang_of(request)
    return [NotificationOut(id=n.id, kind=n.kind, title=catalogues.translate(n.title, lang, **(n.params or {})),
                            link=n.link, created_at=n.created_at, read_at=n.read_at)
            for n in notify.inbox(db, _user(caller), unread, limit)]


@api.get("/notifications/unread")
def unread_count(caller: Caller, db: Db) -> Unread:
    return Unread(unread=notify.unread(db, _user(caller)))


@api.post("/notifications/read")
def mark_read(body: MarkRead, caller: Caller, db: Db) -> Marked:
    """Mark the given notifications (or, without ids, all of them) read."""
    return Marked(marked=notify.mark_read(db, _user(caller), body.ids))


Tasker = Annotated[Principal, Depends(needs(TASKS))]


def _task_out(t: tasks.Task) -> TaskOut:
    return TaskOut(id=t.id, kind=t.kind, key=t.key, status=t.status, attempts=t.attempts, max_attempts=t.max_attempts,
                   due_at=t.due_at, last_error=t.last_error, traceback=t.traceback, created_at=t.created_at,
                   finished_at=t.finished_at)


@api.get("/tasks")
def list_tasks(caller: Tasker, db: Db, status: Annotated[str, Query(pattern="^(pending|running|done|dead|cancelled)$")]
               = "dead", limit: Limit = 100) -> list[TaskOut]:
    """Background tasks in one state (the dead-letter list by default), newest first."""
    q = select(tasks.Task).where(tasks.Task.status == status).order_by(tasks.Task.id.desc()).limit(limit)
    return [_task_out(t) for t in db.scalars(q)]


@api.get("/tasks/counts")
def task_counts(caller: Tasker, db: Db) -> dict[str, int]:
    return tasks.counts(db)


@api.post("/tasks/{task_id}/retry")
def retry_task(task_id: Id, caller: Tasker, db: Db) -> TaskOut:
    """Queue a dead or cancelled task again with a fresh count of attempts."""
    task = tasks.retry(db, task_id)
    audit(db, caller, "retry", "task", task_id, kind=task.kind)
    return _task_out(task)


@api.get("/audit")
def audit_log(caller: Annotated[Principal, Depends(needs(AUDIT))], db: Db, limit: Limit = 100) -> list[AuditOut]:
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditOut(id=a.id, at=a.at, user_id=a.user_id, action=a.action, entity=a.entity, entity_id=a.entity_id,
                     detail=a.detail or {}) for a in rows]


@api.get("/health", tags=["platform"])
def health(db: Db) -> Health:
    """For the operator's monitoring: the database answers, and how many tasks wait, run or died."""
    db.execute(text("SELECT 1"))
    return Health(status="ok", database=db.get_bind().dialect.name, tasks=tasks.counts(db))


@pages.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, caller: Caller) -> Response:
    return render(request, "notifications.html.j2", caller)


@pages.get("/admin/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, caller: Tasker) -> Response:
    return render(request, "tasks.html.j2", caller)


@assets.get("/i18n/{lang}.js")
def words_script(lang: str, request: Request) -> Response:
    """The words of a language for the pages' scripts (cached; the URL changes when the words do)."""
    words = request.app.state.platform.catalogues.words(lang if lang in LANGUAGES else "zh")
    body = "window.GEP_WORDS = " + json.dumps(words, ensure_ascii=False, sort_keys=True) + ";\n"
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})


@assets.get("/fonts/cjk.css")
def font_css() -> Response:
    return Response(fonts.stylesheet(), media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=86400"})


@assets.get("/fonts/cjk-{name}.woff")
def font_slice(name: str, request: Request) -> FileResponse:
    path = fonts.slice_file(request.app.state.settings.cache_dir, name)
    return FileResponse(path, media_type="font/woff", headers={"Cache-Control": "public, max-age=31536000"})
