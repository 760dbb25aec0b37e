"""Adjudication: a third person settles each disagreement between a first decision and a blind second opinion.

A disagreement is a sampled role whose second opinion differs from the first decision at 8 digits
(a different O*NET-SOC code, or "cannot code"). Someone who is neither the first nor the second
coder (:func:`adjudication_queue` lists what each person may settle) keeps the first code, takes
the second, or chooses another occupation (:func:`adjudicate`). That decision becomes the role's
mapping in the same transaction, with an audit event (``adjudicate``, entity ``mapping``): status
confirmed when the code is the machine's proposal, else overridden; ``decided_in_bulk`` False (a
person looked at this role singly); ``version`` raised. The adjudicator passes the mapping version
they were shown, and a mapping changed since then is refused (:class:`StaleMapping`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.access.users import name_key
from jobforge.db.models import (
    Mapping,
    MappingStatus,
    OnetOccupation,
    Role,
    SecondOpinionItem,
    SecondOpinionSample,
    utcnow,
)
from jobforge.onet.repository import active_release
from jobforge.review import audit
from jobforge.review.actions import mapping_state
from jobforge.review.second_opinion import SecondOpinionError, active_occupation, locked_item, role_context

Choice = Literal["first", "second", "other"]
CHOICES: tuple[Choice, ...] = ("first", "second", "other")
ANALYST_SOURCE = "analyst"  # as jobforge.review.actions: a mapping an analyst made without a proposal


class StaleMapping(SecondOpinionError):
    """The role's mapping changed since the adjudicator opened it; nothing was written."""


@dataclass(frozen=True)
class Disagreement:
    """A sampled role whose two codes differ, with the role's mapping as it is now.

    ``second_code`` is None when the second coder could not code the role. ``version`` is the
    mapping's version to pass to :func:`adjudicate`.
    """

    item_id: int
    sample_id: int
    role_id: int
    title: str
    row_count: int
    context: dict[str, str]
    first_code: str
    first_title: str
    first_by: str | None
    second_code: str | None
    second_title: str
    second_by: str | None
    second_note: str | None
    current_code: str | None
    current_title: str
    current_status: str | None
    version: int
    changed_since_sampled: bool  # someone changed the mapping after the sample was drawn


@dataclass
class AdjudicationQueue:
    """Disagreements ``mine`` to settle, and how many wait for someone else (those I coded)."""

    mine: list[Disagreement] = field(default_factory=list)
    others: int = 0


def _differs() -> ColumnElement[bool]:
    """The second opinion differs from the first decision at 8 digits (or is "cannot code")."""
    return SecondOpinionItem.cannot_code | (SecondOpinionItem.second_code != SecondOpinionItem.first_code)


def adjudication_queue(session: Session, project_id: int, user: str) -> AdjudicationQueue:
    """The project's unsettled disagreements: those ``user`` may settle, oldest sample first."""
    rows = session.execute(
        select(SecondOpinionItem, Role, Mapping)
        .join(SecondOpinionSample, SecondOpinionSample.id == SecondOpinionItem.sample_id)
        .join(Role, Role.id == SecondOpinionItem.role_id)
        .outerjoin(Mapping, Mapping.role_id == Role.id)
        .where(
            SecondOpinionSample.project_id == project_id,
            SecondOpinionItem.answered_at.is_not(None),
            SecondOpinionItem.adjudicated_at.is_(None),
            _differs(),
        )
        .order_by(SecondOpinionSample.id, SecondOpinionItem.position)
    ).all()
    titles = _titles(
        session, {c for item, _, m in rows for c in (item.first_code, item.second_code, m and m.onet_code)}
    )
    queue = AdjudicationQueue()
    me = name_key(user)
    for item, role, mapping in rows:
        if me in (name_key(item.first_by), name_key(item.answered_by)):
            queue.others += 1
            continue
        queue.mine.append(
            Disagreement(
                item_id=item.id,
                sample_id=item.sample_id,
                role_id=role.id,
                title=role.title,
                row_count=role.row_count,
                context=role_context(role),
                first_code=item.first_code,
                first_title=titles.get(item.first_code, ""),
                first_by=item.first_by,
                second_code=item.second_code,
                second_title=titles.get(item.second_code or "", ""),
                second_by=item.answered_by,
                second_note=item.second_note,
                current_code=mapping.onet_code if mapping else None,
                current_title=(mapping.onet_title or "") if mapping else "",
                current_status=mapping.status if mapping else None,
                version=mapping.version if mapping else 0,
                changed_since_sampled=(
                    mapping is None or mapping.version != item.first_version or mapping.onet_code != item.first_code
                ),
            )
        )
    return queue


