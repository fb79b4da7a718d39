"""Tables of green finance: loans (an application to a bank through to repayment or enforcement, with the terms
the rules computed), the rights pledged for them, their instalments, every step of every loan, and the settled
trade records that size a trade-flow credit line (with the files they came from)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Caller, Scoped, UtcDateTime


class Loan(Scoped, Base):
    """A loan from its application: a bank sees its own, a borrower theirs, the supervisor every one."""

    __tablename__ = "finance_loan"
    __table_args__ = (Index("ix_finance_loan_bank", "bank_org_id", "state"),
                      Index("ix_finance_loan_borrower", "borrower_user_id", "borrower_org_id"))
    read_all: ClassVar[str] = "finance.read_all"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # the application's idempotency key
    product: Mapped[str] = mapped_column(String(40))
    bank_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    bank_name: Mapped[str] = mapped_column(String(200))
    borrower_kind: Mapped[str] = mapped_column(String(20))
    borrower_subject_id: Mapped[int | None] = mapped_column(ForeignKey("credit_subject.id"), nullable=True)
    borrower_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    borrower_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    borrower_name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(40), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # asked for; the approved amount once approved
    months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(300), default="")
    grade: Mapped[str] = mapped_column(String(4), default="")  # the borrower's grade when the terms were computed
    limit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    terms: Mapped[dict] = mapped_column(JSON, default=dict)  # reasons, problems, values, as computed
    state: Mapped[str] = mapped_column(String(12), default="applied")  # rules.STATES
    reason: Mapped[str] = mapped_column(String(500), default="")
    principal_account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    borrower_account_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    disbursed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        if caller.can(cls.read_all):
            return None
        mine = []
        if caller.organisation_id is not None:
            mine += [cls.bank_org_id == caller.organisation_id, cls.borrower_org_id == caller.organisation_id]
        if caller.user_id is not None:
            mine.append(cls.borrower_user_id == caller.user_id)
        return or_(*mine) if mine else false()


class Collateral(Base):
    """A right pledged for a loan: proposed with the application, locked in the registry on approval, released
    on repayment, or sold on the exchange when the loan is enforced."""

    __tablename__ = "finance_collateral"
    __table_args__ = (UniqueConstraint("loan_id", "right_id"), Index("ix_finance_collateral_right", "right_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("finance_loan.id"))
    right_id: Mapped[int] = mapped_column(Integer)
    parcel_id: Mapped[int] = mapped_column(Integer)
    parcel_kind: Mapped[str] = mapped_column(String(30))
    value_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    appraisal_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lock_id: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(12), default="proposed")  # proposed, pledged, released, on_sale, sold
    proceeds_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Instalment(Base):
    """One instalment of a disbursed loan: principal and interest due on a day, and what was paid."""

    __tablename__ = "finance_instalment"
    __table_args__ = (UniqueConstraint("loan_id", "n"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("finance_loan.id"))
    n: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    paid_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="due")  # due, paid, written_off


class LoanStep(Base):
    """Every step of every loan, never edited: who moved it from which state to which, and why."""

    __tablename__ = "finance_loan_step"
    __table_args__ = (Index("ix_finance_loan_step_loan", "loan_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("finance_loan.id"))
    verb: Mapped[str] = mapped_column(String(20))
    before: Mapped[str] = mapped_column(String(12), default="")
    after: Mapped[str] = mapped_column(String(12))
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class SettlementRecord(Base):
    """A settled sale of a borrower's (a tea farmer's card, a trader's market settlement): what a trade-flow
    credit line is sized from."""

    __tablename__ = "finance_settlement"
    __table_args__ = (UniqueConstraint("subject_id", "reference"),
                      Index("ix_finance_settlement_on", "subject_id", "on"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"))
    on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    counterpart: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(120))
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class SettlementImport(Base):
    __tablename__ = "finance_settlement_import"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    recorded: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
