"""Second opinions: a random sample of a project's decided roles coded again, blind, by a second analyst.

An admin draws the sample (:func:`draw_sample`): a given number of roles whose mapping an analyst
confirmed or overrode one by one (optionally also those decided in bulk), chosen at random with a
seed that reproduces the draw, for one named second coder. Roles whose current decision was made
by that coder are left out *before* drawing (nobody gives a second opinion on their own decision),
as are roles already sampled in the project; the result says how many were left out and why.

The second coder sees each sampled role blind (:func:`blind_queue`): title, context, row count and
the candidates in code order, never the proposal, tier, rationale or first decision; they record a
code of the active O*NET release or "cannot code" (:func:`record_blind_code`). Their answers never
change the mapping: disagreements go to adjudication (:mod:`jobforge.review.adjudication`) and
agreement is measured by :mod:`jobforge.review.agreement`.

Each write is one transaction (``with session.begin():``), so pass a session with no transaction in
progress; each writes an audit event (``second_opinion_sample``, ``second_opinion_answer``).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from jobforge.access import Permission, PermissionDenied, allowed, require
from jobforge.access.users import clean_name, find_user, list_users, name_key
from jobforge.db.models import (
    Mapping,
    MappingStatus,
    OnetOccupation,
    Role,
    SecondOpinionItem,
    SecondOpinionSample,
    utcnow,
)
from jobforge.errors import JobForgeError
from jobforge.review import audit
from jobforge.review.actions import ReviewError, resolve_code

MAX_SEED = 2**31 - 1  # seeds are stored in a 32-bit integer column
DECIDED = (MappingStatus.CONFIRMED, MappingStatus.OVERRIDDEN)


class SecondOpinionError(JobForgeError, ValueError):
    """A second-opinion action cannot be done; the message says why."""


@dataclass
class DrawnSample:
    """What :func:`draw_sample` did: ``drawn`` of ``requested`` roles out of ``eligible``, and who was left out."""

    sample_id: int
    coder: str
    seed: int
    requested: int
    drawn: int
    eligible: int
    decided_by_coder: int  # decided roles left out because the coder made the decision
    decided_in_bulk: int  # left out because decided in bulk (unless bulk decisions were included)
    already_sampled: int  # left out because an earlier sample of the project holds them
    role_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class BlindRole:
    """A sampled role as the second coder sees it: nothing about the proposal or the first decision.

    ``context`` maps labels ("Job family", "Department", …) to the spreadsheet's values;
    ``candidates`` are (code, O*NET title) in code order.
    """

    item_id: int
    sample_id: int
    role_id: int
    title: str
    row_count: int
    context: dict[str, str]
    description: str | None
    candidates: list[tuple[str, str]]


@dataclass(frozen=True)
class SampleProgress:
    """A sample with how far its coding and adjudication have got."""

    id: int
    coder: str
    created_by: str | None
    created_at: datetime
    seed: int
    requested: int
    include_bulk: bool
    excluded: dict[str, Any]
    roles: int
    answered: int
    cannot_code: int
    disagreements: int  # at 8 digits, "cannot code" included
    adjudicated: int


def draw_sample(
    session: Session,
    project_id: int,
    size: int,
    coder: str,
    by: str,
    seed: int | None = None,
    include_bulk: bool = False,
) -> DrawnSample:
    """Draw ``size`` decided roles of the project at random for ``coder`` to code again blind.

    Eligible: mapping confirmed or overridden with a code, decided one by one (or in bulk too when
    ``include_bulk``), not decided by ``coder``, not in an earlier sample of the project. Roles are
    ordered by normalised title (then id) and drawn with ``random.Random(seed).sample``: the same
    seed on the same decided roles draws the same roles. Without a seed one is chosen and stored.
    Fewer eligible roles than ``size``: all of them are drawn (``drawn`` says how many).

    Raises PermissionDenied (``by`` is not an admin), SecondOpinionError (bad size, seed or coder,
    no eligible role).
    """
    if size < 1:
        raise SecondOpinionError("A sample needs at least one role: give a size of 1 or more.")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise SecondOpinionError(f"The seed must be a whole number from 0 to {MAX_SEED:,}.")
    seed = secrets.randbelow(MAX_SEED) if seed is None else seed
    with session.begin():
        require(session, by, Permission.SECOND_OPINION_SAMPLE, project_id)
        coder_name = _coder_name(session, coder, project_id)
        eligible, counts = _eligible_roles(session, project_id, name_key(coder_name), include_bulk)
        if not eligible:
            raise SecondOpinionError(_nothing_eligible(coder_name, counts))
        chosen = random.Random(seed).sample(eligible, min(size, len(eligible)))
        sample = SecondOpinionSample(
            project_id=project_id,
            coder=coder_name,
            coder_key=name_key(coder_name),
            requested=size,
            seed=seed,
            include_bulk=include_bulk,
            population=len(eligible),
            excluded=counts,
            created_by=by,
        )
        session.add(sample)
        session.flush()
        _add_items(session, sample, [role_id for role_id, _ in chosen])
        audit.record(
            session,
            by,
            "second_opinion_sample",
            "second_opinion_sample",
            sample.id,
            project_id,
            after={
                "coder": coder_name,
                "requested": size,
                "drawn": len(chosen),
                "eligible": len(eligible),
                "seed": seed,
                "include_bulk": include_bulk,
                "excluded": counts,
                "role_ids": [role_id for role_id, _ in chosen],
            },
        )
    return DrawnSample(
        sample_id=sample.id,
        coder=coder_name,
        seed=seed,
        requested=size,
        drawn=len(chosen),
        eligible=len(eligible),
        role_ids=[role_id for role_id, _ in chosen],
        **counts,
    )


def _coder_name(session: Session, coder: str, project_id: int) -> str:
    """The second coder's name as the store knows it; they must be able to work in the project."""
    clean = clean_name(coder)
    if not allowed(session, clean, Permission.PROJECT_WRITE, project_id):
        raise SecondOpinionError(
            f"{clean} cannot code in this project: make them an analyst and a member of it first (Admin → Users)."
        )
    found = find_user(session, clean)
    return found.name if found is not None else clean


