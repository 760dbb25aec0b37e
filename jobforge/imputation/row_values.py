"""Attribute values as the rows of a file hold them, and the role-level value derived from them.

A spreadsheet row is a person or a position; a role is all rows whose titles normalise alike. A
value present in a row is that row's SOURCE value: it is never replaced, and the per-row export
writes it back as it was. The role gets a summary of its rows: the most common value (compared
case- and space-insensitively), how many rows hold it and how many rows have a value at all
("3 · 54 of 199 rows", 199 of 246 rows with a value). That summary is the role's SOURCE value;
imputation only fills roles whose rows are all empty.

What is stored: per upload, role and attribute column, how many rows hold each value
(:class:`~jobforge.db.models.RowValueCount`, the empty cells counted as ``value=None``). Role-level
figures are sums over the role's uploads, so deleting an upload (its counts are deleted with it)
and calling :func:`refresh_source_values` leaves the right figures. Rows themselves are not
stored: the per-row export re-reads them from the upload's kept bytes.

Which columns are role requirements and which vary by person (:func:`column_kinds`): a name rule
first ("required", "minimum", … name a requirement; "years", "tenure", "hire", "salary", … a
person's own value), else the rows' agreement: a column whose rows agree with their role's most
common value at least 90% of the time (over roles with two or more rows holding a value) is a role
requirement, otherwise it varies by person.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from jobforge.db.models import Role, RoleAttribute, RowValueCount, SourceType, Upload, utcnow
from jobforge.imputation.attributes import snapshot
from jobforge.imputation.hierarchy import value_key

ROLE_REQUIREMENT = "role"
VARIES_BY_PERSON = "person"
ROLE_AGREEMENT = 0.9  # share of rows agreeing with their role's value for a column to be a requirement
# Words in a column's name that decide its kind before any counting (whole words, case-insensitive).
REQUIREMENT_WORDS = ("required", "requirement", "requirements", "minimum", "min", "preferred", "typical")
PERSON_WORDS = (
    "years",
    "yrs",
    "tenure",
    "hire",
    "hired",
    "birth",
    "age",
    "salary",
    "pay",
    "wage",
    "rating",
    "performance",
    "actual",
    "employee",
    "hours",
)
INSERT_CHUNK = 2000
ID_CHUNK = 500  # role ids per IN list
FILE_RATIONALE = "Value in the uploaded file"

ValueCounts = list[tuple[str | None, int]]  # (cell text or None for empty, rows), in order of first appearance


def count_cells(key_codes: np.ndarray, key_names: np.ndarray, cells: np.ndarray) -> dict[str, ValueCounts]:
    """Per key, how many rows hold each cell text ("" counted as None), in order of first appearance.

    ``key_codes`` are the rows' keys factorised to integers (``key_names[code]`` is the key) and
    ``cells`` the rows' stripped texts, as in :func:`jobforge.ingest.uploads.build_roles`.
    """
    if not len(cells):
        return {}
    value_codes, value_names = pd.factorize(cells)
    width = max(len(value_names), 1)
    pairs = key_codes.astype(np.int64) * width + value_codes
    unique_pairs, first_seen, counts = np.unique(pairs, return_index=True, return_counts=True)
    order = np.argsort(first_seen, kind="stable")
    found: dict[str, ValueCounts] = defaultdict(list)
    names = np.asarray(value_names, dtype=object)
    for pair, count in zip(unique_pairs[order].tolist(), counts[order].tolist(), strict=True):
        text = names[pair % width]
        found[key_names[pair // width]].append((text if text != "" else None, int(count)))
    return dict(found)


@dataclass(frozen=True)
class RowSummary:
    """What a role's rows hold for one attribute column, over all of its uploads."""

    rows: int  # rows of the role in uploads that have the column
    with_value: int  # rows whose cell is not empty
    value: str | None  # the most common value (its most common spelling), None when every cell is empty
    agreeing: int  # rows holding that value
    distinct: int  # different values (case- and space-insensitive)

    @property
    def agreement(self) -> float:
        """Share of the rows with a value that hold the most common one (0..1; 0 when none has a value)."""
        return self.agreeing / self.with_value if self.with_value else 0.0

    @property
    def source_share(self) -> float:
        """Share of the role's rows whose cell has a value (the SOURCE share, 0..1)."""
        return self.with_value / self.rows if self.rows else 0.0

    def label(self) -> str:
        """ "3 · 54 of 199 rows" (the value and how many of the rows with a value hold it)."""
        if self.value is None:
            return f"empty in all {self.rows:,} rows"
        return f"{self.value} · {self.agreeing:,} of {self.with_value:,} rows"

    def agreement_text(self) -> str:
        """ "54 of 199 rows" plus, when some are empty, "(199 of 246 have a value)"."""
        if self.value is None:
            return f"0 of {self.rows:,} rows have a value"
        text = f"{self.agreeing:,} of {self.with_value:,} rows"
        if self.with_value < self.rows:
            text += f" ({self.with_value:,} of {self.rows:,} have a value)"
        return text

    def rationale(self) -> str:
        if self.agreeing == self.rows:
            return f"{FILE_RATIONALE}: all {self.rows:,} row(s) of the role hold it."
        return (
            f"{FILE_RATIONALE}: the most common value, held by {self.agreeing:,} of the {self.with_value:,} rows "
            f"with a value ({self.agreement:.0%}); {self.with_value:,} of {self.rows:,} rows have a value."
        )

    def details(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "rows_with_value": self.with_value,
            "agreeing": self.agreeing,
            "distinct": self.distinct,
        }