def _titles(session: Session, codes: set[str | None]) -> dict[str, str]:
    release = active_release(session)
    wanted = sorted(c for c in codes if c)
    if release is None or not wanted:
        return {}
    rows = session.execute(
        select(OnetOccupation.code, OnetOccupation.title).where(
            OnetOccupation.release_id == release.id, OnetOccupation.code.in_(wanted)
        )
    )
    return dict(rows.all())


def adjudicate(
    session: Session,
    item_id: int,
    user: str,
    choice: Choice,
    expected_version: int,
    code: str | None = None,
    expected_code: str | None = None,
) -> Mapping:
    """Settle a disagreement: keep the ``"first"`` code, take the ``"second"``, or ``"other"`` (give ``code``).

    ``expected_version`` is the mapping version the adjudicator was shown, ``expected_code`` (when
    given) the mapping's code they were shown: a write that does not raise the version still
    cannot be overwritten unseen. Updates the role's
    mapping and the sampled role in one transaction with an audit event; returns the mapping.
    Raises PermissionDenied (may not work in the project), StaleMapping (the mapping changed since
    it was shown) or SecondOpinionError (no disagreement, already settled, the adjudicator coded the
    role, no second code to take, unknown code).
    """
    if choice not in CHOICES:
        raise SecondOpinionError(f"Choose one of {', '.join(CHOICES)}, not '{choice}'.")
    with session.begin():
        item, sample = locked_item(session, item_id)
        require(session, user, Permission.PROJECT_WRITE, sample.project_id)
        _check_can_settle(item, user)
        mapping = session.scalar(
            select(Mapping)
            .where(Mapping.role_id == item.role_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if mapping is None:
            raise SecondOpinionError("This role has no mapping any more: it cannot be adjudicated.")
        if mapping.version != expected_version or (expected_code is not None and mapping.onet_code != expected_code):
            raise StaleMapping(
                f"The mapping of this role changed since you opened it (now {mapping.onet_code or 'no code'}, "
                f"{mapping.status}, by {mapping.confirmed_by or 'nobody'}): look at it again, then decide."
            )
        occupation = active_occupation(session, _chosen_code(item, choice, code))
        before = mapping_state(mapping)
        _decide(mapping, occupation, user)
        item.adjudication = choice
        item.adjudicated_code = occupation.code
        item.adjudicated_by = user
        item.adjudicated_at = mapping.confirmed_at
        audit.record(
            session,
            user,
            "adjudicate",
            "mapping",
            item.role_id,
            sample.project_id,
            before={**before, "version": expected_version},
            after={
                **mapping_state(mapping),
                "version": mapping.version,
                "sample_id": sample.id,
                "second_opinion_item": item.id,
                "choice": choice,
                "first_code": item.first_code,
                "second_code": item.second_code,
                "cannot_code": item.cannot_code,
            },
        )
    return mapping


def _check_can_settle(item: SecondOpinionItem, user: str) -> None:
    if item.answered_at is None:
        raise SecondOpinionError("The second coder has not answered yet: nothing to adjudicate.")
    if not item.cannot_code and item.second_code == item.first_code:
        raise SecondOpinionError("Both coders chose the same code: there is nothing to adjudicate.")
    if item.adjudicated_at is not None:
        raise SecondOpinionError(
            f"{item.adjudicated_by} already adjudicated this role ({item.adjudicated_code}): look at it again."
        )
    me = name_key(user)
    if me == name_key(item.first_by) or me == name_key(item.answered_by):
        role = "first" if me == name_key(item.first_by) else "second"
        raise SecondOpinionError(f"You are this role's {role} coder: a third person adjudicates it.")


def _chosen_code(item: SecondOpinionItem, choice: Choice, code: str | None) -> str:
    if choice == "first":
        return item.first_code
    if choice == "second":
        if item.second_code is None:
            raise SecondOpinionError(
                "The second coder could not code this role: keep the first code or choose another."
            )
        return item.second_code
    if not (code or "").strip():
        raise SecondOpinionError("Choose the occupation to give this role.")
    return code or ""


def _decide(mapping: Mapping, occupation: OnetOccupation, user: str) -> None:
    """The adjudicated code becomes the mapping's decision, looked at one by one."""
    if mapping.proposed_code is None and mapping.source != ANALYST_SOURCE:
        mapping.proposed_code = mapping.onet_code  # keep what the machine proposed, as review actions do
    if mapping.proposed_tier is None and mapping.source != ANALYST_SOURCE:
        mapping.proposed_tier = mapping.tier
    mapping.onet_code = occupation.code
    mapping.onet_title = occupation.title
    mapping.release_id = occupation.release_id
    mapping.status = MappingStatus.CONFIRMED if occupation.code == mapping.proposed_code else MappingStatus.OVERRIDDEN
    mapping.confirmed_by = user
    mapping.confirmed_at = utcnow()
    mapping.decided_in_bulk = False
    mapping.version = mapping.version + 1
