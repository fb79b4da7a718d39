"""Certificates the platform issued (the register a verifier asks about revocation) and its public keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, UtcDateTime


class SigningKey(Base):
    """A public key the platform signed with (kept after the key is replaced: old certificates still verify)."""

    __tablename__ = "certificate_key"
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # raw Ed25519, 32 bytes
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Certificate(Base):
    """One issued certificate: the signed document exactly as issued, and whether it was revoked."""

    __tablename__ = "certificate"
    __table_args__ = (Index("ix_certificate_subject", "subject_ref", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_ref: Mapped[str] = mapped_column(String(80))  # what it certifies, e.g. "exchange_deal:12"
    title: Mapped[str] = mapped_column(String(300))
    document: Mapped[str] = mapped_column(Text)  # the signed JSON document
    digest: Mapped[str] = mapped_column(String(64))
    party_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # who may download it
    party_org_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_reason: Mapped[str] = mapped_column(String(500), default="")
    revoked_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
