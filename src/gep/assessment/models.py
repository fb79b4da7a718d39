"""Tables of the GEP comprehensive assessment: indicator sets as installed (their text's digest), the
departments that provide data (each tied to the organisation whose users submit for it), submitted values with
who and when (a correction is a new row; the newest counts), their imports, score sheets per set, region and
year (a draft until published, then frozen), and the exchange's settled trades tallied per county and year."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, UtcDateTime


class InstalledSet(Base):
    """An indicator set as installed from the sets file; a score sheet names the version and digest it used."""

    __tablename__ = "assessment_set"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Department(Base):
    """A providing department (发改委, 统计局 …); its organisation's users submit its indicators."""

    __tablename__ = "assessment_department"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)


class SubmissionImport(Base):
    __tablename__ = "assessment_import"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_version: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    department_code: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), default="")
    rows: Mapped[int] = mapped_column(Integer)
    stored: Mapped[int] = mapped_column(Integer)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Submission(Base):
    """One value of one indicator for one assessed unit (a county's code or a department's) and year, as
    submitted; a correction is a new row, the newest one counts and the old stay as the record."""

    __tablename__ = "assessment_submission"
    __table_args__ = (Index("ix_assessment_submission_key", "set_version", "year", "unit_code", "indicator"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_version: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(40))
    indicator: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(40))  # Decimal as text
    unit: Mapped[str] = mapped_column(String(30))
    department_code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    import_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_import.id"), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class ScoreSheet(Base):
    """The scores of one set, region and year: per unit the value, points and note of every indicator, the
    first-level subtotals, the total, the rank and the colour with its rule; `inputs_digest` fingerprints the
    values and accounts it was computed from. Published sheets are frozen and public."""

    __tablename__ = "assessment_sheet"
    __table_args__ = (UniqueConstraint("set_version", "region_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_version: Mapped[str] = mapped_column(String(60))
    set_digest: Mapped[str] = mapped_column(String(64))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | published
    body: Mapped[dict] = mapped_column(JSON, default=dict)
    inputs_digest: Mapped[str] = mapped_column(String(64), default="")
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    computed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class SettledTrade(Base):
    """A trade settled on the exchange, as its event told (once per deal): the county's count and amount."""

    __tablename__ = "assessment_trade"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(Integer, unique=True)
    listing: Mapped[str] = mapped_column(String(40))
    county_code: Mapped[str] = mapped_column(String(40), default="")
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")


class InstalledPolicy(Base):
    """A reward policy as installed from the rewards file; a round names the version and digest it used."""

    __tablename__ = "assessment_reward_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(60), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RewardRound(Base):
    """One policy applied to a region's zones for a year within a budget: per zone the basis, the amount wanted
    and the amount paid (a draft until approved; approving posts the payments to the ledger once)."""

    __tablename__ = "assessment_reward_round"
    __table_args__ = (UniqueConstraint("policy_version", "region_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_version: Mapped[str] = mapped_column(String(60))
    policy_digest: Mapped[str] = mapped_column(String(64))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    year: Mapped[int] = mapped_column(Integer)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | approved
    body: Mapped[dict] = mapped_column(JSON, default=dict)
    inputs_digest: Mapped[str] = mapped_column(String(64), default="")
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    computed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    batch_key: Mapped[str] = mapped_column(String(80), default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class ProtectedArea(Base):
    """An area of a kind the negative list names (red line, water source, key function area): its outline in
    WGS84, from an imported file."""

    __tablename__ = "assessment_area"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict] = mapped_column(JSON)
    area_ha: Mapped[float] = mapped_column(Float, default=0.0)
    source: Mapped[str] = mapped_column(Text, default="")
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class ProjectCheck(Base):
    """A proposed project or plan change checked before approval: the negative list's verdict with the rule and
    the areas it touches, and its GEP change by indicator from the base year's accounts; kept with its file."""

    __tablename__ = "assessment_project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # PRJ-YYYY-NNNN
    name: Mapped[str] = mapped_column(String(200))
    proponent: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(10))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    geometry: Mapped[dict] = mapped_column(JSON)
    from_ecosystem: Mapped[str] = mapped_column(String(40))
    to_ecosystem: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[str] = mapped_column(String(20), default="")
    list_version: Mapped[str] = mapped_column(String(60), default="")
    result: Mapped[dict] = mapped_column(JSON, default=dict)  # areas touched, the GEP change
    gep_change_yuan: Mapped[float | None] = mapped_column(Float, nullable=True)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class Publication(Base):
    """An accounting run published (常态化发布): its accounts, reports and method are public from then on, until
    withdrawn. Nothing unpublished is on the public portal."""

    __tablename__ = "assessment_publication"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("accounting_run.id", ondelete="CASCADE"), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    year: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class TenureAudit(Base):
    """A leader's tenure audit (领导干部自然资源资产离任审计): a zone and the two dates of a term, with the assets and
    GEP at both ends, the changes, what fell, and the events in the zone during the term (kept as computed)."""

    __tablename__ = "assessment_tenure_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # AUD-YYYY-NNNN
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    zone_code: Mapped[str] = mapped_column(String(40))
    leader: Mapped[str] = mapped_column(String(200), default="")
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date] = mapped_column(Date)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class PilotTask(Base):
    """A task of the pilot work (推进机制): its owner department, deadline and status; every change is audited."""

    __tablename__ = "assessment_task"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    department_code: Mapped[str] = mapped_column(String(40))
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | in_progress | done
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
