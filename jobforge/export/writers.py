"""CSV and XLSX exports of a project: one row per role, or every original row with its mapping.

- SOC codes stay text: XLSX cells are written as strings (with a text format on code columns),
  so Excel never turns 11-1011 into a date.
- Formula injection: a text cell that begins with = + - @ or a tab/CR is prefixed with ' so
  spreadsheet programs show it instead of evaluating it.
- Provenance: the O*NET release and the export time are in every file (CSV: columns; XLSX: an
  "About" sheet that also credits the O*NET Resource Center under CC BY 4.0).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import Mapping, OnetRelease, Project, Role, RoleAttribute, Upload
from jobforge.errors import JobForgeError
from jobforge.ingest.reader import IngestError, read_table
from jobforge.ingest.uploads import role_key
from jobforge.onet.repository import active_release

FORMATS = ("csv", "xlsx")
ROW_MODES = ("roles", "original")
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CODE_COLUMNS = ("onet_code", "proposed_code", "unit_group")
ROLE_CONTEXT = ("job_family", "job_function", "department", "level", "description", "unit_group")
MAPPING_COLUMNS = [
    "onet_code",
    "onet_title",
    "tier",
    "score",
    "status",
    "source",
    "rationale",
    "proposed_code",
    "confirmed_by",
    "confirmed_at",
    "note",
]
ONET_CREDIT = (
    "This file includes information from the O*NET {version} Database by the U.S. Department of Labor, "
    "Employment and Training Administration (USDOL/ETA), obtained from the O*NET Resource Center "
    "(https://www.onetcenter.org). Used under the CC BY 4.0 license "
    "(https://creativecommons.org/licenses/by/4.0/). O*NET® is a trademark of USDOL/ETA. JobForge and its "
    "users have modified all or some of this information; USDOL/ETA has not approved, endorsed, or tested "
    "these modifications."
)


class ExportError(JobForgeError, ValueError):
    """The export cannot be made; the message says why."""


@dataclass
class Provenance:
    project: str
    exported_at: str  # ISO 8601 UTC
    onet_release: str  # version(s) of the mappings, else the active release
    exported_by: str | None = None


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`neutralise` over every text cell and the header (one pass per text column)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            values = series.to_numpy(dtype=object)
            out[column] = pd.Series(
                ["'" + v if type(v) is str and v.startswith(DANGEROUS_PREFIXES) else v for v in values],
                index=series.index,
                dtype=object,
            )
    out.columns = [neutralise(str(column)) for column in out.columns]
    return out


def _release_versions(session: Session, project_id: int) -> str:
    in_project = select(Role.id).where(Role.project_id == project_id).scalar_subquery()
    versions = session.scalars(
        select(OnetRelease.version)
        .join(Mapping, Mapping.release_id == OnetRelease.id)
        .where(Mapping.role_id.in_(in_project))
        .distinct()
    ).all()
    if versions:
        return ", ".join(sorted(versions))
    release = active_release(session)
    return release.version if release else "none loaded"


def _tuples(session: Session, query: Any) -> list[tuple[Any, ...]]:
    # Core execution and plain tuples: much faster for pandas than ORM Row objects.
    return [tuple(row) for row in session.connection().execute(query)]


def _attribute_frame(session: Session, project_id: int) -> tuple[pd.DataFrame, list[str]]:
    """role_id -> per attribute: value, [source], [confidence] columns; and the attribute names."""
    rows = _tuples(
        session,
        select(
            RoleAttribute.role_id,
            RoleAttribute.name,
            RoleAttribute.value,
            RoleAttribute.source_type,
            RoleAttribute.confidence,
        )
        .join(Role, Role.id == RoleAttribute.role_id)
        .where(Role.project_id == project_id),
    )
    if not rows:
        return pd.DataFrame(index=pd.Index([], name="role_id")), []
    long = pd.DataFrame(rows, columns=["role_id", "name", "value", "source", "confidence"])
    # Attribute order: as the uploads listed them, then the rest alphabetically.
    listed: list[str] = []
    for columns in session.scalars(select(Upload.attribute_columns).where(Upload.project_id == project_id)):
        listed += [name for name in columns or [] if name not in listed]
    names = [name for name in listed if name in set(long["name"])]
    names += sorted(set(long["name"]) - set(names))
    wide = long.pivot(index="role_id", columns="name", values=["value", "source", "confidence"])
    columns: dict[str, pd.Series] = {}
    for name in names:
        columns[name] = wide[("value", name)]
        columns[f"{name} [source]"] = wide[("source", name)]
        columns[f"{name} [confidence]"] = wide[("confidence", name)]
    return pd.DataFrame(columns), names


def roles_frame(session: Session, project_id: int) -> pd.DataFrame:
    """One row per role with its context, mapping and attributes (unneutralised)."""
    rows = _tuples(
        session,
        select(
            Role.id,
            Role.title,
            Role.row_count,
            Role.headcount,
            *[getattr(Role, name) for name in ROLE_CONTEXT],
            Role.context,
            *[getattr(Mapping, name) for name in MAPPING_COLUMNS],
        )
        .outerjoin(Mapping, Mapping.role_id == Role.id)
        .where(Role.project_id == project_id)
        .order_by(Role.id),
    )
    base_columns = ["role_id", "title", "row_count", "headcount", *ROLE_CONTEXT, "_context", *MAPPING_COLUMNS]
    frame = pd.DataFrame(rows, columns=base_columns)
    # Further context fields (beyond the standard ones) become columns of their own.
    extra = pd.DataFrame(list(frame["_context"].map(lambda value: value or {})), index=frame.index)
    frame = frame.drop(columns=["_context"])
    if not extra.empty and len(extra.columns):
        position = frame.columns.get_loc("onet_code")
        for offset, column in enumerate(extra.columns):
            frame.insert(
                position + offset, str(column) if str(column) not in frame else f"{column} (context)", extra[column]
            )
    frame["confirmed_at"] = frame["confirmed_at"].map(_timestamp)
    attributes, _names = _attribute_frame(session, project_id)
    if len(attributes.columns):
        frame = frame.join(attributes, on="role_id")
    return frame


def _timestamp(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def original_frame(session: Session, project_id: int) -> pd.DataFrame:
    """Every original row of the project's uploads (re-read from the stored files), mapping joined."""
    uploads = session.scalars(select(Upload).where(Upload.project_id == project_id).order_by(Upload.id)).all()
    if not uploads:
        raise ExportError("The project has no uploads to export rows from.")
    roles = roles_frame(session, project_id)
    keys = dict(session.execute(select(Role.id, Role.title_key).where(Role.project_id == project_id)).all())
    roles.insert(0, "_key", roles["role_id"].map(keys))
    joined_columns = [column for column in roles.columns if column not in ("title", "row_count", *ROLE_CONTEXT)]
    joined_columns = [column for column in joined_columns if column != "headcount"]
    parts = []
    for upload in uploads:
        if upload.content is None:
            continue
        try:
            table = read_table(upload.content, upload.filename, upload.sheet, upload.header_row)
        except IngestError as exc:  # pragma: no cover - the file was readable when uploaded
            raise ExportError(f"The stored file '{upload.filename}' cannot be re-read: {exc}") from exc
        titles = table[upload.title_column].fillna("").astype(str).str.strip()
        key_of = {title: role_key(title) if title else None for title in titles.unique()}
        table.insert(0, "source_file", upload.filename)
        table["_key"] = titles.map(key_of)
        parts.append(table)
    if not parts:
        raise ExportError("The project's uploads were stored without their files; export one row per role instead.")
    rows = pd.concat(parts, ignore_index=True, sort=False) if len(parts) > 1 else parts[0]
    mapping = roles[joined_columns].rename(
        columns={
            column: f"{column} (JobForge)" for column in joined_columns if column in rows.columns and column != "_key"
        }
    )
    merged = rows.merge(mapping, on="_key", how="left", sort=False).drop(columns=["_key"])
    if "role_id" in merged:
        merged["role_id"] = merged["role_id"].astype("Int64")
    return merged


