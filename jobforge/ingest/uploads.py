"""From a read spreadsheet to the project's unique roles, and storing an upload atomically.

Rows whose titles share a :func:`~jobforge.retrieval.normalize.title_key` are one role. The work
is vectorised with pandas (group-bys over the whole frame) so 200,000 rows take seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import Project, Role, Upload
from jobforge.imputation.row_values import count_cells, refresh_source_values, store_counts
from jobforge.ingest.limits import UploadLimits
from jobforge.ingest.placeholders import is_placeholder
from jobforge.ingest.reader import IngestError, header_row_of, read_table, table_warnings
from jobforge.ingest.roles import CONTEXT_FIELDS, RoleInput
from jobforge.retrieval.normalize import title_key
from jobforge.review import audit

# Role columns filled from context fields (headcount is numeric and summed instead).
ROLE_TEXT_FIELDS = ("job_family", "job_function", "department", "level", "description", "unit_group")
INSERT_CHUNK = 2000
TITLE_KEY_LENGTH = 500  # Role.title_key is String(500)
MAX_TITLE_CHARS = 500  # longer "titles" are pasted descriptions: cut to this and flagged


@dataclass
class MergedTitles:
    """Several spellings that became one role: "Store Manager - Dallas TX" + 4 others -> "Store Manager"."""

    title: str  # the role's title (the spelling shown for it)
    others: list[str]  # the other spellings merged into it, first seen first
    rows: int

    def describe(self) -> str:
        named = f"“{self.others[0]}”" + (f" + {len(self.others) - 1} others" if len(self.others) > 1 else "")
        return f"{named} → “{self.title}” ({self.rows:,} rows)"

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "others": list(self.others), "rows": self.rows}


MERGED_LISTED = 20  # merged roles listed in an upload's summary and audit event (all are counted)


@dataclass
class UniqueRoles:
    """The unique roles of a frame, with what was left out."""

    roles: list[RoleInput]
    rows: int  # data rows read
    blank_titles: int  # rows without a title (placeholders included): counted, not roles
    placeholders: dict[str, int] = field(default_factory=dict)  # placeholder title as written -> rows
    cut_titles: int = 0  # titles over MAX_TITLE_CHARS, cut to that length

    def notes(self, title_column: str) -> list[str]:
        """What the analyst should know about the title column: blanks, placeholders, cut titles."""
        notes: list[str] = []
        if self.blank_titles:
            placed = sum(self.placeholders.values())
            shown = ", ".join(f"'{title}'" for title in list(self.placeholders)[:5])
            more = " …" if len(self.placeholders) > 5 else ""
            notes.append(
                f"{self.blank_titles:,} row(s) have no title in '{title_column}'"
                + (f" ({placed:,} of them a placeholder: {shown}{more})" if placed else "")
                + "; they are counted but are not roles."
            )
        if self.cut_titles:
            notes.append(
                f"{self.cut_titles:,} title(s) were longer than {MAX_TITLE_CHARS} characters (pasted descriptions?) "
                f"and were cut to {MAX_TITLE_CHARS}; check the title column."
            )
        return notes

    @property
    def merged(self) -> list[MergedTitles]:
        """Roles that merge titles written differently (beyond case and spacing), most rows first."""
        found = [MergedTitles(r.title, r.merged_spellings, r.row_count) for r in self.roles if r.merged_spellings]
        return sorted(found, key=lambda merged: -merged.rows)


@dataclass
class UploadSummary:
    rows: int
    unique_roles: int
    new_roles: int
    merged_roles: int  # roles that already existed in the project and got these rows added
    blank_titles: int
    warnings: list[str] = field(default_factory=list)
    placeholder_titles: int = 0  # of blank_titles, rows whose title was a placeholder ("TBD", "Vacant")
    merged_count: int = 0  # roles that merged differently written titles
    # The first MERGED_LISTED of them (MergedTitles.to_dict), most rows first.
    merged_titles: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise_context_columns(context_columns: Mapping[str, str] | Iterable[str] | None) -> dict[str, str]:
    """Context field -> column. A plain list of columns uses each column's own name as the field."""
    if not context_columns:
        return {}
    if isinstance(context_columns, Mapping):
        return {str(key): str(value) for key, value in context_columns.items() if value}
    return {str(column): str(column) for column in context_columns}


def _fold(title: str) -> str:
    return " ".join(title.casefold().split())


