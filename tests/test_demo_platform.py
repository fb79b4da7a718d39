"""The demo's seeded platform: every yuan the mechanisms moved is in the one ledger, and it balances."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import Demo
from gep.cooperatives.models import Payment, Revenue
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit.principal import SYSTEM
from gep.ledger import rules
from gep.ledger import service as ledger
from gep.ledger.models import LedgerAccount, LedgerTransfer

pytestmark = pytest.mark.slow  # the whole demo, seeded (~45 s): with the browser tests, which build it anyway


def test_the_demo_ledger_balances_and_holds_every_cooperative_payment(demo: Demo, tmp_path: Path) -> None:
    engine = make_engine(demo.copy_database(tmp_path / "gep.db"))
    with unit_of_work(session_factory(engine)) as s:
        sheet = ledger.balance_sheet(s, SYSTEM)
        assert sheet["balanced"] and sheet["debits_fen"] == sheet["credits_fen"] > 0
        paid = s.scalar(select(func.sum(Payment.amount_fen))) or 0
        posted = s.scalar(select(func.sum(LedgerTransfer.amount)).where(LedgerTransfer.code.like("coop_%"),
                                                                        LedgerTransfer.code != "coop_revenue")) or 0
        assert paid > 0 and posted == paid  # each rent, lump sum and share is a transfer, to the fen
        earned = s.scalar(select(func.sum(Revenue.amount_fen)).where(~Revenue.source.like("exchange%"))) or 0
        received = s.scalar(select(func.sum(LedgerTransfer.amount)).where(LedgerTransfer.code == "coop_revenue"))
        assert earned > 0 and received == earned
        holders = list(s.scalars(select(LedgerAccount).where(LedgerAccount.code.like("holder:%"))))
        assert holders and all(rules.to_yuan(a.credits_posted - a.debits_posted) >= 0 for a in holders)
        assert any(a.user_id is not None for a in holders)  # the demo villager sees their own
    engine.dispose()
