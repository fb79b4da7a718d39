"""Tables of the ledger: accounts with their balances (kept with every transfer, under a row lock), and the
transfers themselves — append-only: never updated, never deleted."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, Boolean, ColumnElement, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Caller, Scoped, UtcDateTime, own_rows


class LedgerAccount(Scoped, Base):
    """An account: a participant's funds, the escrow, the platform's fees, the bank (the world outside)."""

    __tablename__ = "ledger_account"
    read_all: ClassVar[str] = "ledger.read_all"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)  # "org:12:funds", "platform:escrow"
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # rules.KINDS
    purpose: Mapped[str] = mapped_column(String(40))  # funds, escrow, fees, bank, forfeits, rounding …
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    no_overdraft: Mapped[bool] = mapped_column(Boolean, default=False)
    no_overcredit: Mapped[bool] = mapped_column(Boolean, default=False)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        """One's own accounts (and one's organisation's); the platform's to whoever may read them all."""
        return None if caller.can(cls.read_all) else own_rows(cls, caller)


class LedgerTransfer(Base):
    """One movement of money (or a hold, or the settling of a hold). Never changed once written."""

    __tablename__ = "ledger_transfer"
    __table_args__ = (Index("ix_ledger_transfer_debit", "debit_account_id", "id"),
                      Index("ix_ledger_transfer_credit", "credit_account_id", "id"),
                      Index("ix_ledger_transfer_ref", "ref_type", "ref_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # chosen by the caller: a retry is recognised
    batch: Mapped[str] = mapped_column(String(40))  # transfers posted together, all or none
    kind: Mapped[str] = mapped_column(String(14))  # plain, pending, post_pending, void_pending
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    # the hold this transfer posts or voids: unique, so a hold is settled once even when two requests race
    pending_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transfer.id"), nullable=True, unique=True)
    code: Mapped[str] = mapped_column(String(40))  # why: deposit, settlement, fee, payment_in …
    memo: Mapped[str] = mapped_column(String(300), default="")
    ref_type: Mapped[str] = mapped_column(String(40), default="")
    ref_id: Mapped[str] = mapped_column(String(60), default="")
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
