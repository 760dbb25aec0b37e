"""Read side of the review: the grid's rows, one role's detail, the audit log, calibration.

The grid query is one SELECT over role LEFT JOIN mapping (filters in SQL, ordering in pandas),
fast for projects of 20,000 roles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from jobforge.db.models import AuditEvent, Mapping, MappingStatus, OnetOccupation, Role, RoleAttribute
from jobforge.onet.repository import OnetRepository, active_release

UNMAPPED = "unmapped"  # status shown for roles without a proposal yet
TIER_ORDER = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}
REVIEW_COLUMNS = [
    "role_id",
    "title",
    "row_count",
    "family",
    "function",
    "department",
    "level",
    "code",
    "onet_title",
    "tier",
    "score",
    "status",
    "rationale",
    "source",
    "proposed_code",
    "confirmed_by",
    "note",
]
# Statuses still waiting for an analyst's decision.
UNREVIEWED = (MappingStatus.PROPOSED, UNMAPPED)


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value] if value else None
    items = [item for item in value if item]
    return items or None


def _filtered(
    columns: list[Any],
    project_id: int,
    tiers: str | Iterable[str] | None,
    statuses: str | Iterable[str] | None,
    family: str | Iterable[str] | None,
    text: str | None,
) -> Select[Any]:
    """SELECT ``columns`` over the project's roles LEFT JOIN their mappings, with the grid's filters."""
    query = (
        select(
            *columns,
        )
        .outerjoin(Mapping, Mapping.role_id == Role.id)
        .where(Role.project_id == project_id)
    )
    tier_list = _as_list(tiers)
    if tier_list:
        query = query.where(Mapping.tier.in_([tier.upper() for tier in tier_list]))
    status_list = _as_list(statuses)
    if status_list:
        wanted = [status for status in status_list if status != UNMAPPED]
        conditions = [Mapping.status.in_(wanted)] if wanted else []
        if UNMAPPED in status_list:
            conditions.append(Mapping.id.is_(None))
        query = query.where(or_(*conditions))
    families = _as_list(family)
    if families:
        query = query.where(Role.job_family.in_(families))
    if text and text.strip():
        # The analyst's text is literal: % and _ are not wildcards.
        literal = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        query = query.where(
            or_(
                func.lower(Role.title).like(pattern, escape="\\"),
                func.lower(Mapping.onet_code).like(pattern, escape="\\"),
                func.lower(Mapping.onet_title).like(pattern, escape="\\"),
            )
        )
    return query


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """LOW first, then MEDIUM, HIGH, unmapped; more rows first; then by title and id."""
    if frame.empty:
        return frame
    order = frame["tier"].map(TIER_ORDER).fillna(len(TIER_ORDER))
    return (
        frame.assign(_order=order, _rows=-frame["row_count"])
        .sort_values(["_order", "_rows", "title", "role_id"], kind="stable")
        .drop(columns=["_order", "_rows"])
        .reset_index(drop=True)
    )


# How much doubt a proposal carries, by tier: LOW > MEDIUM > HIGH; a role without one is as doubtful as LOW.
DOUBT = {"LOW": 3, "MEDIUM": 2, "HIGH": 1}
ORDERS = ("tier", "impact")


def impact(frame: pd.DataFrame) -> pd.Series:
    """Employees affected × doubt: rows × 3 (LOW, or no proposal), × 2 (MEDIUM), × 1 (HIGH); 0 once decided."""
    doubt = frame["tier"].map(DOUBT).fillna(DOUBT["LOW"])
    decided = frame["status"].isin(MappingStatus.ANALYST_OWNED)
    return (frame["row_count"].astype(int) * doubt).where(~decided, 0).astype(int)


def _ordered_by_impact(frame: pd.DataFrame) -> pd.DataFrame:
    """Highest impact first (see :func:`impact`); within equal impact the lower score (more doubt) first."""
    if frame.empty:
        return frame.assign(impact=pd.Series(dtype=int))
    scores = frame["score"].astype(float).fillna(-1.0) if "score" in frame else pd.Series(0.0, index=frame.index)
    return (
        frame.assign(impact=impact(frame), _score=scores)
        .assign(_impact=lambda f: -f["impact"])
        .sort_values(["_impact", "_score", "title", "role_id"], kind="stable")
        .drop(columns=["_impact", "_score"])
        .reset_index(drop=True)
    )


def _frame(session: Session, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    # Core execution (no ORM row processing) and plain tuples: pandas probing Row objects is slow.
    return pd.DataFrame([tuple(row) for row in session.connection().execute(query)], columns=columns)


REVIEW_SELECT = [
    Role.id.label("role_id"),
    Role.title,
    Role.row_count,
    Role.job_family.label("family"),
    Role.job_function.label("function"),
    Role.department,
    Role.level,
    Mapping.onet_code.label("code"),
    Mapping.onet_title,
    Mapping.tier,
    Mapping.score,
    func.coalesce(Mapping.status, UNMAPPED).label("status"),
    Mapping.rationale,
    Mapping.source,
    Mapping.proposed_code,
    Mapping.confirmed_by,
    Mapping.note,
]
ORDER_SELECT = [
    Role.id.label("role_id"),
    Role.title,
    Role.row_count,
    Mapping.tier,
    func.coalesce(Mapping.status, UNMAPPED).label("status"),
]


def review_rows(
    session: Session,
    project_id: int,
    tiers: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
    family: str | Iterable[str] | None = None,
    text: str | None = None,
    order: str = "tier",
) -> pd.DataFrame:
    """The project's unique roles for the review grid, with an ``impact`` column.

    ``order`` "tier" (default): LOW first, then MEDIUM, HIGH, unmapped; within a tier, roles with
    more rows first. "impact": employees affected × doubt, highest first (see :func:`impact`).
    Filters: ``tiers`` (HIGH/MEDIUM/LOW), ``statuses`` (proposed, confirmed, overridden,
    needs_info, or "unmapped"), ``family`` (job family values) and ``text`` (case-insensitive,
    in the title, the code or the O*NET title).
    """
    query = _filtered(REVIEW_SELECT, project_id, tiers, statuses, family, text)
    frame = _frame(session, query, REVIEW_COLUMNS)
    if order == "impact":
        return _ordered_by_impact(frame)
    ordered = _ordered(frame)
    return ordered.assign(impact=impact(ordered) if not ordered.empty else pd.Series(dtype=int))


def families(session: Session, project_id: int) -> list[str]:
    """The job families of the project, for the filter."""
    rows = session.scalars(
        select(Role.job_family)
        .where(Role.project_id == project_id, Role.job_family.is_not(None), Role.job_family != "")
        .distinct()
        .order_by(Role.job_family)
    )
    return list(rows)


def next_unreviewed(
    session: Session, project_id: int, after_role_id: int | None = None, filters: dict[str, Any] | None = None
) -> int | None:
    """The next role in review order (same filters as the grid) still waiting for a decision.

    Searches after ``after_role_id`` first, then wraps around; None when every role is decided.
    """
    wanted = {key: value for key, value in (filters or {}).items() if key in ("tiers", "statuses", "family", "text")}
    query = _filtered(
        ORDER_SELECT, project_id, **{"tiers": None, "statuses": None, "family": None, "text": None, **wanted}
    )
    frame = _ordered(_frame(session, query, ["role_id", "title", "row_count", "tier", "status"]))
    if frame.empty:
        return None
    waiting = frame["status"].isin(UNREVIEWED)
    if after_role_id is not None:
        positions = frame.index[frame["role_id"] == after_role_id]
        if len(positions):
            later = waiting & (frame.index > positions[0])
            if later.any():
                return int(frame.loc[later, "role_id"].iloc[0])
    waiting &= frame["role_id"] != after_role_id
    return int(frame.loc[waiting, "role_id"].iloc[0]) if waiting.any() else None


# ------------------------------------------------------------------------------------------
# One role
# ------------------------------------------------------------------------------------------


@dataclass
class CandidateView:
    code: str
    title: str
    description: str
    matched_on: str
    matched_text: str
    score: float | None
    rank: int
    exact: bool
    tasks: list[str]
    is_current: bool  # the role's current code


@dataclass
class RoleDetail:
    role_id: int
    project_id: int
    title: str
    title_key: str
    row_count: int
    headcount: float | None
    context: dict[str, str]  # family, function, department, level, description, unit group, others
    mapping: dict[str, Any] | None  # code, onet_title, tier, score, status, rationale, source, ...
    candidates: list[CandidateView] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)


def role_detail(session: Session, role_id: int, top_tasks: int = 5) -> RoleDetail:
    """Everything the detail panel shows for one role: context, proposal and candidates.

    Raises LookupError when the role does not exist."""
    role = session.get(Role, role_id)
    if role is None:
        raise LookupError(f"Role {role_id} does not exist.")
    detail = RoleDetail(
        role_id=role.id,
        project_id=role.project_id,
        title=role.title,
        title_key=role.title_key,
        row_count=role.row_count,
        headcount=role.headcount,
        context=_role_context(role),
        mapping=None,
        attributes=_attribute_rows(session, role_id),
    )
    mapping = session.scalar(select(Mapping).where(Mapping.role_id == role_id))
    if mapping is None:
        return detail
    detail.mapping = _mapping_view(mapping)
    detail.candidates = _candidate_views(session, mapping, top_tasks)
    return detail


def _role_context(role: Role) -> dict[str, str]:
    """The role's non-empty context fields as text, the named columns first, then the others."""
    context = {
        "job_family": role.job_family,
        "job_function": role.job_function,
        "department": role.department,
        "level": role.level,
        "description": role.description,
        "unit_group": role.unit_group,
        **(role.context or {}),
    }
    return {key: str(value) for key, value in context.items() if value not in (None, "")}


