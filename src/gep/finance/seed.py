"""Demo seeding of green finance: a second bank (to show that banks see only their own loans) and loans of every
product, all labelled synthetic — 两山贷 for households by their grade (some with a forest right pledged), the
first 50万元 生态贷 of 大均乡's eco-company on its township's GEP (as in 2021), public-welfare-forest
compensation pledges, forest mortgages (one in default, for the bank to enforce), river-rights and water-take
loans, and tea-trade credit lines from a year of settlement records. Pledged rights are locked in the registry.
The demo villager's household keeps its rights free (the browser test pledges one) and has a disbursed credit
loan of its own."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from gep.auth import service as auth
from gep.auth.models import Organisation, User
from gep.credit import service as credit
from gep.credit.models import CreditEvent, CreditScore, CreditSubject
from gep.db import unit_of_work
from gep.errors import GepError
from gep.finance import service
from gep.finance.models import Collateral, Instalment, Loan
from gep.kit.domain import SeedContext
from gep.kit.principal import SYSTEM, Principal
from gep.ledger import service as ledger
from gep.registry import service as registry
from gep.registry.models import Holder, Lock, Parcel, Right

BANK2 = "中国银行丽水分行（演示）"
GOOD = ("AAA", "AA", "A", "B")


def _bank2(ctx: SeedContext) -> int:
    with unit_of_work(ctx.factory) as s:
        org = s.scalar(select(Organisation).where(Organisation.name == BANK2)) or \
            auth.create_organisation(s, BANK2, "bank", SYSTEM)
        password = secrets.token_urlsafe(12)
        user = s.scalar(select(User).where(User.username == "bank2"))
        if user is None:
            auth.create_user(s, "bank2", password, "bank_officer", SYSTEM, "演示中行信贷员", org.id,
                             roles=ctx.roles or None)
        else:
            auth.set_password(s, user, password, SYSTEM)
        ctx.logins["bank2"] = (password, "a second bank: it sees only its own loans (tea-trade credit)")
        return org.id


def _officer(org_id: int, name: str) -> Principal:
    return Principal(None, name, "bank_officer", org_id, frozenset({service.LEND}), "system", party=name)


def _borrower(s: Any, subject: CreditSubject) -> service.Borrower:
    return service.Borrower(subject.kind, subject.name, subject.user_id, subject.organisation_id, subject)


def _subject_of_org(s: Any, org: Organisation, kind: str, township: str = "", region_id: int | None = None
                    ) -> CreditSubject:
    row = credit.subject_of_party(s, None, org.id)
    if row is not None and row.kind == kind and (row.township_code or not township):
        return row
    return credit.subject(s, kind, f"org:{org.id}:{kind}", org.name, organisation_id=org.id, region_id=region_id,
                          county_code=township[:6], township_code=township, synthetic=True)


def _play(s: Any, loan: Loan, bank: Principal, to: str, paid: int = 0) -> None:
    """Take an applied loan to a later state: approved, disbursed (with `paid` instalments repaid), defaulted."""
    if to == "applied":
        return
    service.approve(s, loan.id, bank)
    if to == "approved":
        return
    service.disburse(s, loan.id, bank, on=service.today() - timedelta(days=31 * (paid + (6 if to == "defaulted"
                                                                                           else 0))))
    if paid or to == "repaid":
        funds = service.borrower_funds(s, loan)
        ledger.payment_in(s, funds, loan.amount_fen + 1_000_000, "演示还款资金（合成）", SYSTEM,
                          key=f"demo-loan-funds:{loan.id}")
        for k in range(paid if to != "repaid" else loan.months):
            service.repay(s, loan.id, SYSTEM, f"demo:{loan.id}:{k}", authorised=True)
    if to == "defaulted":
        for i in s.scalars(select(Instalment).where(Instalment.loan_id == loan.id)):
            i.due_on -= timedelta(days=120)
        s.flush()
        service.declare_default(s, loan.id, bank)


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    bank1_id = orgs.get("丽水农商银行（演示）")
    if region_id is None or bank1_id is None:
        return
    bank2_id = _bank2(ctx)
    bank1, bank2 = _officer(bank1_id, "丽水农商银行（演示）"), _officer(bank2_id, BANK2)
    rng = np.random.default_rng(ctx.seed + 13)
    with unit_of_work(ctx.factory) as s:
        if s.scalar(select(func.count()).select_from(Loan).execution_options(skip_scope=True)):
            ctx.say("finance: there already")
            return
        villager = ctx.shared.get("users", {}).get("villager")
        grades = dict(s.execute(select(CreditScore.subject_id, CreditScore.grade)).all())
        made: dict[str, int] = {}

        def apply(product: str, subject: CreditSubject, rights: list[int], amount_fen: int, months: int,
                  bank: Principal, to: str, paid: int = 0, purpose: str = "") -> Loan | None:
            try:
                loan = service.apply(s, product, bank.organisation_id or 0, amount_fen, months, rights,
                                     purpose or "演示贷款（合成）", SYSTEM, f"demo:{product}:{subject.id}",
                                     borrower=_borrower(s, subject), synthetic=True)
            except GepError as exc:  # a demo borrower the rules refuse is skipped, and said
                ctx.say(f"finance: skipped a demo {product} loan for {subject.name}: {exc}")
                return None
            _play(s, loan, bank, to, paid)
            made[product] = made.get(product, 0) + 1
            return loan

        # households: their rights by kind (free of locks), and their grades
        households = list(s.scalars(select(CreditSubject).where(CreditSubject.kind == "individual",
                                                                CreditSubject.holder_id.is_not(None))
                                    .order_by(CreditSubject.id).execution_options(skip_scope=True)))
        rights_of: dict[int, dict[str, list[int]]] = {}
        rows = s.execute(select(Right.id, Right.holder_id, Parcel.kind).join(Parcel, Parcel.id == Right.parcel_id)
                         .where(Right.active.is_(True), Right.type == "contract"))
        for right_id, holder_id, kind in rows:
            rights_of.setdefault(int(holder_id), {}).setdefault(str(kind), []).append(int(right_id))
        locked = set(s.scalars(select(Lock.right_id)))
        pool = [h for h in households if h.user_id is None and grades.get(h.id) in GOOD]
        rng.shuffle(pool)

        def free(h: CreditSubject, kind: str) -> list[int]:
            return [r for r in rights_of.get(h.holder_id or 0, {}).get(kind, []) if r not in locked]

        plan = ["applied", "applied", "approved", "disbursed", "disbursed", "repaid"]
        k = 0
        for h in pool:
            if k >= len(plan):
                break
            forest = free(h, "forest_land")[:1] if k % 2 else []
            grade = grades.get(h.id)
            amount = {"AAA": 200_000, "AA": 150_000, "A": 80_000, "B": 30_000}[str(grade)] * 100
            if apply("liangshan", h, forest, amount, 12, bank1, plan[k], paid=k % 3, purpose="茶园扩种"):
                locked.update(forest)
                k += 1
        for state, kind_ in (("disbursed", "public_welfare_forest"), ("applied", "public_welfare_forest"),
                             ("disbursed", "public_welfare_forest")):
            for h in pool:
                rights = free(h, kind_)[:1]
                if rights and apply("forest_compensation", h, rights, 1_000_000, 24, bank1, state, paid=2):
                    locked.update(rights)
                    break
        for state in ("applied", "disbursed", "defaulted"):
            for h in pool:
                rights = free(h, "forest_land")[:1]
                if rights and apply("forest_mortgage", h, rights, 500_000, 36, bank1, state, paid=1):
                    locked.update(rights)
                    break
        # the demo villager: a credit loan of their own, repaying; a forest right taken over from a neighbour
        # household (the one they hold is leased to the cooperative) stays free for them to pledge
        if villager is not None:
            me = s.scalar(select(CreditSubject).where(CreditSubject.user_id == villager)
                          .execution_options(skip_scope=True))
            if me is not None and me.holder_id is not None:
                spare = next((r for h in pool if h.village_code[:9] == me.village_code[:9]
                              for r in free(h, "forest_land")), None) or \
                    next((r for h in pool for r in free(h, "forest_land")), None)
                if spare is not None:
                    registry.transfer(s, spare, me.holder_id, SYSTEM, document="演示：林地承包经营权流转（合成）",
                                      authorised=True)
                    locked.add(spare)
            if me is not None:
                apply("liangshan", me, [], 3_000_000, 12, bank1, "disbursed", paid=2, purpose="民宿装修")
        # 大均乡's eco-company: the first 50万元 生态贷 on the township's GEP (2021)
        dajun = s.scalar(select(Organisation).where(Organisation.name == "大均乡两山生态发展公司（演示）")) or \
            auth.create_organisation(s, "大均乡两山生态发展公司（演示）", "village_company", SYSTEM)
        subject = _subject_of_org(s, dajun, "village", "331127201", region_id)
        _grade(s, subject, "P03")
        apply("eco_loan", subject, [], 50_000_000, 60, bank1, "disbursed", paid=3, purpose="大均乡生态旅游开发")
        # river sections and water-take permits: the county collectives and hydropower companies
        for kind_, product, org_kind in (("river_section", "river_rights", "village_company"),
                                         ("water_take_permit", "water_take", "enterprise")):
            done = 0
            for holder in s.scalars(select(Holder).join(Right, Right.holder_id == Holder.id)
                                    .join(Parcel, Parcel.id == Right.parcel_id)
                                    .where(Parcel.kind == kind_, Right.active.is_(True)).distinct()
                                    .order_by(Holder.id).execution_options(skip_scope=True)):
                if done >= 2:
                    break
                org = s.scalar(select(Organisation).where(Organisation.name == holder.name)) or \
                    auth.create_organisation(s, holder.name, org_kind, SYSTEM)
                holder.organisation_id = org.id
                who = _subject_of_org(s, org, "village" if org_kind == "village_company" else "enterprise")
                _grade(s, who, "P02")
                rights = [r for r in s.scalars(select(Right.id).join(Parcel, Parcel.id == Right.parcel_id).where(
                    Right.holder_id == holder.id, Parcel.kind == kind_, Right.active.is_(True)))
                    if r not in locked][:1]
                if not rights:
                    continue
                q = service.quote(s, product, 36, rights, SYSTEM, borrower=_borrower(s, who))["terms"]
                amount = min(q["limit_fen"], 200_000_000) // 10_000 * 10_000
                if amount > 0 and apply(product, who, rights, amount, 36, bank1, ("disbursed", "approved")[done],
                                        paid=2):
                    locked.update(rights)
                    done += 1
        # tea-trade credit (茶商E贷): a year of settlements on the traceability card for three tea farmers of 松阳
        tea = [h for h in pool if h.county_code == "331124"][:3] or pool[:3]
        lines = ["subject,date,amount_yuan,counterpart,reference"]
        for h in tea:
            for d in range(0, 360, 6):
                day = service.today() - timedelta(days=d + 1)
                lines.append(f"{h.code},{day.isoformat()},{rng.integers(800, 6000)}.00,松阳茶叶市场（演示）,"
                             f"TEA-{h.id}-{d}")
        service.import_settlements(s, ("\n".join(lines) + "\n").encode(), "demo-tea-settlements.csv",
                                   Principal(None, BANK2, "bank_officer", bank2_id, frozenset({service.LEND}),
                                             "system"), synthetic=True)
        for n, h in enumerate(tea):
            limit = service.quote(s, "trade_flow", 12, [], SYSTEM, borrower=_borrower(s, h))["terms"]["limit_fen"]
            apply("trade_flow", h, [], limit // 10_000 * 10_000, 12, bank2, ("disbursed", "applied", "repaid")[n],
                  paid=1, purpose="春茶收购")
        pledged = s.scalar(select(func.count()).select_from(Collateral).where(Collateral.state.in_(("pledged",
                                                                                                  "on_sale"))))
        ctx.say("finance: demo loans " + ", ".join(f"{p} {n}" for p, n in sorted(made.items())) +
                f"; {pledged} rights pledged in the registry")


def _grade(s: Any, subject: CreditSubject, indicator: str) -> None:
    """A demo organisation gets accepted positive events (a green certification, a national standardisation
    pilot and one more) so it is graded A of its own."""
    if s.scalar(select(func.count()).select_from(CreditEvent).where(CreditEvent.subject_id == subject.id)):
        return  # graded already
    for code, qty in (("P06", ""), ("P04", "national"), (indicator, "")):
        e = credit.record(s, credit.NewEvent(subject.id, code, service.today() - timedelta(days=100), qty,
                                             "演示记录（合成）"), SYSTEM, authorised=True, synthetic=True)
        credit.review(s, e.id, True, "", SYSTEM, authorised=True)