def export_frame(session: Session, project_id: int, rows: str = "roles") -> pd.DataFrame:
    if rows not in ROW_MODES:
        raise ExportError(f"Unknown export rows '{rows}': use one of {', '.join(ROW_MODES)}.")
    return roles_frame(session, project_id) if rows == "roles" else original_frame(session, project_id)


def provenance(session: Session, project_id: int, user: str | None = None) -> Provenance:
    project = session.get(Project, project_id)
    if project is None:
        raise ExportError(f"Project {project_id} does not exist.")
    return Provenance(
        project=project.name,
        exported_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        onet_release=_release_versions(session, project_id),
        exported_by=user,
    )


def export_roles(
    session: Session, project_id: int, fmt: str = "csv", rows: str = "roles", user: str | None = None
) -> bytes:
    """The project's roles (``rows="roles"``) or original rows (``"original"``) as CSV or XLSX bytes.

    ``user`` (who exports, written into the file) must be allowed to read the project
    (PermissionDenied otherwise); the app and the CLI always pass it.
    """
    if user is not None:
        require(session, user, Permission.PROJECT_READ, project_id)
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format '{fmt}': use csv or xlsx.")
    about = provenance(session, project_id, user)
    frame = export_frame(session, project_id, rows)
    frame["onet_release"] = about.onet_release
    frame["exported_at"] = about.exported_at
    frame = neutralise_frame(frame)
    if fmt == "csv":
        # UTF-8 with a BOM so Excel opens accented titles correctly.
        return frame.to_csv(index=False).encode("utf-8-sig")
    return _xlsx(frame, about, rows)