def _attribute_rows(session: Session, role_id: int) -> list[dict[str, Any]]:
    """The role's attribute values with their provenance, by attribute name."""
    attributes = session.scalars(
        select(RoleAttribute).where(RoleAttribute.role_id == role_id).order_by(RoleAttribute.name)
    )
    return [
        {
            "name": item.name,
            "value": item.value,
            "source_type": item.source_type,
            "confidence": item.confidence,
            "rationale": item.rationale,
            "donor": item.donor,
            "model_used": item.model_used,
        }
        for item in attributes
    ]


def _mapping_view(mapping: Mapping) -> dict[str, Any]:
    return {
        "code": mapping.onet_code,
        "onet_title": mapping.onet_title,
        "tier": mapping.tier,
        "score": mapping.score,
        "calibrated_score": mapping.calibrated_score,
        "status": mapping.status,
        "rationale": mapping.rationale,
        "source": mapping.source,
        "proposed_code": mapping.proposed_code,
        "proposed_tier": mapping.proposed_tier,
        "note": mapping.note,
        "confirmed_by": mapping.confirmed_by,
        "confirmed_at": mapping.confirmed_at,
        "model_used": mapping.model_used,
        "release_id": mapping.release_id,
    }


def _candidate_views(session: Session, mapping: Mapping, top_tasks: int) -> list[CandidateView]:
    """The mapping's candidates in rank order with their occupation's text and top tasks; an
    occupation the analyst chose outside them comes first."""
    release_id = mapping.release_id or getattr(active_release(session), "id", None)
    candidates = list(mapping.candidates or [])
    codes = [str(item.get("code")) for item in candidates if item.get("code")]
    if mapping.onet_code and mapping.onet_code not in codes:
        # The analyst chose an occupation outside the candidates: show it too.
        candidates.insert(0, {"code": mapping.onet_code, "title": mapping.onet_title, "matched_on": "analyst"})
        codes.insert(0, mapping.onet_code)
    occupations: dict[str, tuple[str, str]] = {}
    if release_id is not None and codes:
        occupations = {
            code: (title, description)
            for code, title, description in session.execute(
                select(OnetOccupation.code, OnetOccupation.title, OnetOccupation.description).where(
                    OnetOccupation.release_id == release_id, OnetOccupation.code.in_(codes)
                )
            )
        }
    repository = OnetRepository(session, release_id) if release_id is not None else None
    views = []
    for rank, item in enumerate(candidates, start=1):
        code = str(item.get("code") or "")
        if not code:
            continue
        title, description = occupations.get(code, (item.get("title") or "", item.get("description") or ""))
        views.append(
            CandidateView(
                code=code,
                title=title or item.get("title") or "",
                description=item.get("description") or description or "",
                matched_on=str(item.get("matched_on") or ""),
                matched_text=str(item.get("matched_text") or ""),
                score=item.get("score"),
                rank=int(item.get("rank") or rank),
                exact=bool(item.get("exact")),
                tasks=repository.tasks(code, limit=top_tasks) if repository else [],
                is_current=code == mapping.onet_code,
            )
        )
    return views


