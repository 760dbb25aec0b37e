"""ORM models for the whole store: O*NET releases and the analysts' work.

O*NET tables are keyed by release so that several releases can be kept and one is active.
Free-form structures (candidates, context, counts) are JSON columns, which work on SQLite and
Postgres alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------------------------
# O*NET
# --------------------------------------------------------------------------------------------


class OnetRelease(Base):
    """One loaded O*NET release. Exactly one is active at a time."""

    __tablename__ = "onet_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(16), unique=True)  # e.g. "30_1"
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OnetSyncLog(Base):
    """Every attempt to load or sync a release, successful or not."""

    __tablename__ = "onet_sync_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # running | success | failed
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class OnetOccupation(Base):
    __tablename__ = "onet_occupation"
    __table_args__ = (UniqueConstraint("release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")


class OnetAlternateTitle(Base):
    __tablename__ = "onet_alternate_title"
    __table_args__ = (Index("ix_onet_alt_release_code", "release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    short_title: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[str | None] = mapped_column(String(64))


class OnetReportedTitle(Base):
    __tablename__ = "onet_reported_title"
    __table_args__ = (Index("ix_onet_rep_release_code", "release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    shown_in_my_next_move: Mapped[bool] = mapped_column(Boolean, default=False)


class OnetTask(Base):
    __tablename__ = "onet_task"
    __table_args__ = (Index("ix_onet_task_release_code", "release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    task_id: Mapped[int] = mapped_column(Integer)
    task: Mapped[str] = mapped_column(Text)
    task_type: Mapped[str | None] = mapped_column(String(16))  # Core | Supplemental
    incumbents_responding: Mapped[int | None] = mapped_column(Integer)


class OnetElement(Base):
    """Content Model Reference: element id -> name and description."""

    __tablename__ = "onet_element"
    __table_args__ = (UniqueConstraint("release_id", "element_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    element_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")


class OnetRating(Base):
    """A descriptor rating of one occupation.

    ``domain`` says which file it came from: skills, knowledge, work_styles, education,
    interests, work_values. ``category`` is set for the education/training/experience file.
    """

    __tablename__ = "onet_rating"
    __table_args__ = (Index("ix_onet_rating_lookup", "release_id", "code", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    domain: Mapped[str] = mapped_column(String(16))
    element_id: Mapped[str] = mapped_column(String(32))
    element_name: Mapped[str] = mapped_column(Text)
    scale_id: Mapped[str] = mapped_column(String(8))
    category: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(Integer)
    standard_error: Mapped[float | None] = mapped_column(Float)
    lower_ci: Mapped[float | None] = mapped_column(Float)
    upper_ci: Mapped[float | None] = mapped_column(Float)
    recommend_suppress: Mapped[bool | None] = mapped_column(Boolean)
    not_relevant: Mapped[bool | None] = mapped_column(Boolean)
    date: Mapped[str | None] = mapped_column(String(10))
    domain_source: Mapped[str | None] = mapped_column(String(32))


class OnetEducationCategory(Base):
    """Education, Training, and Experience Categories: what category N of a scale means."""

    __tablename__ = "onet_education_category"
    __table_args__ = (UniqueConstraint("release_id", "element_id", "scale_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    element_id: Mapped[str] = mapped_column(String(32))
    element_name: Mapped[str] = mapped_column(Text)
    scale_id: Mapped[str] = mapped_column(String(8))
    category: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)


class OnetJobZone(Base):
    __tablename__ = "onet_job_zone"
    __table_args__ = (UniqueConstraint("release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    job_zone: Mapped[int] = mapped_column(Integer)


class OnetJobZoneReference(Base):
    __tablename__ = "onet_job_zone_reference"
    __table_args__ = (UniqueConstraint("release_id", "job_zone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    job_zone: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    experience: Mapped[str] = mapped_column(Text, default="")
    education: Mapped[str] = mapped_column(Text, default="")
    job_training: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[str] = mapped_column(Text, default="")
    svp_range: Mapped[str] = mapped_column(Text, default="")


class OnetTechnologySkill(Base):
    __tablename__ = "onet_technology_skill"
    __table_args__ = (Index("ix_onet_tech_release_code", "release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    example: Mapped[str] = mapped_column(Text)
    commodity_code: Mapped[str | None] = mapped_column(String(16))
    commodity_title: Mapped[str | None] = mapped_column(Text)
    hot_technology: Mapped[bool] = mapped_column(Boolean, default=False)
    in_demand: Mapped[bool] = mapped_column(Boolean, default=False)


class OnetRelatedOccupation(Base):
    __tablename__ = "onet_related_occupation"
    __table_args__ = (Index("ix_onet_related_release_code", "release_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("onet_release.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    related_code: Mapped[str] = mapped_column(String(10))
    relatedness_tier: Mapped[str | None] = mapped_column(String(32))
    rank: Mapped[int | None] = mapped_column(Integer)


# --------------------------------------------------------------------------------------------
# The analysts' work
# --------------------------------------------------------------------------------------------


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
    # Set when the project is archived: hidden from the project pickers, and only then deletable.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_by: Mapped[str | None] = mapped_column(String(200))

    uploads: Mapped[list[Upload]] = relationship(back_populates="project", cascade="all, delete-orphan")
    roles: Mapped[list[Role]] = relationship(back_populates="project", cascade="all, delete-orphan")


class Upload(Base):
    """One uploaded spreadsheet. The original bytes are kept so rows can be exported later."""

    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    sheet: Mapped[str | None] = mapped_column(String(200))
    header_row: Mapped[int | None] = mapped_column(Integer)  # 1-based row the header was read from
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    title_column: Mapped[str] = mapped_column(String(500))
    # role context column name -> spreadsheet column, e.g. {"job_family": "Family"}
    context_columns: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attribute_columns: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))

    project: Mapped[Project] = relationship(back_populates="uploads")


class Role(Base):
    """A unique role of a project: rows whose titles normalise to the same key."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("project_id", "title_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)  # the original title as first seen
    title_key: Mapped[str] = mapped_column(String(500))  # normalised, drives de-duplication
    row_count: Mapped[int] = mapped_column(Integer, default=1)
    headcount: Mapped[float | None] = mapped_column(Float)
    job_family: Mapped[str | None] = mapped_column(Text)
    job_function: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    unit_group: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)  # any further context
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="roles")
    mapping: Mapped[Mapping | None] = relationship(back_populates="role", uselist=False, cascade="all, delete-orphan")
    attributes: Mapped[list[RoleAttribute]] = relationship(back_populates="role", cascade="all, delete-orphan")