def export_filename(project_name: str, fmt: str, rows: str = "roles") -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in project_name).strip("_") or "project"
    suffix = "roles" if rows == "roles" else "rows"
    return f"{safe}_{suffix}_{datetime.now(UTC):%Y%m%d}.{fmt}"


def _column_values(series: pd.Series) -> list[Any]:
    """A column as Python values for the writer: None for missing, plain str/int/float/bool."""
    values = series.astype(object).where(series.notna(), None).tolist()
    return [value if value is None or type(value) in (str, int, float, bool) else _plain(value) for value in values]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    return str(value)


def _xlsx(frame: pd.DataFrame, about: Provenance, rows: str) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # Strings are always written as strings: never turned into formulas, numbers, dates or links.
    workbook = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False, "constant_memory": True},
    )
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    sheet = workbook.add_worksheet("Roles" if rows == "roles" else "Rows")
    columns = [str(column) for column in frame.columns]
    text_columns = {index for index, name in enumerate(columns) if name.split(" (")[0] in CODE_COLUMNS}
    for index, name in enumerate(columns):
        width = min(max(len(name) + 2, 10), 60)
        sheet.set_column(index, index, width, text if index in text_columns else None)
    sheet.write_row(0, 0, columns, bold)
    # Column-wise clean-up (missing -> None, numpy scalars -> Python), then one write_row per row:
    # the writer's per-cell overhead dominates an export of many rows.
    cleaned = [_column_values(frame.iloc[:, index]) for index in range(len(columns))]
    for row_number, values in enumerate(zip(*cleaned, strict=True), start=1):
        sheet.write_row(row_number, 0, values)
    sheet.freeze_panes(1, 0)
    if len(frame):
        sheet.autofilter(0, 0, len(frame), max(len(columns) - 1, 0))
    _about_sheet(workbook, bold, about, rows, len(frame))
    workbook.close()
    return buffer.getvalue()


def _about_sheet(workbook: Any, bold: Any, about: Provenance, rows: str, count: int) -> None:
    sheet = workbook.add_worksheet("About")
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 100, wrap)
    lines: Sequence[tuple[str, str]] = [
        ("Project", about.project),
        ("Exported at", about.exported_at),
        ("Exported by", about.exported_by or ""),
        ("Rows", f"{count} ({'one per unique role' if rows == 'roles' else 'every original row'})"),
        ("O*NET release", about.onet_release),
        ("Made with", "JobForge: job roles mapped to O*NET-SOC occupations, reviewed by analysts."),
        (
            "Columns",
            "tier: HIGH / MEDIUM / LOW confidence of the proposal; status: proposed, confirmed, "
            "overridden (analyst chose another code) or needs_info; '<attribute> [source]': where a "
            "value came from (ANALYST, SOURCE, HIERARCHY, ONET, LLM).",
        ),
        ("O*NET credit", ONET_CREDIT.format(version=about.onet_release.replace("_", "."))),
    ]
    for row, (label, value) in enumerate(lines):
        sheet.write_string(row, 0, label, bold)
        sheet.write_string(row, 1, str(neutralise(value)), wrap)
