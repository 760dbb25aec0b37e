"""Precedent: a title an analyst already decided is proposed with that decision.

An analyst's confirmed (or overridden) mapping is the best evidence there is, so a role whose
normalised title (``title_key``) was already decided in any project of the store gets that code,
source ``precedent``, tier HIGH, and a rationale naming the project, who decided and when.
When analysts disagree (two different codes for one key) the most recent decision wins and the
rationale says so. Decisions made in bulk (apply to all matches, confirm all HIGH) weigh less: a
decision looked at one by one wins over any bulk one, and a precedent that only bulk decisions
give is proposed as MEDIUM, so an analyst looks at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.db.models import Mapping, MappingStatus, Project, Role
from jobforge.mapping.selectors import RoleRequest
from jobforge.mapping.tiers import ConfidenceTier, MappingSource, RoleMappingResult

# Look-ups go through IN (...) lists; keep them well under every driver's parameter limit.
_KEY_CHUNK = 500


@dataclass
class Precedent:
    """The most recent analyst decision for one title key."""

    title_key: str
    code: str
    onet_title: str | None
    role_title: str  # the decided role's original title
    project_name: str
    decided_by: str | None
    decided_at: datetime | None
    status: str  # confirmed | overridden
    other_codes: list[str] = field(default_factory=list)  # differing codes of older decisions
    in_bulk: bool = False  # the decision came from a bulk action (nobody looked at this role alone)

    def rationale(self) -> str:
        verb = "chose" if self.status == MappingStatus.OVERRIDDEN else "confirmed"
        who = self.decided_by or "an analyst"
        when = f" on {self.decided_at:%Y-%m-%d}" if self.decided_at else ""
        text = (
            f"Precedent: {who} {verb} {self.code}"
            f"{f' ({self.onet_title})' if self.onet_title else ''} for '{self.role_title}'"
            f" in project '{self.project_name}'{when}"
            + (" in a bulk action (not looked at one by one)." if self.in_bulk else ".")
        )
        if self.other_codes:
            text += (
                f" Analysts decided this title differently before ({', '.join(self.other_codes)});"
                " the most recent decision is used."
            )
        return text


def find_precedents(
    session: Session, title_keys: Iterable[str], exclude_role_ids: Iterable[int] = ()
) -> dict[str, Precedent]:
    """title_key -> the most recent analyst decision for it, across every project of the store."""
    keys = sorted({key for key in title_keys if key})
    excluded = set(exclude_role_ids)
    decisions: dict[str, list[tuple[Mapping, Role, str]]] = {}
    for start in range(0, len(keys), _KEY_CHUNK):
        rows = session.execute(
            select(Mapping, Role, Project.name)
            .join(Role, Mapping.role_id == Role.id)
            .join(Project, Role.project_id == Project.id)
            .where(
                Role.title_key.in_(keys[start : start + _KEY_CHUNK]),
                Mapping.status.in_(MappingStatus.ANALYST_OWNED),
                Mapping.onet_code.is_not(None),
            )
        ).all()
        for mapping, role, project_name in rows:
            if role.id not in excluded:
                decisions.setdefault(role.title_key, []).append((mapping, role, project_name))

    found: dict[str, Precedent] = {}
    for key, items in decisions.items():
        items.sort(key=_recency, reverse=True)
        mapping, role, project_name = items[0]
        others = sorted({m.onet_code for m, _, _ in items[1:] if m.onet_code and m.onet_code != mapping.onet_code})
        found[key] = Precedent(
            title_key=key,
            code=mapping.onet_code or "",
            onet_title=mapping.onet_title,
            role_title=role.title,
            project_name=project_name,
            decided_by=mapping.confirmed_by,
            decided_at=mapping.confirmed_at,
            status=mapping.status,
            other_codes=others,
            in_bulk=bool(mapping.decided_in_bulk),
        )
    return found


def _recency(item: tuple[Mapping, Role, str]) -> tuple[bool, float, float, int]:
    """Sort key: decisions looked at one by one before bulk ones, then the most recent."""
    mapping = item[0]

    def stamp(value: datetime | None) -> float:
        if value is None:
            return float("-inf")
        # SQLite hands back naive UTC datetimes, Postgres aware ones: compare them as UTC seconds.
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()

    return not mapping.decided_in_bulk, stamp(mapping.confirmed_at), stamp(mapping.updated_at), mapping.id


def precedent_result(
    request: RoleRequest,
    precedent: Precedent,
    occupation: Callable[[str], tuple[str, str] | None] | None = None,
) -> RoleMappingResult | None:
    """The proposal a precedent gives ``request``; None when its code is not in the active release.

    ``occupation`` looks a code up in the active release (``CandidateIndex.occupation``): a
    decision taken against an older release whose code no longer exists is not proposed.
    """
    onet_title = precedent.onet_title
    if occupation is not None:
        found = occupation(precedent.code)
        if found is None:
            return None
        onet_title = found[0]
    return RoleMappingResult(
        source_role=request.title,
        onet_code=precedent.code,
        onet_title=onet_title,
        confidence=ConfidenceTier.MEDIUM if precedent.in_bulk else ConfidenceTier.HIGH,
        reasoning=precedent.rationale(),
        source=MappingSource.PRECEDENT,
        role_id=request.role_id,
        candidates=[candidate.to_dict() for candidate in request.candidates],
    )