def _eligible_roles(
    session: Session, project_id: int, coder_key: str, include_bulk: bool
) -> tuple[list[tuple[int, str]], dict[str, int]]:
    """(role id, title key) of the roles that may be drawn, in draw order, and the counts left out."""
    sampled = (
        select(SecondOpinionItem.role_id).join(SecondOpinionSample).where(SecondOpinionSample.project_id == project_id)
    )
    rows = session.execute(
        select(Role.id, Role.title_key, Mapping.confirmed_by, Mapping.decided_in_bulk, Role.id.in_(sampled))
        .join(Mapping, Mapping.role_id == Role.id)
        .where(Role.project_id == project_id, Mapping.status.in_(DECIDED), Mapping.onet_code.is_not(None))
        .order_by(Role.title_key, Role.id)
    ).all()
    counts = {"decided_by_coder": 0, "decided_in_bulk": 0, "already_sampled": 0}
    eligible: list[tuple[int, str]] = []
    for role_id, title_key, decided_by, in_bulk, was_sampled in rows:
        if was_sampled:
            counts["already_sampled"] += 1
        elif decided_by and name_key(decided_by) == coder_key:
            counts["decided_by_coder"] += 1
        elif in_bulk and not include_bulk:
            counts["decided_in_bulk"] += 1
        else:
            eligible.append((role_id, title_key))
    return eligible, counts


def _nothing_eligible(coder: str, counts: dict[str, int]) -> str:
    reasons = []
    if counts["decided_by_coder"]:
        reasons.append(f"{counts['decided_by_coder']:,} were decided by {coder}")
    if counts["decided_in_bulk"]:
        reasons.append(f"{counts['decided_in_bulk']:,} were decided in bulk (tick 'include bulk decisions')")
    if counts["already_sampled"]:
        reasons.append(f"{counts['already_sampled']:,} are in an earlier sample")
    why = f": {'; '.join(reasons)}" if reasons else ": confirm or override some roles on the Review page first"
    return f"No decided role can be sampled for {coder}{why}."


