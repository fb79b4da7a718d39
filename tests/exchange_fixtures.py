"""A small exchange to trade on: the tiny region with its accounts, a registry with a few rights, the categories,
and the people of a trade — a villager and a cooperative selling, three enterprises bidding, an exchange
officer, a finance clerk — with money paid in for the bidders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import or_, update

from conftest import PASSWORD
from gep.app import Settings, build_platform, create_app
from gep.auth import service as auth
from gep.db import unit_of_work
from gep.exchange import categories
from gep.exchange.models import Deal, Listing
from gep.kit.audit import now
from gep.kit.principal import SYSTEM, Principal
from gep.kit.tasks import PENDING, Task
from gep.kit.worker import Worker
from gep.ledger import service as ledger
from gep.registry import service as registry
from registry_fixtures import CLERK, Platform, build, one_parcel, pixel_box

USERS = (("seller", "villager", None), ("coop", "cooperative_manager", "甲合作社"),
         ("e1", "enterprise_user", "甲企业"), ("e2", "enterprise_user", "乙企业"), ("e3", "enterprise_user", "丙企业"),
         ("officer", "exchange_officer", "交易中心"), ("finance", "finance_clerk", "交易中心"),
         ("admin", "admin", None), ("viewer", "viewer", None), ("banker", "bank_officer", "某银行"))
FUNDS_YUAN = {"e1": 2_000_000, "e2": 2_000_000, "e3": 2_000_000, "coop": 100_000}


@dataclass
class World:
    platform: Platform
    tmp: Path
    ids: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    rights: dict[str, int] = field(default_factory=dict)

    def principal(self, name: str) -> Principal:
        """A user as the services see them (all permissions: the routes' checks are tested through the API)."""
        org = self.orgs.get(dict((u, o) for u, _r, o in USERS)[name] or "")
        return Principal(self.ids[name], name, "test", org, frozenset({"*"}), "system",
                         party=dict((u, o) for u, _r, o in USERS)[name] or name)


def make_world(url: str, tmp: Path) -> World:
    p = build(url, tmp)
    w = World(p, tmp)
    roles = build_platform().roles
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        for org in sorted({o for _u, _r, o in USERS if o}):
            w.orgs[org] = auth.create_organisation(s, org, "enterprise", SYSTEM).id
        for name, role, org in USERS:
            w.ids[name] = auth.create_user(s, name, PASSWORD, role, SYSTEM, organisation_id=w.orgs.get(org or ""),
                                           roles=roles).id
        categories.seed(s)
        # short periods for the tests: a second of notice, a minute of bidding, an hour to sign and to pay
        for c in categories.all_categories(s):
            categories.update(s, c.code, {"announce_s": 1, "bidding_s": 60, "contract_s": 3600, "settle_s": 3600},
                              SYSTEM)
    for k, (box_, name) in enumerate([((0, 2, 0, 2), "张三"), ((0, 2, 2, 4), "李四"), ((3, 5, 4, 6), "王五"),
                                      ((3, 5, 6, 8), "赵六")]):
        _, w.rights[name] = one_parcel(p, pixel_box(*box_), f"F{k}", holder_name=name)
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        for right_name, user in (("张三", "seller"), ("李四", "seller")):
            holder = registry.get_right(s, w.rights[right_name]).holder_id
            registry.link_user(s, holder, w.ids[user], CLERK)
        for user, yuan in FUNDS_YUAN.items():
            ledger.payment_in(s, ledger.funds_of_caller(s, w.principal(user)), yuan * 100, "test funds", SYSTEM,
                              key=f"funds:{user}")
    return w


def client_of(w: World, job_mode: str = "queue") -> Iterator[TestClient]:
    app = create_app(Settings(database_url=w.platform.url, data_dir=w.tmp / "data", job_mode=job_mode))
    with TestClient(app) as c:
        yield c


_tokens: dict[tuple[str, str], dict[str, str]] = {}


def h(client: TestClient, user: str) -> dict[str, str]:
    key = (str(client.app.state.settings.database_url), user)  # type: ignore[attr-defined]
    if key not in _tokens:
        r = client.post("/api/auth/tokens", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        _tokens[key] = {"Authorization": f"Bearer {r.json()['token']}", "Accept-Language": "en"}
    return _tokens[key]


def drain(client: TestClient) -> int:
    """Run every task that is due now (timers, event deliveries), as the worker would."""
    app: Any = client.app
    return Worker(app.state.platform, app.state.factory, {"data_dir": app.state.settings.data_dir}).drain()


def travel(client: TestClient, listing_id: int, opens_in_s: float | None = None, closes_in_s: float | None = None,
           deal_due_in_s: float | None = None) -> None:
    """Move a listing's times (the clock of a test): bidding opened already, or closing now; a deadline passed."""
    app: Any = client.app
    at = now()
    values: dict[str, datetime] = {}
    if opens_in_s is not None:
        values["opens_at"] = at + timedelta(seconds=opens_in_s)
    if closes_in_s is not None:
        values["closes_at"] = at + timedelta(seconds=closes_in_s)
    with unit_of_work(app.state.factory) as s:
        if values:
            s.execute(update(Listing).where(Listing.id == listing_id).values(**values))
        if deal_due_in_s is not None:
            due = at + timedelta(seconds=deal_due_in_s)
            s.execute(update(Deal).where(Deal.listing_id == listing_id).values(contract_due=due))
            s.execute(update(Deal).where(Deal.listing_id == listing_id, Deal.settle_due.is_not(None))
                      .values(settle_due=due))
        # the timers of this listing fire now (their times moved with the listing)
        s.execute(update(Task).where(Task.status == PENDING, or_(Task.key == f"exchange:open:{listing_id}",
                                                                 Task.key.like(f"exchange:close:{listing_id}:%")))
                  .values(due_at=at - timedelta(seconds=1)))
        if deal_due_in_s is not None:
            deal_ids = [d.id for d in s.query(Deal).filter(Deal.listing_id == listing_id)]
            for d in deal_ids:
                s.execute(update(Task).where(Task.status == PENDING, Task.key.like(f"exchange:deadline:{d}:%"))
                          .values(due_at=at - timedelta(seconds=1)))


def money(client: TestClient, user: str) -> dict[str, str]:
    """The user's funds account: balance, held, available (yuan strings)."""
    accounts = client.get("/api/ledger/accounts", headers=h(client, user)).json()
    return next(a for a in accounts if a["purpose"] == "funds")
