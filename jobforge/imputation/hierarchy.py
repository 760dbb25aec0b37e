"""Inheritance within the organisation's own job architecture.

An empty cell takes the value its siblings agree on: roles in the same group (job family first,
then job function, or the configured grouping columns) whose value for that attribute came from the
uploaded file or an analyst. Only those values count as evidence, so inherited, O*NET and LLM
values never feed further inheritance. A group agrees when the most common value (compared
case/space-insensitively) is held by at least ``min_agreeing`` siblings and by at least
``threshold`` of the siblings that have a value.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.db.models import Role, RoleAttribute, SourceType
from jobforge.imputation.attributes import is_empty_value

DEFAULT_GROUP_COLUMNS = ("job_family", "job_function")
EVIDENCE_SOURCES = (SourceType.SOURCE, SourceType.ANALYST)
_ROLE_COLUMNS = {"job_family", "job_function", "department", "level", "unit_group"}
EVIDENCE_CHUNK = 500  # role ids per evidence query


def value_key(value: str) -> str:
    """Values that differ only in case, spacing or trailing punctuation agree."""
    return re.sub(r"\s+", " ", value).strip().strip(".").casefold()


def group_value(role: Any, column: str) -> str | None:
    """The role's value of a grouping column: a Role column or a key of ``role.context`` (a Role or a row)."""
    raw = getattr(role, column) if column in _ROLE_COLUMNS else (role.context or {}).get(column)
    if raw is None or is_empty_value(str(raw)):
        return None
    return str(raw).strip()


@dataclass(frozen=True)
class Inherited:
    """A value a group agrees on, with the evidence behind it."""

    value: str
    donor: str  # e.g. "job_family=Nursing"
    agreement: float  # share of siblings with a value that hold this value
    agreeing: int
    siblings_with_value: int
    column: str
    group: str

    def details(self) -> dict[str, object]:
        return {
            "group_column": self.column,
            "group": self.group,
            "agreement": round(self.agreement, 4),
            "agreeing": self.agreeing,
            "siblings_with_value": self.siblings_with_value,
        }

    def rationale(self) -> str:
        return (
            f"{self.agreeing} of {self.siblings_with_value} roles with {self.column} = {self.group} "
            f"have this value ({self.agreement:.0%})."
        )


@dataclass(frozen=True)
class Disagreement:
    """Why a group did not agree (kept so an empty cell can say why)."""

    column: str
    group: str
    top_share: float
    siblings_with_value: int


class HierarchyInheritance:
    """Group consensus of a project's SOURCE/ANALYST values, computed once per run."""

    def __init__(
        self,
        session: Session,
        project_id: int,
        group_columns: Sequence[str] = DEFAULT_GROUP_COLUMNS,
        threshold: float = 0.6,
        min_agreeing: int = 2,
    ) -> None:
        self.group_columns = tuple(group_columns)
        self.threshold = threshold
        self.min_agreeing = max(1, min_agreeing)
        # (column, group, attribute) -> role id -> (value key, original value)
        self._evidence: dict[tuple[str, str, str], dict[int, tuple[str, str]]] = defaultdict(dict)
        self._verdicts: dict[tuple[str, str, str], Inherited | Disagreement | None] = {}
        # Two plain queries (roles, then their evidence by chunks of ids) rather than one join: the
        # join's plan on a freshly loaded Postgres table (no statistics yet) took seconds per 1,000 roles.
        groups: dict[int, list[tuple[str, str]]] = {}
        for role in session.execute(
            select(
                Role.id, Role.job_family, Role.job_function, Role.department, Role.level, Role.unit_group, Role.context
            ).where(Role.project_id == project_id)
        ):
            found = [(column, group) for column in self.group_columns if (group := group_value(role, column))]
            if found:
                groups[role.id] = found
        role_ids = sorted(groups)
        for start in range(0, len(role_ids), EVIDENCE_CHUNK):
            rows = session.execute(
                select(RoleAttribute.role_id, RoleAttribute.name, RoleAttribute.value).where(
                    RoleAttribute.role_id.in_(role_ids[start : start + EVIDENCE_CHUNK]),
                    RoleAttribute.source_type.in_(EVIDENCE_SOURCES),
                )
            )
            for role_id, name, raw in rows:
                if is_empty_value(raw):
                    continue
                value = str(raw).strip()
                for column, group in groups[role_id]:
                    self._evidence[(column, group.casefold(), name)][role_id] = (value_key(value), value)

    def inherit(self, role: Role, name: str) -> Inherited | None:
        """The value the role's nearest agreeing group holds for ``name``, or None."""
        found, _ = self.explain(role, name)
        return found

    def explain(self, role: Role, name: str) -> tuple[Inherited | None, list[Disagreement]]:
        disagreements: list[Disagreement] = []
        for column in self.group_columns:
            group = group_value(role, column)
            if group is None:
                continue
            evidence = self._evidence.get((column, group.casefold(), name), {})
            if role.id in evidence:  # the role's own value is not its sibling's (rare: it has a value)
                evidence = {role_id: held for role_id, held in evidence.items() if role_id != role.id}
                verdict = self._verdict(evidence, column, group)
            else:
                key = (column, group.casefold(), name)
                if key not in self._verdicts:
                    self._verdicts[key] = self._verdict(evidence, column, group)
                verdict = self._verdicts[key]
            if isinstance(verdict, Inherited):
                return verdict, disagreements
            if verdict is not None:
                disagreements.append(verdict)
        return None, disagreements

    def _verdict(
        self, siblings: dict[int, tuple[str, str]], column: str, group: str
    ) -> Inherited | Disagreement | None:
        """What a group's values say: an agreed value, a disagreement, or nothing (no values)."""
        if not siblings:
            return None
        counts = Counter(key for key, _ in siblings.values())
        top_key, top_count = counts.most_common(1)[0]
        share = top_count / len(siblings)
        if top_count < self.min_agreeing or share < self.threshold:
            return Disagreement(column, group, share, len(siblings))
        spellings = Counter(value for key, value in siblings.values() if key == top_key)
        value = sorted(spellings.items(), key=lambda item: (-item[1], item[0]))[0][0]
        return Inherited(
            value=value,
            donor=f"{column}={group}",
            agreement=share,
            agreeing=top_count,
            siblings_with_value=len(siblings),
            column=column,
            group=group,
        )