def _add_items(session: Session, sample: SecondOpinionSample, role_ids: list[int]) -> None:
    """Snapshot each role's first decision and its candidates (in code order) into the sample."""
    mappings = {m.role_id: m for m in session.scalars(select(Mapping).where(Mapping.role_id.in_(role_ids)))}
    for position, role_id in enumerate(role_ids):
        mapping = mappings[role_id]
        candidates = {c["code"]: c.get("title") or "" for c in mapping.candidates or [] if c.get("code")}
        session.add(
            SecondOpinionItem(
                sample_id=sample.id,
                role_id=role_id,
                position=position,
                first_code=mapping.onet_code,
                first_status=mapping.status,
                first_by=mapping.confirmed_by,
                first_in_bulk=bool(mapping.decided_in_bulk),
                first_version=mapping.version,
                candidates=[{"code": code, "title": candidates[code]} for code in sorted(candidates)],
            )
        )
    session.flush()


def blind_queue(session: Session, project_id: int, user: str) -> list[BlindRole]:
    """The roles of the project waiting for ``user``'s blind second opinion, in the sample's order.

    Reads the role and the sample's snapshot only, never the mapping: nothing here tells the
    proposal, its tier or rationale, or the first decision.
    """
    rows = session.execute(
        select(SecondOpinionItem, Role)
        .join(SecondOpinionSample, SecondOpinionSample.id == SecondOpinionItem.sample_id)
        .join(Role, Role.id == SecondOpinionItem.role_id)
        .where(
            SecondOpinionSample.project_id == project_id,
            SecondOpinionSample.coder_key == name_key(user),
            SecondOpinionItem.answered_at.is_(None),
        )
        .order_by(SecondOpinionSample.id, SecondOpinionItem.position)
    ).all()
    return [_blind_role(item, role) for item, role in rows]


def role_context(role: Role) -> dict[str, str]:
    """The role's context from the spreadsheet as label -> value (empty ones left out)."""
    context = {
        "Job family": role.job_family,
        "Function": role.job_function,
        "Department": role.department,
        "Level": role.level,
        "Headcount": f"{role.headcount:,.0f}" if role.headcount else None,
        "Unit group": role.unit_group,
        **{str(k): str(v) for k, v in (role.context or {}).items() if isinstance(v, str | int | float)},
    }
    return {label: str(value) for label, value in context.items() if value not in (None, "")}


def _blind_role(item: SecondOpinionItem, role: Role) -> BlindRole:
    return BlindRole(
        item_id=item.id,
        sample_id=item.sample_id,
        role_id=role.id,
        title=role.title,
        row_count=role.row_count,
        context=role_context(role),
        description=role.description,
        candidates=[(c["code"], c.get("title") or "") for c in item.candidates or []],
    )


def record_blind_code(
    session: Session, item_id: int, user: str, code: str | None, cannot_code: bool = False, note: str | None = None
) -> SecondOpinionItem:
    """Record ``user``'s blind second opinion on a sampled role: a code of the active release, or "cannot code".

    Only the assigned coder may answer, once. The mapping is not changed. Raises PermissionDenied
    (not allowed to work in the project, or not the assigned coder) or SecondOpinionError (unknown
    item, already answered, no code given, code not in the active release).
    """
    with session.begin():
        item, sample = locked_item(session, item_id)
        require(session, user, Permission.PROJECT_WRITE, sample.project_id)
        if name_key(user) != sample.coder_key:
            raise PermissionDenied(f"This role was given to {sample.coder} for a blind second opinion, not to you.")
        if item.answered_at is not None:
            raise SecondOpinionError("You already gave your second opinion on this role.")
        if cannot_code:
            occupation = None
        elif not (code or "").strip():
            raise SecondOpinionError("Choose an occupation, or say that the role cannot be coded.")
        else:
            occupation = active_occupation(session, code or "")
        item.second_code = occupation.code if occupation else None
        item.cannot_code = occupation is None
        item.second_note = (note or "").strip() or None
        item.answered_by = user
        item.answered_at = utcnow()
        audit.record(
            session,
            user,
            "second_opinion_answer",
            "second_opinion_item",
            item.id,
            sample.project_id,
            after={
                "sample_id": sample.id,
                "role_id": item.role_id,
                "code": item.second_code,
                "cannot_code": item.cannot_code,
                "note": item.second_note,
            },
        )
    return item