def summarise(counts: Iterable[tuple[str | None, int]], keys: dict[str, str] | None = None) -> RowSummary:
    """The summary of (value, rows) pairs; ties go to the value seen first.

    ``keys`` caches :func:`~jobforge.imputation.hierarchy.value_key` per spelling across calls.
    """
    keys = {} if keys is None else keys
    rows = with_value = 0
    by_key: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    first: dict[str, int] = {}
    for value, count in counts:
        rows += count
        if value is None:
            continue
        spelling = value.strip()
        if not spelling:
            continue
        with_value += count
        key = keys.get(spelling)
        if key is None:
            key = keys[spelling] = value_key(spelling)
        by_key[key] += count
        spellings[key][spelling] += count
        first.setdefault(key, len(first))
    if not by_key:
        return RowSummary(rows, 0, None, 0, 0)
    top = min(by_key, key=lambda key: (-by_key[key], first[key]))
    spelling = min(spellings[top].items(), key=lambda item: (-item[1], item[0]))[0]
    return RowSummary(rows, with_value, spelling, by_key[top], len(by_key))


def role_summaries(session: Session, role_ids: Sequence[int]) -> dict[tuple[int, str], RowSummary]:
    """(role id, attribute column) -> the summary of the role's rows, for roles with counted rows."""
    ids = list(role_ids)
    table = RowValueCount.__table__
    rows: list[Any] = []
    for start in range(0, len(ids), ID_CHUNK):
        rows += session.connection().execute(
            select(table.c.id, table.c.role_id, table.c.name, table.c.value, table.c.rows).where(
                table.c.role_id.in_(ids[start : start + ID_CHUNK])
            )
        )
    return _summaries(rows)


def project_summaries(session: Session, project_id: int) -> dict[tuple[int, str], RowSummary]:
    table = RowValueCount.__table__
    rows = session.connection().execute(
        select(table.c.id, table.c.role_id, table.c.name, table.c.value, table.c.rows)
        .join(Role.__table__, Role.__table__.c.id == table.c.role_id)
        .where(Role.__table__.c.project_id == project_id)
    )
    return _summaries(list(rows))


def _summaries(rows: list[Any]) -> dict[tuple[int, str], RowSummary]:
    """Summaries of (id, role id, name, value, rows) count rows, taken in the order they were stored.

    An upload's counts are already one row per value; counts of several uploads are summed here.
    """
    grouped: dict[tuple[int, str], list[tuple[str | None, int]]] = defaultdict(list)
    for _id, role_id, name, value, count in sorted(rows, key=lambda row: row[0]):
        grouped[(role_id, name)].append((value, count))
    keys: dict[str, str] = {}
    return {key: summarise(values, keys) for key, values in grouped.items()}


