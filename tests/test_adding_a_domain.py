"""Adding a mechanism is one new folder and one line: shown with a throwaway domain built in a temporary folder.

The package has one model (scoped to organisations), one API route, one page, one permission, one word (with
its Chinese translation), one event handler, one timer and one migration. Added to the domain list, the app
serves it, the migrations create its table, its nav entry shows for the role granted its permission, its
event and timer run on the worker, another organisation's user gets 404, and the import contracts accept it.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD
from gep.app import DOMAINS, Settings, create_app
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit.principal import SYSTEM
from gep.kit.worker import Worker
from gep.migrations import upgrade

FILES = {
    "__init__.py": '''
        """A throwaway mechanism: things that expire."""
        from pathlib import Path

        from gep.kit.domain import Domain, EventHandler, NavEntry, TaskKind
        from throwaway import api, models, service

        domain = Domain(
            name="throwaway", title="Things", root=Path(__file__).resolve().parent, models=models,
            routers=(api.router, api.pages),
            permissions={service.WRITE: "make things", service.READ_ALL: "see every organisation's things"},
            grants={"analyst": {service.WRITE}},
            nav=(NavEntry("/things", "Things", service.WRITE, order=50),),
            tasks=(TaskKind(service.EXPIRE, service.expire),),
            handlers=(EventHandler(service.CREATED, service.tell_creator),),
        )
    ''',
    "models.py": '''
        from sqlalchemy import Boolean, ForeignKey, Integer, String
        from sqlalchemy.orm import Mapped, mapped_column

        from gep.db import Base, Scoped


        class Thing(Scoped, Base):
            __tablename__ = "throwaway_thing"
            read_all = "throwaway.read_all"
            id: Mapped[int] = mapped_column(Integer, primary_key=True)
            organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
            created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
            name: Mapped[str] = mapped_column(String(80))
            expired: Mapped[bool] = mapped_column(Boolean, default=False)
    ''',
    "rules.py": '''
        def valid_name(name: str) -> bool:
            return 0 < len(name.strip()) <= 80
    ''',
    "service.py": '''
        from gep.errors import InputError, NotFound
        from gep.kit import events, tasks
        from gep.kit.notify import notify
        from throwaway import rules
        from throwaway.models import Thing

        WRITE, READ_ALL = "throwaway.write", "throwaway.read_all"
        CREATED, EXPIRE = "throwaway.created", "throwaway.expire"


        def create(session, name, by):
            by.require(WRITE)
            if not rules.valid_name(name):
                raise InputError("a thing needs a name")
            thing = Thing(name=name, organisation_id=by.organisation_id, created_by=by.user_id, expired=False)
            session.add(thing)
            session.flush()
            events.record(session, CREATED, thing_id=thing.id)
            tasks.schedule(session, EXPIRE, payload={"thing_id": thing.id}, key=f"expire:{thing.id}")
            return thing


        def get(session, thing_id):
            thing = session.get(Thing, thing_id)
            if thing is None:
                raise NotFound("thing {id} does not exist", id=thing_id)
            return thing


        def expire(ctx):
            ctx.db.get(Thing, ctx.payload["thing_id"]).expired = True


        def tell_creator(session, event):
            thing = session.get(Thing, event.payload["thing_id"])
            notify(session, thing.created_by, "Thing {name} created", link="/things", name=thing.name)
    ''',
    "api.py": '''
        from typing import Annotated

        from fastapi import APIRouter, Depends, Request
        from pydantic import BaseModel

        from gep.kit.principal import Principal
        from gep.kit.web.deps import Caller, Db, Id, needs
        from gep.kit.web.pages import render
        from throwaway import service

        router = APIRouter(prefix="/api")
        pages = APIRouter(include_in_schema=False)


        class NewThing(BaseModel):
            name: str


        def out(thing):
            return {"id": thing.id, "name": thing.name, "expired": thing.expired}


        @router.post("/things", status_code=201)
        def create(body: NewThing, caller: Annotated[Principal, Depends(needs(service.WRITE))], db: Db) -> dict:
            return out(service.create(db, body.name, caller))


        @router.get("/things/{thing_id}")
        def get(thing_id: Id, caller: Caller, db: Db) -> dict:
            return out(service.get(db, thing_id))


        @pages.get("/things")
        def page(request: Request, caller: Annotated[Principal, Depends(needs(service.WRITE))]):
            return render(request, "throwaway/things.html.j2", caller)
    ''',
    "templates/things.html.j2": '''
        {% extends "base.html.j2" %}
        {% block main %}<h1 id="things-title">{{ _("Things") }}</h1>{% endblock %}
    ''',
    "locale/zh/LC_MESSAGES/messages.po": '''
        msgid ""
        msgstr ""
        "Content-Type: text/plain; charset=UTF-8\\\\n"

        msgid "Things"
        msgstr "物件"

        msgid "Thing {name} created"
        msgstr "物件 {name} 已创建"
    ''',
    "migrations/tw0001_things.py": '''
        """throwaway: things"""
        import sqlalchemy as sa
        from alembic import op

        revision = "tw0001"
        down_revision = None
        branch_labels = ("throwaway",)
        depends_on = "0002"


        def upgrade():
            op.create_table(
                "throwaway_thing",
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("organisation_id", sa.Integer(), nullable=True),
                sa.Column("created_by", sa.Integer(), nullable=True),
                sa.Column("name", sa.String(length=80), nullable=False),
                sa.Column("expired", sa.Boolean(), nullable=False),
                sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                        name=op.f("fk_throwaway_thing_organisation_id")),
                sa.PrimaryKeyConstraint("id", name=op.f("pk_throwaway_thing")),
            )


        def downgrade():
            op.drop_table("throwaway_thing")
    ''',
}


@pytest.fixture(scope="module")
def throwaway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    root = tmp_path_factory.mktemp("domains")
    for name, text in FILES.items():
        path = root / "throwaway" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip().replace("\\\\n", "\\n"), encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        import throwaway

        yield throwaway.domain
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def app_client(throwaway: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    domains = (*DOMAINS, throwaway)
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gep.db'}"
    upgrade(url, domains=domains)  # type: ignore[arg-type]
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        a = auth.create_organisation(s, "甲县", "government", SYSTEM)
        b = auth.create_organisation(s, "乙县", "government", SYSTEM)
        auth.create_user(s, "maker", PASSWORD, "analyst", SYSTEM, organisation_id=a.id)
        auth.create_user(s, "reader", PASSWORD, "viewer", SYSTEM, organisation_id=a.id)
        auth.create_user(s, "stranger", PASSWORD, "analyst", SYSTEM, organisation_id=b.id)
    engine.dispose()
    app = create_app(Settings(database_url=url, data_dir=tmp_path_factory.mktemp("data"), job_mode="queue"),
                     domains=domains)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client


def _bearer(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/auth/tokens", json={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _page_as(client: TestClient, user: str, path: str) -> str:
    client.cookies.clear()
    assert client.post("/api/auth/login", json={"username": user, "password": PASSWORD}).status_code == 200
    page = client.get(path, headers={"Accept": "text/html"})
    client.cookies.clear()
    return page.text if page.status_code == 200 else f"status {page.status_code}"


def test_migrations_create_its_table_and_agree_with_its_model(app_client: TestClient) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from gep.db import Base

    engine = app_client.app.state.engine  # type: ignore[attr-defined]
    assert "throwaway_thing" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_its_page_and_word_are_served_and_its_nav_entry_shows_for_the_granted_role(app_client: TestClient) -> None:
    page = _page_as(app_client, "maker", "/things")
    assert '<h1 id="things-title">物件</h1>' in page  # its own catalogue, Chinese by default
    assert 'href="/things"' in page
    assert 'href="/things"' not in _page_as(app_client, "reader", "/runs")
    assert _page_as(app_client, "reader", "/things") == "status 403"


def test_its_event_and_timer_run_on_the_worker(app_client: TestClient) -> None:
    maker = _bearer(app_client, "maker")
    made = app_client.post("/api/things", json={"name": "水车"}, headers=maker)
    assert made.status_code == 201, made.text
    assert made.json()["expired"] is False
    state = app_client.app.state  # type: ignore[attr-defined]
    Worker(state.platform, state.factory).drain()
    thing = app_client.get(f"/api/things/{made.json()['id']}", headers=maker).json()
    assert thing["expired"] is True  # the timer ran
    inbox = app_client.get("/api/notifications", headers={**maker, "Accept-Language": "zh"}).json()
    assert inbox[0]["title"] == "物件 水车 已创建"  # the event handler ran, in the domain's words


def test_another_organisations_user_gets_404(app_client: TestClient) -> None:
    made = app_client.post("/api/things", json={"name": "磨坊"}, headers=_bearer(app_client, "maker")).json()
    assert app_client.get(f"/api/things/{made['id']}", headers=_bearer(app_client, "stranger")).status_code == 404
    assert app_client.get(f"/api/things/{made['id']}", headers=_bearer(app_client, "reader")).status_code == 200


def test_the_import_contracts_accept_it(throwaway: object) -> None:
    from gep.contracts import check

    assert check((*DOMAINS, throwaway))  # type: ignore[arg-type]


def test_the_contracts_refuse_a_domain_whose_rules_import_the_database(throwaway: object, tmp_path: Path) -> None:
    from gep.contracts import check

    rules = Path(throwaway.root) / "rules.py"  # type: ignore[attr-defined]
    original = rules.read_text()
    rules.write_text("import sqlalchemy  # noqa: F401\n" + original)
    try:
        assert not check((*DOMAINS, throwaway))  # type: ignore[arg-type]
    finally:
        rules.write_text(original)