def role_key(title: str) -> str:
    """The key rows are merged by: ``title_key`` of the case/space-folded title.

    A title made only of symbols or emoji may normalise to nothing; it is still a role (keyed by
    its folded text). Keys are cut to the column's width (very long "titles" are usually pasted
    descriptions).
    """
    folded = _fold(title)
    return (title_key(folded) or folded)[:TITLE_KEY_LENGTH]


def _check_columns(df: pd.DataFrame, title_column: str, context: dict[str, str], attributes: list[str]) -> None:
    if title_column not in df.columns:
        raise IngestError(f"The title column '{title_column}' is not in the file. Columns: {', '.join(df.columns)}.")
    missing = [column for column in [*context.values(), *attributes] if column not in df.columns]
    if missing:
        raise IngestError(f"These columns are not in the file: {', '.join(repr(c) for c in missing)}.")


_strip = np.frompyfunc(str.strip, 1, 1)


def _cells(series: pd.Series) -> np.ndarray:
    """A column as an object array of stripped strings ("" for missing).

    Plain object arrays keep pandas off its Arrow string path, which is slow to iterate.
    """
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # what read_table gives: all str
        return _strip(values).astype(object)
    return np.array(["" if value is None or value != value else str(value).strip() for value in values], dtype=object)


def _most_common(key_codes: np.ndarray, key_names: np.ndarray, values: np.ndarray) -> dict[str, str]:
    """Per key, the most common non-empty value (ties: the value seen first).

    ``key_codes`` are the rows' keys factorised to integers (``key_names[code]`` is the key):
    counting (key, value) pairs as integers with numpy is far faster than a two-column group-by.
    """
    present = values != ""
    if not present.any():
        return {}
    value_codes, value_names = pd.factorize(values[present])
    width = len(value_names)
    pairs = key_codes[present].astype(np.int64) * width + value_codes
    unique_pairs, first_seen, counts = np.unique(pairs, return_index=True, return_counts=True)
    pair_keys = unique_pairs // width
    # Per key: highest count first, then the value seen first.
    order = np.lexsort((first_seen, -counts, pair_keys))
    ordered_keys = pair_keys[order]
    leaders = order[np.r_[True, ordered_keys[1:] != ordered_keys[:-1]]]
    chosen_keys = key_names[pair_keys[leaders]]
    chosen_values = value_names[unique_pairs[leaders] % width]
    return dict(zip(chosen_keys.tolist(), chosen_values.tolist(), strict=True))


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def build_roles(
    df: pd.DataFrame,
    title_column: str,
    context_columns: Mapping[str, str] | Iterable[str] | None = None,
    attribute_columns: Iterable[str] | None = None,
) -> UniqueRoles:
    """Unique roles of ``df`` keyed by title key: row counts, summed headcount, agreed values."""
    context = normalise_context_columns(context_columns)
    attributes = [str(column) for column in attribute_columns or []]
    _check_columns(df, title_column, context, attributes)

    rows = len(df)
    if not rows:
        raise IngestError("The file has a header but no data rows.")
    all_titles = _cells(df[title_column])
    placeholder_of = {title: is_placeholder(title) for title in set(all_titles.tolist())}
    is_blank = np.array([title == "" or placeholder_of[title] for title in all_titles.tolist()], dtype=bool)
    has_title = ~is_blank
    if not has_title.any():
        raise IngestError(
            f"The title column '{title_column}' has no values (or only placeholders such as 'TBD'). "
            "Choose the column that holds job titles."
        )
    placeholders = pd.Series(all_titles[is_blank & (all_titles != "")], dtype=object).value_counts().to_dict()
    titles = all_titles[has_title]
    # Too long: the role's title is cut (its key still comes from the whole title, as exports compute it).
    too_long = np.fromiter((len(title) > MAX_TITLE_CHARS for title in titles.tolist()), bool, len(titles))
    # title_key runs once per distinct spelling (case and spacing folded first: the key ignores
    # them), not once per row.
    folded_of = {title: _fold(title) for title in set(titles.tolist())}
    key_of = {spelling: role_key(spelling) for spelling in set(folded_of.values())}
    keys = np.array([key_of[folded_of[title]] for title in titles.tolist()], dtype=object)
    key_codes, key_names = pd.factorize(keys)
    key_names = np.asarray(key_names, dtype=object)
    _check_role_count(len(key_names), title_column)

    by_key = pd.Series(titles, dtype=object).groupby(pd.Series(keys, dtype=object), sort=False)
    first_title = by_key.first()
    row_counts = by_key.size().to_dict()
    spellings = _spellings_by_key(pd.unique(titles).tolist(), folded_of, key_of)

    context_values = _context_values(df, context, has_title, keys, key_codes, key_names)
    attribute_cells = {column: _cells(df[column])[has_title] for column in attributes}
    attribute_values = {column: _most_common(key_codes, key_names, cells) for column, cells in attribute_cells.items()}
    attribute_counts = {column: count_cells(key_codes, key_names, cells) for column, cells in attribute_cells.items()}

    roles = []
    for key, title in zip(first_title.index.tolist(), first_title.tolist(), strict=True):
        title = title if len(title) <= MAX_TITLE_CHARS else title[:MAX_TITLE_CHARS].rstrip() + "…"
        role_context = {name: values[key] for name, values in context_values.items() if values.get(key)}
        role_attributes = {name: values[key] for name, values in attribute_values.items() if key in values}
        role_counts = {name: counts[key] for name, counts in attribute_counts.items() if key in counts}
        variants = spellings[key]
        roles.append(
            RoleInput(
                title=_shown_title(variants, key, title),
                title_key=key,
                row_count=int(row_counts[key]),
                context=role_context,
                attributes=role_attributes,
                attribute_counts=role_counts,
                spellings=variants,
            )
        )
    return UniqueRoles(
        roles=roles,
        rows=rows,
        blank_titles=int(is_blank.sum()),
        placeholders={str(title): int(count) for title, count in placeholders.items()},
        cut_titles=int(too_long.sum()),
    )