class MappingStatus:
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"  # analyst accepted the proposal unchanged
    OVERRIDDEN = "overridden"  # analyst chose another code
    NEEDS_INFO = "needs_info"
    ALL = (PROPOSED, CONFIRMED, OVERRIDDEN, NEEDS_INFO)
    # Statuses an automatic re-run must never touch.
    ANALYST_OWNED = (CONFIRMED, OVERRIDDEN)


class Mapping(Base):
    """The proposal (and, once reviewed, the decision) for one role."""

    __tablename__ = "mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"), unique=True)
    onet_code: Mapped[str | None] = mapped_column(String(10))
    onet_title: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str] = mapped_column(String(8))  # HIGH | MEDIUM | LOW
    score: Mapped[float] = mapped_column(Float)
    calibrated_score: Mapped[float | None] = mapped_column(Float)
    llm_tier: Mapped[str | None] = mapped_column(String(8))  # the model's own tier, kept raw
    rationale: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))  # precedent | llm | offline | fallback | analyst
    status: Mapped[str] = mapped_column(String(16), default=MappingStatus.PROPOSED, index=True)
    # What was proposed before an analyst changed it (for the calibration view).
    proposed_code: Mapped[str | None] = mapped_column(String(10))
    proposed_tier: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("onet_release.id", ondelete="SET NULL"))
    model_used: Mapped[str | None] = mapped_column(String(100))
    # Raised by every write, so an action can say which state it was based on (optimistic locking).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # True when the current decision came from a bulk action (confirm all HIGH, apply to all matches):
    # such decisions are kept out of calibration and weigh less as evidence for other titles.
    decided_in_bulk: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Last on purpose: the candidates JSON is large, and SQLite reads columns after it through
    # overflow pages on every grid query.
    candidates: Mapped[list[Any]] = mapped_column(default=list)

    role: Mapped[Role] = relationship(back_populates="mapping")