def search_occupations(session: Session, query: str, limit: int = 20) -> pd.DataFrame:
    """Any occupation of the active release by title, alternate title or code (code, title)."""
    found = OnetRepository(session).search(query, limit=limit)
    return pd.DataFrame([(occ.code, occ.title) for occ in found], columns=["code", "title"])


# ------------------------------------------------------------------------------------------
# Audit log and calibration
# ------------------------------------------------------------------------------------------

AUDIT_COLUMNS = ["id", "at", "user", "project_id", "action", "entity_type", "entity_id", "before", "after"]


def _json(value: Any) -> str | None:
    return json.dumps(value, default=str, ensure_ascii=False) if value is not None else None


def audit_events(
    session: Session,
    project_id: int | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: int = 1000,
    since: datetime | None = None,
) -> pd.DataFrame:
    """Audit events, newest first; ``before``/``after`` as JSON text (``json.loads`` them)."""
    query = select(AuditEvent)
    if project_id is not None:
        query = query.where(AuditEvent.project_id == project_id)
    if user:
        query = query.where(AuditEvent.user == user)
    if action:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    events = session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit))
    rows = [
        (e.id, e.at, e.user, e.project_id, e.action, e.entity_type, e.entity_id, _json(e.before), _json(e.after))
        for e in events
    ]
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def audit_users(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.user).distinct().order_by(AuditEvent.user)))


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