def _context_values(
    df: pd.DataFrame,
    context: dict[str, str],
    has_title: np.ndarray,
    keys: np.ndarray,
    key_codes: np.ndarray,
    key_names: np.ndarray,
) -> dict[str, dict[str, str]]:
    """Per context field: role key -> the role's value (headcount summed, the others most common).

    ``keys``/``key_codes`` run over the titled rows (``has_title``); ``key_names`` names the codes.
    Plain dicts, because a pandas lookup per role would dominate the time."""
    values: dict[str, dict[str, str]] = {}
    for field_name, column in context.items():
        cells = _cells(df[column])[has_title]
        if field_name == "headcount":
            numbers = pd.to_numeric(
                pd.Series([cell.replace(",", "") for cell in cells.tolist()], dtype=object), errors="coerce"
            )
            summed = numbers.groupby(pd.Series(keys, dtype=object), sort=False).sum(min_count=1).dropna()
            values[field_name] = {key: _number_text(value) for key, value in summed.items()}
        else:
            values[field_name] = _most_common(key_codes, key_names, cells)
    return values


def _check_role_count(count: int, title_column: str) -> None:
    limit = UploadLimits.from_settings().max_roles
    if count > limit:
        raise IngestError(
            f"The title column '{title_column}' has {count:,} distinct titles, over the limit of {limit:,} roles per "
            "upload (setting JOBFORGE_UPLOAD_MAX_ROLES). Check that it really holds job titles, or split the file."
        )


def _spellings_by_key(distinct: list[str], folded_of: dict[str, str], key_of: dict[str, str]) -> dict[str, list[str]]:
    """key -> the first spelling of each case/space-folded form merged into it, first seen first."""
    out: dict[str, list[str]] = {}
    seen: set[str] = set()
    for title in distinct:
        folded = folded_of[title]
        if folded not in seen:
            seen.add(folded)
            out.setdefault(key_of[folded], []).append(title)
    return out


_WORDS_ONLY = re.compile(r"[^\w+#]+")


def _shown_title(spellings: list[str], key: str, first: str) -> str:
    """The spelling a merged role is shown by: one written as its key ("Store Manager" for "Store
    Manager - Dallas TX" + "Store Mgr 127" + "Store Manager"), else the first seen."""
    if len(spellings) > 1:
        for spelling in spellings:
            if " ".join(_WORDS_ONLY.sub(" ", spelling.casefold()).split()) == key:
                return spelling
    return first


def unique_roles(
    df: pd.DataFrame,
    title_column: str,
    context_columns: Mapping[str, str] | Iterable[str] | None = None,
    attribute_columns: Iterable[str] | None = None,
) -> list[RoleInput]:
    """The unique roles of ``df`` (see :func:`build_roles` for the counts of what was left out)."""
    return build_roles(df, title_column, context_columns, attribute_columns).roles