class SourceType:
    """Attribute provenance, highest precedence first."""

    ANALYST = "ANALYST"
    SOURCE = "SOURCE"
    HIERARCHY = "HIERARCHY"
    ONET = "ONET"
    LLM = "LLM"
    PRECEDENCE = (ANALYST, SOURCE, HIERARCHY, ONET, LLM)


class RoleAttribute(Base):
    """One attribute value of a role with where it came from."""

    __tablename__ = "role_attribute"
    __table_args__ = (UniqueConstraint("role_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    rationale: Mapped[str | None] = mapped_column(Text)
    model_used: Mapped[str | None] = mapped_column(String(100))
    donor: Mapped[str | None] = mapped_column(Text)  # role group or O*NET code it was taken from
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # agreement share, proposal flag, errors
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # raised by every write
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    role: Mapped[Role] = relationship(back_populates="attributes")


class RowValueCount(Base):
    """How many rows of one upload hold one value of an attribute column, for one role.

    ``value`` is the cell's text as read (None counts the rows whose cell is empty). A role's
    SOURCE value and its agreement ("3 · 54 of 199 rows") are derived from these counts over all
    of its uploads, so deleting an upload (its counts go with it) leaves the right figures; the
    rows themselves are re-read from ``Upload.content`` for the per-row export.
    """

    __tablename__ = "row_value_count"
    __table_args__ = (Index("ix_row_value_count_role_name", "role_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("upload.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)


class AppUser(Base):
    """A person who works in the store, with their access role (admin / analyst / viewer).

    Named ``app_user`` because ``user`` is a reserved word in Postgres. ``name_key`` is the name
    with spacing and case folded, so "Ada  Lovelace" and "ada lovelace" are one user.
    """

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | analyst | viewer
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))


class ProjectMember(Base):
    """A person who may work in (analyst) or read (viewer) a project; admins see every project.

    Keyed by the user's ``name_key`` rather than a user id, so a project's creator is a member
    even before an admin registers them (a store with one user needs no set-up).
    """

    __tablename__ = "project_member"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    user_name: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    added_by: Mapped[str | None] = mapped_column(String(200))


class SecondOpinionSample(Base):
    """A random sample of a project's decided roles, to be coded again blind by a second analyst.

    ``coder_key`` is the second coder's name key (see ``jobforge.access.users.name_key``). ``seed``
    reproduces the draw; ``population`` is how many roles were eligible and ``excluded`` how many
    were left out and why (decided by the coder, decided in bulk, already sampled).
    """

    __tablename__ = "second_opinion_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    coder: Mapped[str] = mapped_column(String(200))
    coder_key: Mapped[str] = mapped_column(String(200), index=True)
    requested: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    include_bulk: Mapped[bool] = mapped_column(Boolean, default=False)
    population: Mapped[int] = mapped_column(Integer, default=0)
    excluded: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list[SecondOpinionItem]] = relationship(back_populates="sample", cascade="all, delete-orphan")