CALIBRATION_COLUMNS = [
    "tier",
    "proposals",
    "reviewed",
    "confirmed_unchanged",
    "overridden",
    "needs_info",
    "share",
    "decided_in_bulk",
]


def calibration(session: Session, project_id: int | None = None) -> pd.DataFrame:
    """Per proposed tier: proposals, reviewed (confirmed or overridden), confirmed unchanged, share.

    ``share`` = confirmed unchanged / reviewed: how often analysts agreed with the machine at that
    tier. Only decisions taken one role at a time count as reviewed; bulk decisions (confirm all
    HIGH, apply to all matches) are counted apart in ``decided_in_bulk``, since nobody looked at
    those roles one by one. Analyst-made mappings (no machine proposal) are left out.
    """
    tier = func.coalesce(Mapping.proposed_tier, Mapping.tier)
    one_by_one = Mapping.decided_in_bulk.is_(False)
    reviewed = func.sum(case((and_(Mapping.status.in_(MappingStatus.ANALYST_OWNED), one_by_one), 1), else_=0))
    unchanged = func.sum(case((and_(Mapping.status == MappingStatus.CONFIRMED, one_by_one), 1), else_=0))
    overridden = func.sum(case((and_(Mapping.status == MappingStatus.OVERRIDDEN, one_by_one), 1), else_=0))
    needs_info = func.sum(case((Mapping.status == MappingStatus.NEEDS_INFO, 1), else_=0))
    in_bulk = func.sum(case((Mapping.decided_in_bulk.is_(True), 1), else_=0))
    query = select(tier, func.count(), reviewed, unchanged, overridden, needs_info, in_bulk).where(
        Mapping.source != "analyst"
    )
    if project_id is not None:
        query = query.join(Role, Role.id == Mapping.role_id).where(Role.project_id == project_id)
    found = {row[0]: row[1:] for row in session.execute(query.group_by(tier)).all()}
    rows = []
    for name in ("HIGH", "MEDIUM", "LOW"):
        proposals, done, same, changed, info, bulk = (int(value or 0) for value in found.get(name, (0,) * 6))
        rows.append((name, proposals, done, same, changed, info, same / done if done else None, bulk))
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


@dataclass
class TierModelFigures:
    """The offline tier model in use and what it was measured to do."""

    description: str  # which model is active, fitted on what
    # Per source of the labelled titles, measured at fit time on the REPORT part (never fitted on):
    # source, titles, high_precision, high_coverage, medium_precision, medium_coverage, low_coverage
    # (shares 0-1, precision None when the tier is empty). Empty for the O*NET self-labelled fit.
    measured: pd.DataFrame


TIER_MODEL_COLUMNS = [
    "source",
    "titles",
    "high_precision",
    "high_coverage",
    "medium_precision",
    "medium_coverage",
    "low_coverage",
]


def tier_model_figures(session: Session) -> TierModelFigures:
    """The tier model the offline selector uses for the active release, with its measured figures."""
    from jobforge.retrieval.calibration import FittedTierModel, active_tier_model

    release = active_release(session)
    model = active_tier_model(release.version if release else None)
    if not isinstance(model, FittedTierModel):
        return TierModelFigures(
            "O*NET self-labelled fit (held-out O*NET titles; no labelled-title fit for this release): "
            "exact matches shared by several occupations or reached through a reading are at most MEDIUM.",
            pd.DataFrame(columns=TIER_MODEL_COLUMNS),
        )
    rows = [
        [source] + [figures.get(name) for name in TIER_MODEL_COLUMNS[1:]] for source, figures in model.report.items()
    ]
    return TierModelFigures(
        f"Fitted on labelled titles (O*NET {model.release}), {model.fitted_on}; cut-offs per kind of evidence.",
        pd.DataFrame(rows, columns=TIER_MODEL_COLUMNS),
    )