def _role_values(role: RoleInput) -> dict[str, Any]:
    """Role column values from a RoleInput's context; unknown context fields go to ``context``."""
    values: dict[str, Any] = {name: role.context.get(name) for name in ROLE_TEXT_FIELDS}
    headcount = role.context.get("headcount")
    try:
        values["headcount"] = float(headcount) if headcount not in (None, "") else None
    except ValueError:
        values["headcount"] = None
    values["context"] = {key: value for key, value in role.context.items() if key not in CONTEXT_FIELDS}
    return values


def create_upload(
    session: Session,
    project_id: int,
    filename: str,
    data: bytes,
    sheet: str | None,
    title_column: str,
    context_columns: Mapping[str, str] | Iterable[str] | None,
    attribute_columns: Iterable[str] | None,
    user: str,
    *,
    frame: pd.DataFrame | None = None,
) -> Upload:
    """Store an upload, its bytes and its unique roles in one transaction, and commit.

    ``frame`` is ``read_table(data, filename, sheet)`` (or the frame of
    :func:`~jobforge.ingest.sandbox.open_bounded`) when the caller already has it: the upload page
    imports exactly the frame it previewed, and a large file is not parsed twice. Its header row
    is stored with the upload, so exports re-read the file the same way.

    Roles merge into the project's existing roles by title key (row counts and headcount added,
    empty context filled). What the rows hold in each attribute column is counted per role (and
    kept per upload); a role's SOURCE value is then its rows' most common value over all its
    uploads, never replacing an analyst's value (see :mod:`jobforge.imputation.row_values`).
    Bad input raises :class:`IngestError` and writes nothing; PermissionDenied when ``user`` may
    not write in the project. The returned upload carries ``.summary`` (:class:`UploadSummary`).
    """
    require(session, user, Permission.PROJECT_WRITE, project_id)
    if session.get(Project, project_id) is None:
        raise IngestError(f"Project {project_id} does not exist.")
    df = frame if frame is not None else read_table(data, filename, sheet)
    context = normalise_context_columns(context_columns)
    attributes = [str(column) for column in attribute_columns or []]
    built = build_roles(df, title_column, context, attributes)
    try:
        upload, summary = _store(
            session,
            project_id,
            filename,
            data,
            sheet,
            title_column,
            context,
            attributes,
            user,
            built,
            table_warnings(df),
            header_row_of(df),
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    upload.summary = summary  # type: ignore[attr-defined]  # transient, for the page and the CLI
    return upload


def _store(
    session: Session,
    project_id: int,
    filename: str,
    data: bytes,
    sheet: str | None,
    title_column: str,
    context: dict[str, str],
    attributes: list[str],
    user: str,
    built: UniqueRoles,
    warnings: list[str],
    header_row: int | None = None,
) -> tuple[Upload, UploadSummary]:
    upload = Upload(
        project_id=project_id,
        filename=filename.replace("\x00", "")[:500],  # Postgres refuses NUL in text
        sheet=sheet,
        header_row=header_row,
        content=data,
        row_count=built.rows,
        title_column=title_column,
        context_columns=context,
        attribute_columns=attributes,
        created_by=user,
    )
    session.add(upload)
    session.flush()
    new_roles, merged_roles = _merge_roles(session, project_id, upload.id, built.roles)
    if attributes:
        _store_source_attributes(session, project_id, upload.id, built.roles, user)

    summary = _summary(built, new_roles, merged_roles, warnings, title_column)
    if _same_file_uploaded(session, project_id, upload):
        summary.warnings.append(
            f"'{filename}' was already uploaded to this project: its rows were added again to the roles' row counts."
        )
    audit.record(
        session,
        user,
        "upload",
        "upload",
        entity_id=upload.id,
        project_id=project_id,
        after={"filename": filename, "sheet": sheet, **summary.to_dict()},
    )
    session.flush()
    return upload, summary


def _merge_roles(session: Session, project_id: int, upload_id: int, roles: list[RoleInput]) -> tuple[int, int]:
    """Insert the roles the project lacks and add the others' counts to its existing roles (row
    count and headcount added, empty context filled, nothing else changed). Returns (new, merged)."""
    existing = {
        key: (role_id, row_count, headcount, *rest)
        for key, role_id, row_count, headcount, *rest in session.execute(
            select(
                Role.title_key, Role.id, Role.row_count, Role.headcount, *[getattr(Role, f) for f in ROLE_TEXT_FIELDS]
            ).where(Role.project_id == project_id)
        )
    }
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    counts: list[dict[str, Any]] = []  # rows (and headcount) added to roles that already exist
    for role in roles:
        values = _role_values(role)
        if role.title_key in existing:
            role_id, _row_count, _headcount, *texts = existing[role.title_key]
            counts.append({"role": role_id, "rows": role.row_count, "heads": values["headcount"]})
            change: dict[str, Any] = {"id": role_id}
            for name, current in zip(ROLE_TEXT_FIELDS, texts, strict=True):
                if not current and values[name]:
                    change[name] = values[name]
            if len(change) > 1:
                updates.append(change)
        else:
            new_rows.append(
                {
                    "project_id": project_id,
                    "upload_id": upload_id,
                    "title": role.title,
                    "title_key": role.title_key,
                    "row_count": role.row_count,
                    **values,
                }
            )
    for start in range(0, len(new_rows), INSERT_CHUNK):
        session.execute(insert(Role), new_rows[start : start + INSERT_CHUNK])
    if updates:
        session.execute(update(Role), updates)
    _add_counts(session, counts)
    return len(new_rows), len(counts)


def _add_counts(session: Session, counts: list[dict[str, Any]]) -> None:
    """Add an upload's rows and headcount to existing roles in SQL (``SET n = n + :k``).

    Computed in Python from an earlier read, two uploads at once would lose one of the increments.
    """
    added = update(Role).where(Role.id == bindparam("role")).values(row_count=Role.row_count + bindparam("rows"))
    with_heads = added.values(headcount=func.coalesce(Role.headcount, 0.0) + bindparam("heads"))
    plain = [{"role": c["role"], "rows": c["rows"]} for c in counts if c["heads"] is None]
    heads = [c for c in counts if c["heads"] is not None]
    for statement, rows in ((added, plain), (with_heads, heads)):
        if rows:
            session.connection().execute(statement, rows)


def _summary(
    built: UniqueRoles, new_roles: int, merged_roles: int, warnings: list[str], title_column: str
) -> UploadSummary:
    merged = built.merged
    summary = UploadSummary(
        rows=built.rows,
        unique_roles=len(built.roles),
        new_roles=new_roles,
        merged_roles=merged_roles,
        blank_titles=built.blank_titles,
        warnings=[*warnings, *built.notes(title_column)],
        placeholder_titles=sum(built.placeholders.values()),
        merged_count=len(merged),
        merged_titles=[item.to_dict() for item in merged[:MERGED_LISTED]],
    )
    if merged:
        summary.warnings.append(merged_titles_note(merged))
    return summary


def merged_titles_note(merged: list[MergedTitles], listed: int = 3) -> str:
    """One line saying which differently written titles became one role each."""
    shown = "; ".join(item.describe() for item in merged[:listed])
    more = f"; and {len(merged) - listed} more" if len(merged) > listed else ""
    why = "places, store numbers, shifts, tags"
    return f"{len(merged)} role(s) merge titles written differently ({why}): {shown}{more}."


def _same_file_uploaded(session: Session, project_id: int, upload: Upload) -> bool:
    earlier = session.scalars(
        select(Upload.content).where(
            Upload.project_id == project_id,
            Upload.id != upload.id,
            Upload.filename == upload.filename,
            Upload.row_count == upload.row_count,
        )
    )
    return any(content == upload.content for content in earlier)


def _store_source_attributes(
    session: Session, project_id: int, upload_id: int, roles: list[RoleInput], user: str
) -> None:
    """Count what the rows hold per role and attribute column, then refresh the roles' SOURCE values.

    A value present in the rows becomes (part of) the role's SOURCE value, summed with the role's
    earlier uploads; an analyst's value stays (see :mod:`jobforge.imputation.row_values`).
    """
    role_ids = dict(session.execute(select(Role.title_key, Role.id).where(Role.project_id == project_id)).all())
    counts: dict[str, dict[str, list[tuple[str | None, int]]]] = {}
    for role in roles:
        for name, pairs in role.attribute_counts.items():
            counts.setdefault(name, {})[role.title_key] = pairs
    store_counts(session, upload_id, role_ids, counts)
    refresh_source_values(session, [role_ids[role.title_key] for role in roles], user)
