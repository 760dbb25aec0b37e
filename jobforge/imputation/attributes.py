"""The attribute model: which attributes a project has, each role's current values, and precedence.

A role has at most one ``RoleAttribute`` row per attribute name. Its ``source_type`` says where the
value came from, highest precedence first: ANALYST > SOURCE > HIERARCHY > ONET > LLM. A step that
computes values of one source may replace values of the same or a lower source only, so re-running
the pipeline refreshes what it computed before and never touches what an analyst typed or what the
uploaded file said. A row whose value is empty (a failed LLM attempt, a retracted inheritance) is an
empty cell whatever its source.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from jobforge.db.models import Role, RoleAttribute, SourceType, Upload, utcnow

PRECEDENCE_RANK: dict[str, int] = {source: rank for rank, source in enumerate(SourceType.PRECEDENCE)}
EMPTY_RANK = len(SourceType.PRECEDENCE)  # an empty cell ranks below every source
# Values computed by the pipeline; ANALYST and SOURCE are facts it never recomputes.
COMPUTED_SOURCES = (SourceType.HIERARCHY, SourceType.ONET, SourceType.LLM)


def is_empty_value(value: str | None) -> bool:
    return value is None or not str(value).strip()


def has_value(attribute: RoleAttribute | None) -> bool:
    return attribute is not None and not is_empty_value(attribute.value)


def rank_of(attribute: RoleAttribute | None) -> int:
    """Lower is stronger; an empty cell (no row, or a row without a value) ranks last."""
    if not has_value(attribute) or attribute.source_type not in PRECEDENCE_RANK:
        return EMPTY_RANK
    return PRECEDENCE_RANK[attribute.source_type]


def can_replace(current: RoleAttribute | None, new_source: str) -> bool:
    """A value of ``new_source`` may replace ``current`` when current is empty or not stronger."""
    return rank_of(current) >= PRECEDENCE_RANK[new_source]


def is_protected(attribute: RoleAttribute | None) -> bool:
    """ANALYST and SOURCE values are never recomputed."""
    return has_value(attribute) and attribute.source_type in (SourceType.ANALYST, SourceType.SOURCE)


def project_attribute_names(session: Session, project_id: int) -> list[str]:
    """The union of the project's uploads' attribute columns, in upload order, without duplicates.

    Names that only exist as stored values (an attribute added by an analyst) are appended.
    """
    names: list[str] = []
    seen: set[str] = set()
    uploads = session.scalars(select(Upload).where(Upload.project_id == project_id).order_by(Upload.id))
    for upload in uploads:
        for name in upload.attribute_columns or []:
            if name and str(name) not in seen:
                seen.add(str(name))
                names.append(str(name))
    stored = session.scalars(
        select(RoleAttribute.name).join(Role).where(Role.project_id == project_id).distinct()
    ).all()
    names.extend(sorted(name for name in stored if name not in seen))
    return names


def project_role_ids(session: Session, project_id: int) -> list[int]:
    return list(session.scalars(select(Role.id).where(Role.project_id == project_id).order_by(Role.id)))


def source_counts(session: Session, project_id: int) -> list[tuple[str, str | None, int]]:
    """(attribute, source type, non-empty cells) for a project: where its values come from."""
    return [
        (name, source, int(count))
        for name, source, count in session.execute(
            select(RoleAttribute.name, RoleAttribute.source_type, func.count())
            .join(Role, Role.id == RoleAttribute.role_id)
            .where(Role.project_id == project_id, func.coalesce(RoleAttribute.value, "") != "")
            .group_by(RoleAttribute.name, RoleAttribute.source_type)
        ).all()
    ]


def attributes_by_role(
    session: Session, role_ids: Iterable[int], refresh: bool = False, lock: bool = False
) -> dict[int, dict[str, RoleAttribute]]:
    """role id -> attribute name -> its row (only existing rows).

    ``refresh`` re-reads rows already in the session (to see another session's committed change);
    ``lock`` row-locks them until the caller's write transaction ends (Postgres; SQLite's BEGIN
    IMMEDIATE already holds the store).
    """
    ids = list(role_ids)
    found: dict[int, dict[str, RoleAttribute]] = {role_id: {} for role_id in ids}
    for start in range(0, len(ids), 500):  # keep IN lists short for both stores
        query = select(RoleAttribute).where(RoleAttribute.role_id.in_(ids[start : start + 500]))
        if refresh:
            query = query.execution_options(populate_existing=True)
        if lock:
            query = query.with_for_update()
        rows = session.scalars(query)
        for row in rows:
            found[row.role_id][row.name] = row
    return found


def current_values(session: Session, project_id: int) -> dict[int, dict[str, str | None]]:
    """role id -> attribute name -> current value (None when empty) for every project attribute."""
    names = project_attribute_names(session, project_id)
    rows = attributes_by_role(session, project_role_ids(session, project_id))
    return {
        role_id: {name: (attrs[name].value if has_value(attrs.get(name)) else None) for name in names}
        for role_id, attrs in rows.items()
    }


def snapshot(attribute: RoleAttribute | None) -> dict[str, Any] | None:
    """The provenance of a value as a plain dict (for the audit log and for undoing an override)."""
    if attribute is None:
        return None
    return {
        "name": attribute.name,
        "value": attribute.value,
        "source_type": attribute.source_type,
        "confidence": attribute.confidence,
        "rationale": attribute.rationale,
        "model_used": attribute.model_used,
        "donor": attribute.donor,
        "details": dict(attribute.details or {}),
        "updated_by": attribute.updated_by,
        "updated_at": attribute.updated_at.isoformat() if isinstance(attribute.updated_at, datetime) else None,
    }


def write_value(
    session: Session,
    role_id: int,
    name: str,
    current: RoleAttribute | None,
    *,
    value: str | None,
    source_type: str | None,
    confidence: float | None = None,
    rationale: str | None = None,
    model_used: str | None = None,
    donor: str | None = None,
    details: dict[str, Any] | None = None,
    updated_by: str | None = None,
    add: bool = True,
) -> tuple[RoleAttribute, bool]:
    """Set the cell (creating its row when needed); returns the row and whether anything visible changed.

    Callers check precedence first (``can_replace``); this function only writes. ``add=False``
    leaves a new row out of the session (the caller inserts many at once, see ``insert_rows``).
    """
    new_details = dict(details or {})
    if current is not None and (
        current.value,
        current.source_type,
        current.confidence,
        current.rationale,
        current.model_used,
        current.donor,
        current.details or {},
    ) == (value, source_type, confidence, rationale, model_used, donor, new_details):
        return current, False  # a re-run that finds the same value leaves the row (and its time) alone
    attribute = current or RoleAttribute(role_id=role_id, name=name)
    changed = (
        current is None
        or attribute.value != value
        or attribute.source_type != source_type
        or attribute.donor != donor
        or attribute.confidence != confidence
    )
    attribute.value = value
    attribute.source_type = source_type
    attribute.confidence = confidence
    attribute.rationale = rationale
    attribute.model_used = model_used
    attribute.donor = donor
    attribute.details = new_details
    attribute.updated_by = updated_by
    attribute.updated_at = utcnow()
    if current is None and add:
        session.add(attribute)
    return attribute, changed


ROW_FIELDS = (
    "role_id",
    "name",
    "value",
    "source_type",
    "confidence",
    "rationale",
    "model_used",
    "donor",
    "details",
    "updated_by",
    "updated_at",
)


def insert_rows(session: Session, rows: list[RoleAttribute]) -> None:
    """Insert new rows made with ``add=False`` in one statement (much faster than one ORM add each)."""
    if rows:
        table = RoleAttribute.__table__  # Core insert: one executemany, no ORM bookkeeping
        session.execute(insert(table), [{name: getattr(row, name) for name in ROW_FIELDS} for row in rows])


def provenance_note(attribute: RoleAttribute | None) -> str | None:
    """One line on what an analyst should know about a value (or an empty cell), else None."""
    if attribute is None:
        return None
    details = attribute.details or {}
    if not has_value(attribute):
        return details.get("reason") or details.get("cleared")
    notes = []
    if details.get("from_proposal"):
        notes.append("from the proposed (unconfirmed) occupation")
    if details.get("donor_code"):
        notes.append(f"O*NET has no data for {details.get('onet_code')}: taken from {details['donor_code']}")
    if details.get("note"):
        notes.append(str(details["note"]))
    return "; ".join(notes) or None


def role_provenance(session: Session, role_id: int) -> list[dict[str, Any]]:
    """Every project attribute of a role with its value and provenance, for display and export."""
    role = session.get(Role, role_id)
    if role is None:
        return []
    cells = attributes_by_role(session, [role_id])[role_id]
    rows = []
    for name in project_attribute_names(session, role.project_id):
        attribute = cells.get(name)
        filled = has_value(attribute)
        rows.append(
            {
                "name": name,
                "value": attribute.value if filled else None,
                "source_type": attribute.source_type if filled else None,
                "confidence": attribute.confidence if filled else None,
                "rationale": attribute.rationale if filled else None,
                "donor": attribute.donor if filled else None,
                "model_used": attribute.model_used if filled else None,
                "updated_by": attribute.updated_by if attribute else None,
                "updated_at": attribute.updated_at if attribute else None,
                "note": provenance_note(attribute),
            }
        )
    return rows