class SecondOpinionItem(Base):
    """One sampled role: the first decision as it was when sampled, the blind second code, the adjudication.

    ``candidates`` holds the role's candidates as ``{"code", "title"}`` in code order (what the blind
    coder sees). ``second_code`` is None while unanswered and when the coder could not code the role
    (``cannot_code``). ``adjudication`` is "first", "second" or "other" once a third person decided.
    """

    __tablename__ = "second_opinion_item"
    __table_args__ = (UniqueConstraint("sample_id", "role_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("second_opinion_sample.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the coder's queue (the draw's order)
    first_code: Mapped[str] = mapped_column(String(10))
    first_status: Mapped[str] = mapped_column(String(16))
    first_by: Mapped[str | None] = mapped_column(String(200))
    first_in_bulk: Mapped[bool] = mapped_column(Boolean, default=False)
    first_version: Mapped[int] = mapped_column(Integer, default=1)
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    second_code: Mapped[str | None] = mapped_column(String(10))
    cannot_code: Mapped[bool] = mapped_column(Boolean, default=False)
    second_note: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    adjudication: Mapped[str | None] = mapped_column(String(16))  # first | second | other
    adjudicated_code: Mapped[str | None] = mapped_column(String(10))
    adjudicated_by: Mapped[str | None] = mapped_column(String(200))
    adjudicated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    sample: Mapped[SecondOpinionSample] = relationship(back_populates="items")


class Codebook(Base):
    """A file of already-decided titles (title -> occupation codes) imported to teach the mapping.

    The file itself is kept (``content``, ``content_sha256``); ``system`` is the code system the
    codes were read in ("auto" when each was detected). Counts are of the file's rows.
    """

    __tablename__ = "codebook"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(500))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_sha256: Mapped[str] = mapped_column(String(64))
    sheet: Mapped[str | None] = mapped_column(String(200))
    title_column: Mapped[str] = mapped_column(String(500))
    code_column: Mapped[str] = mapped_column(String(500))
    system: Mapped[str] = mapped_column(String(16))
    imported_count: Mapped[int] = mapped_column(Integer, default=0)
    translated_count: Mapped[int] = mapped_column(Integer, default=0)  # codes read through a translation
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)  # rows with an empty title or code
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    imported_by: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    entries: Mapped[list[CodebookEntry]] = relationship(
        back_populates="codebook", cascade="all, delete-orphan", passive_deletes=True
    )


class CodebookEntry(Base):
    """One decided title of a codebook: its codes are O*NET-SOC 2019 codes of the release it was
    imported against (a 2010 code that split keeps every 2019 code)."""

    __tablename__ = "codebook_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("codebook.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)  # the file's row, as a spreadsheet shows it
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(500))  # jobforge.retrieval.normalize.title_key
    codes: Mapped[list[Any]] = mapped_column(default=list)
    written_code: Mapped[str] = mapped_column(String(50))
    translation: Mapped[str] = mapped_column(Text, default="")  # "15-1132 (SOC 2010) → 15-1252.00"

    codebook: Mapped[Codebook] = relationship(back_populates="entries")


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_project_at", "project_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user: Mapped[str] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    entity_type: Mapped[str] = mapped_column(String(32))  # mapping | attribute | project | onet | job
    entity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # its worker hit a store fault and tries again with backoff (error shown)
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_SQL = "status IN ('queued', 'running', 'retrying')"


class Job(Base):
    """Long work (mapping, imputation) run in batches by a worker; progress is committed per batch."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_status_created", "status", "created_at"),
        # One active job per project and kind: a second request gets the running one (migration 0012).
        Index(
            "uq_job_active_kind",
            "project_id",
            "kind",
            unique=True,
            sqlite_where=text(ACTIVE_JOB_SQL),
            postgresql_where=text(ACTIVE_JOB_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # map | impute
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    worker_id: Mapped[str | None] = mapped_column(String(100))
    # A new token at every claim; each batch write checks it, so a worker that lost the job writes nothing.
    lease: Mapped[str | None] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LlmUsage(Base):
    """One LLM call: who, what it cost, how it ended."""

    __tablename__ = "llm_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # mapping | imputation | test
    provider: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(100))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(32))  # ok | error kind
    detail: Mapped[str | None] = mapped_column(Text)


class LlmCache(Base):
    """Answers by request key, so re-running a mapping costs nothing."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    provider: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(100))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LlmBatch(Base):
    """A provider batch-API submission, kept so a large job can resume by batch id."""

    __tablename__ = "llm_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(100))
    batch_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    request_map: Mapped[dict[str, Any]] = mapped_column(default=dict)  # custom id -> role ids
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