# --------------------------------------------------------------------------------------------
# Role requirement or person-level
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnKind:
    """Whether an attribute column states a role requirement or varies by person, and why."""

    name: str
    kind: str  # ROLE_REQUIREMENT | VARIES_BY_PERSON
    reason: str

    @property
    def is_requirement(self) -> bool:
        return self.kind == ROLE_REQUIREMENT

    def label(self) -> str:
        return "role requirement" if self.is_requirement else "varies by person"


def _words(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+", name.casefold()))


def kind_by_name(name: str) -> ColumnKind | None:
    """The kind a column's name decides, or None when the name says nothing."""
    words = _words(name)
    found = sorted(words & set(REQUIREMENT_WORDS))
    if found:
        return ColumnKind(name, ROLE_REQUIREMENT, f"its name says '{found[0]}'")
    found = sorted(words & set(PERSON_WORDS))
    if found:
        return ColumnKind(name, VARIES_BY_PERSON, f"its name says '{found[0]}'")
    return None


def kind_by_agreement(name: str, summaries: Iterable[RowSummary]) -> ColumnKind:
    """The kind the rows' agreement decides (over roles with at least two rows holding a value)."""
    compared = [summary for summary in summaries if summary.with_value >= 2]
    if not compared:
        return ColumnKind(name, ROLE_REQUIREMENT, "no role has two rows with a value to compare")
    agreeing = sum(summary.agreeing for summary in compared)
    with_value = sum(summary.with_value for summary in compared)
    share = agreeing / with_value
    where = f"{share:.0%} of the rows of roles with several values agree with their role's most common value"
    if share >= ROLE_AGREEMENT:
        return ColumnKind(name, ROLE_REQUIREMENT, where)
    return ColumnKind(name, VARIES_BY_PERSON, f"only {where}")


def column_kinds(
    names: Sequence[str], summaries: dict[tuple[int, str], RowSummary] | None = None
) -> dict[str, ColumnKind]:
    """attribute column -> its kind: by name first, else by the rows' agreement (see the module doc)."""
    by_name: dict[str, list[RowSummary]] = defaultdict(list)
    for (_role_id, name), summary in (summaries or {}).items():
        by_name[name].append(summary)
    return {name: kind_by_name(name) or kind_by_agreement(name, by_name.get(name, [])) for name in names}


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def store_counts(
    session: Session, upload_id: int, role_ids: dict[str, int], counts: dict[str, dict[str, ValueCounts]]
) -> None:
    """Insert an upload's counts: ``counts`` is attribute column -> role key -> (value, rows) pairs."""
    rows = [
        {"upload_id": upload_id, "role_id": role_ids[key], "name": name, "value": value, "rows": count}
        for name, by_key in counts.items()
        for key, pairs in by_key.items()
        for value, count in pairs
    ]
    for start in range(0, len(rows), INSERT_CHUNK):  # Core executemany: no ORM bookkeeping per row
        session.execute(insert(RowValueCount.__table__), rows[start : start + INSERT_CHUNK])


def uncounted_uploads(session: Session, project_id: int) -> list[int]:
    """Ids of the project's uploads with attribute columns whose rows were never counted.

    Uploads stored before row values were kept (migration 0006) have none; :func:`count_uploads`
    counts them from their kept files.
    """
    counted = select(RowValueCount.upload_id).where(RowValueCount.upload_id == Upload.id).exists()
    rows = session.execute(
        select(Upload.id, Upload.attribute_columns).where(
            Upload.project_id == project_id, Upload.content.is_not(None), ~counted
        )
    ).all()
    return [upload_id for upload_id, columns in rows if columns]


def count_uploads(session: Session, upload_ids: Sequence[int], user: str) -> int:
    """Count the rows of these uploads from their kept files and refresh their roles' SOURCE values.

    Runs in the caller's transaction; returns the roles refreshed. A file that cannot be read any
    more is skipped (its roles keep the values they have).
    """
    from jobforge.export.typed import upload_rows
    from jobforge.ingest.reader import IngestError
    from jobforge.ingest.uploads import build_roles

    touched: set[int] = set()
    for upload in session.scalars(select(Upload).where(Upload.id.in_(list(upload_ids)))).all():
        try:
            frame, _ = upload_rows(upload.content or b"", upload.filename, upload.sheet, False, upload.header_row)
            built = build_roles(frame, upload.title_column, upload.context_columns, upload.attribute_columns)
        except IngestError:
            continue
        role_ids = dict(
            session.execute(select(Role.title_key, Role.id).where(Role.project_id == upload.project_id)).tuples().all()
        )
        counts: dict[str, dict[str, ValueCounts]] = defaultdict(dict)
        for role in built.roles:
            if role.title_key in role_ids:
                for name, pairs in role.attribute_counts.items():
                    counts[name][role.title_key] = pairs
                touched.add(role_ids[role.title_key])
        store_counts(session, upload.id, role_ids, counts)
    if touched:
        refresh_source_values(session, sorted(touched), user)
    return len(touched)


def count_project_uploads(session: Session, project_id: int, user: str) -> int:
    """Count the project's uncounted uploads in one transaction (see :func:`count_uploads`)."""
    with session.begin():
        return count_uploads(session, uncounted_uploads(session, project_id), user)


def refresh_source_values(session: Session, role_ids: Sequence[int], user: str) -> int:
    """Make each role's SOURCE values the summaries of its counted rows; returns cells changed.

    A role whose rows hold a value gets it as SOURCE (replacing an inherited or imputed value); a
    SOURCE value whose rows are gone (an upload deleted) is cleared, so imputation can fill it
    again. ANALYST values are never touched. Runs in the caller's transaction.
    """
    summaries = role_summaries(session, role_ids)
    touched_roles = sorted({role_id for role_id, _ in summaries} | set(role_ids))
    current: dict[tuple[int, str], RoleAttribute] = {}
    for start in range(0, len(touched_roles), ID_CHUNK):
        for attribute in session.scalars(
            select(RoleAttribute).where(RoleAttribute.role_id.in_(touched_roles[start : start + ID_CHUNK]))
        ):
            current[(attribute.role_id, attribute.name)] = attribute
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    now = utcnow()
    for key, summary in summaries.items():
        attribute = current.get(key)
        if summary.value is None:
            continue
        if attribute is not None and attribute.source_type == SourceType.ANALYST and attribute.value:
            continue
        values = {
            "value": summary.value,
            "source_type": SourceType.SOURCE,
            "confidence": round(summary.agreement, 4),
            "rationale": summary.rationale(),
            "model_used": None,
            "donor": None,
            "details": summary.details(),
            "updated_by": user,
            "updated_at": now,
        }
        if attribute is None:
            inserts.append({"role_id": key[0], "name": key[1], **values})
        elif _differs(attribute, values):
            updates.append({"id": attribute.id, "version": (attribute.version or 1) + 1, **values})
    for key, attribute in current.items():
        summary = summaries.get(key)
        if attribute.source_type == SourceType.SOURCE and (summary is None or summary.value is None):
            updates.append(_cleared(attribute, user, now))
    if updates:
        session.execute(update(RoleAttribute), updates)
    for start in range(0, len(inserts), INSERT_CHUNK):
        session.execute(insert(RoleAttribute), inserts[start : start + INSERT_CHUNK])
    if updates or inserts:
        session.expire_all()  # ORM rows loaded above are stale after the bulk statements
    return len(updates) + len(inserts)


def _differs(attribute: RoleAttribute, values: dict[str, Any]) -> bool:
    return any(getattr(attribute, name) != values[name] for name in ("value", "source_type", "confidence", "details"))


def _cleared(attribute: RoleAttribute, user: str, now: Any) -> dict[str, Any]:
    return {
        "id": attribute.id,
        "version": (attribute.version or 1) + 1,
        "value": None,
        "source_type": None,
        "confidence": None,
        "rationale": None,
        "model_used": None,
        "donor": None,
        "details": {"cleared": "no row of the role's uploads has a value any more", "previous": snapshot(attribute)},
        "updated_by": user,
        "updated_at": now,
    }