def locked_item(session: Session, item_id: int) -> tuple[SecondOpinionItem, SecondOpinionSample]:
    """The item (its row locked for this transaction) and its sample."""
    item = session.scalar(
        select(SecondOpinionItem)
        .where(SecondOpinionItem.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise SecondOpinionError(f"There is no sampled role {item_id}: the sample may have been deleted.")
    sample = session.get(SecondOpinionSample, item.sample_id)
    assert sample is not None  # the foreign key holds it
    return item, sample


def active_occupation(session: Session, code: str) -> OnetOccupation:
    """The occupation of the active O*NET release with ``code`` ("15-1252" means "15-1252.00"),
    as Review resolves a typed code; raises SecondOpinionError when there is none."""
    try:
        return resolve_code(session, code)
    except ReviewError as exc:
        raise SecondOpinionError(exc.message) from exc


def list_samples(session: Session, project_id: int) -> list[SampleProgress]:
    """The project's samples, newest first, with their progress."""
    answered = func.count(SecondOpinionItem.answered_at)
    cannot = func.sum(case((SecondOpinionItem.cannot_code, 1), else_=0))
    differs = SecondOpinionItem.cannot_code | (SecondOpinionItem.second_code != SecondOpinionItem.first_code)
    disagree = func.sum(case((SecondOpinionItem.answered_at.is_not(None) & differs, 1), else_=0))
    rows = session.execute(
        select(
            SecondOpinionSample,
            func.count(SecondOpinionItem.id),
            answered,
            cannot,
            disagree,
            func.count(SecondOpinionItem.adjudicated_at),
        )
        .outerjoin(SecondOpinionItem, SecondOpinionItem.sample_id == SecondOpinionSample.id)
        .where(SecondOpinionSample.project_id == project_id)
        .group_by(SecondOpinionSample.id)
        .order_by(SecondOpinionSample.id.desc())
    ).all()
    return [
        SampleProgress(
            id=s.id,
            coder=s.coder,
            created_by=s.created_by,
            created_at=s.created_at,
            seed=s.seed,
            requested=s.requested,
            include_bulk=s.include_bulk,
            excluded=dict(s.excluded or {}),
            roles=int(roles),
            answered=int(done),
            cannot_code=int(cannot_n or 0),
            disagreements=int(disagreements or 0),
            adjudicated=int(adjudicated),
        )
        for s, roles, done, cannot_n, disagreements, adjudicated in rows
    ]


def decided_counts(session: Session, project_id: int) -> tuple[int, int]:
    """(decided one by one, decided in bulk): the project's roles a sample can draw from."""
    rows = session.execute(
        select(Mapping.decided_in_bulk, func.count(Mapping.id))
        .join(Role, Role.id == Mapping.role_id)
        .where(Role.project_id == project_id, Mapping.status.in_(DECIDED), Mapping.onet_code.is_not(None))
        .group_by(Mapping.decided_in_bulk)
    ).all()
    counts = {bool(in_bulk): int(n) for in_bulk, n in rows}
    return counts.get(False, 0), counts.get(True, 0)


def possible_coders(session: Session, project_id: int) -> list[str]:
    """Users who may code in the project (analyst members and admins), by name: second-coder candidates."""
    users = sorted(list_users(session), key=lambda u: u.name_key)
    return [u.name for u in users if allowed(session, u.name, Permission.PROJECT_WRITE, project_id)]


def coder_progress(session: Session, project_id: int, user: str) -> tuple[int, int]:
    """(answered, given) of the project's sampled roles given to ``user`` for a blind second opinion."""
    given, answered = session.execute(
        select(func.count(SecondOpinionItem.id), func.count(SecondOpinionItem.answered_at))
        .join(SecondOpinionSample, SecondOpinionSample.id == SecondOpinionItem.sample_id)
        .where(SecondOpinionSample.project_id == project_id, SecondOpinionSample.coder_key == name_key(user))
    ).one()
    return int(answered), int(given)
