"""CSV and XLSX exports of a project: one row per role, or every original row with its mapping.

- XLSX cells keep their type: text is written as a string cell exactly as it is (a string cell is
  never evaluated, so no apostrophe is added), numbers as numbers, dates as dates; SOC codes stay
  text (with a text format on code columns), so Excel never turns 11-1011 into a date.
- CSV has no cell types, so there a text cell that begins with = + - @ or a tab/CR is prefixed
  with ' (formula injection): spreadsheet programs show it instead of evaluating it. So is every
  line of a multi-line cell that begins so, and every cell holding a CR, LF, comma or quote is
  quoted (a bare CR would otherwise start a new row that a spreadsheet reads as a formula).
- A text over an XLSX cell's 32,767 characters is written cut, ending with a visible marker that
  says how much is missing (never cut silently); the CSV export has it whole.
- Attributes: the per-row export gives each row its own value (SOURCE, as the file has it) and
  fills only a row's empty cell from its role (see :func:`original_frame`).
- Provenance: the O*NET release and the export time are in every file (CSV: columns; XLSX: an
  "About" sheet that also credits the O*NET Resource Center under CC BY 4.0).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import Mapping, OnetRelease, Project, Role, RoleAttribute, SourceType, Upload
from jobforge.errors import JobForgeError
from jobforge.export.typed import cell_text, dates_in, numbers_in, upload_rows
from jobforge.imputation.attributes import project_attribute_names
from jobforge.imputation.row_values import project_summaries
from jobforge.ingest.placeholders import is_placeholder
from jobforge.ingest.reader import IngestError
from jobforge.ingest.uploads import role_key
from jobforge.onet.repository import active_release

_log = logging.getLogger(__name__)
FORMATS = ("csv", "xlsx")
ROW_MODES = ("roles", "original")
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A line inside a cell that starts like a formula: its line break is kept, an apostrophe inserted.
_DANGEROUS_LINE_START = re.compile(r"(\r\n|\r|\n)(?=[=+\-@\t])")
# What makes a CSV field need quotes: the delimiter, the quote, and either line-break character.
_CSV_SPECIAL = re.compile(r'[",\r\n]')
XLSX_MAX_CELL_CHARS = 32_767  # Excel's limit; xlsxwriter would cut a longer string without a word
XLSX_CUT_MARKER = " [… {missing:,} more characters cut: an XLSX cell holds 32,767; the CSV export has the full text]"
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
    """Text that a spreadsheet would run as a formula, made inert with an apostrophe: at the start
    of the cell and at the start of every line inside it ("x\\r=2+3" -> "x\\r'=2+3")."""
    if type(value) is not str:
        return value
    if "\r" in value or "\n" in value:
        value = _DANGEROUS_LINE_START.sub(r"\1'", value)
    return "'" + value if value.startswith(DANGEROUS_PREFIXES) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`neutralise` over every text cell and the header (one pass per text column)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            values = series.to_numpy(dtype=object)
            # Most cells need nothing: only those that start dangerously or hold a line break are looked at.
            safe = [
                neutralise(v) if type(v) is str and (v.startswith(DANGEROUS_PREFIXES) or "\n" in v or "\r" in v) else v
                for v in values
            ]
            out[column] = pd.Series(safe, index=series.index, dtype=object)
    out.columns = [neutralise(str(column)) for column in out.columns]
    return out


def csv_field(text: str) -> str:
    """One CSV field: quoted (quotes doubled) when it holds a comma, a quote, a CR or a LF."""
    return '"' + text.replace('"', '""') + '"' if _CSV_SPECIAL.search(text) else text


def csv_string(frame: pd.DataFrame) -> str:
    """A frame of text cells (see :func:`csv_text`) as CSV text with a header, LF between rows.

    Python's csv module (and so pandas) leaves a field with a bare CR unquoted when rows end in LF;
    a spreadsheet then starts a new row at that CR. Here every such field is quoted.
    """
    columns = [[csv_field(str(v)) for v in frame.iloc[:, i].tolist()] for i in range(len(frame.columns))]
    lines = [",".join(csv_field(str(name)) for name in frame.columns)]
    lines.extend(",".join(row) for row in zip(*columns, strict=True))
    return "\n".join(lines) + "\n"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """:func:`csv_string` as UTF-8 with a BOM, so Excel opens accented titles correctly."""
    return csv_string(frame).encode("utf-8-sig")


def fit_xlsx_cell(text: str) -> str:
    """``text`` cut to an XLSX cell's limit with a visible marker saying how much is missing."""
    if len(text) <= XLSX_MAX_CELL_CHARS:
        return text
    # The marker stating len(text) is at least as long as the one stating what is really missing.
    keep = XLSX_MAX_CELL_CHARS - len(XLSX_CUT_MARKER.format(missing=len(text)))
    return text[:keep] + XLSX_CUT_MARKER.format(missing=len(text) - keep)


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


def _attribute_frame(session: Session, project_id: int, agreement: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """role_id -> per attribute: value, [source], [confidence], [agreement] columns; and the attribute names.

    ``[agreement]`` says how many of the role's rows hold its SOURCE value ("54 of 199 rows").
    """
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
    empty = long["value"].isna() | (long["value"].astype(str).str.strip() == "")
    long.loc[empty, ["value", "source", "confidence"]] = None  # an empty cell has no provenance
    summaries = project_summaries(session, project_id) if agreement else {}
    long["agreement"] = [
        summaries[(role_id, name)].agreement_text()
        if source == SourceType.SOURCE and (role_id, name) in summaries
        else None
        for role_id, name, source in zip(long["role_id"], long["name"], long["source"], strict=True)
    ]
    names = _attribute_order(session, project_id, set(long["name"]))
    wide = long.pivot(index="role_id", columns="name", values=["value", "source", "confidence", "agreement"])
    columns: dict[str, pd.Series] = {}
    for name in names:
        columns[name] = wide[("value", name)]
        columns[f"{name} [source]"] = wide[("source", name)]
        columns[f"{name} [confidence]"] = pd.to_numeric(wide[("confidence", name)])
        if agreement:
            columns[f"{name} [agreement]"] = wide[("agreement", name)]
    return pd.DataFrame(columns), names


def _attribute_order(session: Session, project_id: int, present: set[str]) -> list[str]:
    """Attribute names as the uploads listed them, then the rest alphabetically."""
    listed: list[str] = []
    for columns in session.scalars(
        select(Upload.attribute_columns).where(Upload.project_id == project_id).order_by(Upload.id)
    ):
        listed += [name for name in columns or [] if name not in listed]
    names = [name for name in listed if name in present]
    return names + sorted(present - set(names))


def roles_frame(session: Session, project_id: int, agreement: bool = True) -> pd.DataFrame:
    """One row per role with its context, mapping and attributes (unneutralised).

    ``agreement`` adds "<attribute> [agreement]" columns (how many of the role's rows hold its value).
    """
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
    attributes, _names = _attribute_frame(session, project_id, agreement)
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


def original_frame(session: Session, project_id: int, typed: bool = False) -> pd.DataFrame:
    """Every original row of the project's uploads (re-read from the stored files), mapping joined.

    Each row's attribute columns say what JobForge holds for that row: the row's own value as the
    file has it (SOURCE), else its role's value (an analyst's, inherited, O*NET or imputed; a role
    value that summarises other rows of the role is HIERARCHY here, with their agreement as
    confidence). ``typed`` gives the file's cells typed (numbers, dates) for XLSX; otherwise text.
    """
    uploads = session.scalars(select(Upload).where(Upload.project_id == project_id).order_by(Upload.id)).all()
    if not uploads:
        raise ExportError("The project has no uploads to export rows from.")
    roles = roles_frame(session, project_id, agreement=False)
    names = _attribute_order(session, project_id, set(project_attribute_names(session, project_id)))
    for name in names:  # every attribute gets its JobForge columns, even when no role has a value yet
        if f"{name} [source]" not in roles.columns:
            roles[name], roles[f"{name} [source]"], roles[f"{name} [confidence]"] = None, None, np.nan
    keys = dict(session.execute(select(Role.id, Role.title_key).where(Role.project_id == project_id)).all())
    roles.insert(0, "_key", roles["role_id"].map(keys))
    dropped = ("title", "row_count", "headcount", *ROLE_CONTEXT)
    joined_columns = [c for c in roles.columns if c not in dropped]
    parts = [_upload_part(upload, names, typed) for upload in uploads if upload.content is not None]
    if not parts:
        raise ExportError("The project's uploads were stored without their files; export one row per role instead.")
    rows = pd.concat(parts, ignore_index=True, sort=False) if len(parts) > 1 else parts[0]
    # Rows of a deleted role belong to no role any more: they leave the export as they left the counts.
    rows = rows[rows["_key"].isna() | rows["_key"].isin(set(keys.values()))].reset_index(drop=True)
    own = {name: rows.pop(_OWN + name) for name in names}
    mapping = roles[joined_columns].rename(
        columns={
            column: f"{column} (JobForge)" for column in joined_columns if column in rows.columns and column != "_key"
        }
    )
    merged = rows.merge(mapping, on="_key", how="left", sort=False).drop(columns=["_key"])
    for name in names:
        _row_level(merged, name, own[name], typed)
    if "role_id" in merged:
        merged["role_id"] = merged["role_id"].astype("Int64")
    return merged


_OWN = "\x00own:"  # prefix of the working columns holding each row's own attribute value


def _upload_part(upload: Upload, names: list[str], typed: bool) -> pd.DataFrame:
    """One upload's rows (text or typed), its role keys and each row's own attribute values."""
    try:
        text, cells = upload_rows(upload.content or b"", upload.filename, upload.sheet, typed, upload.header_row)
    except IngestError as exc:  # pragma: no cover - the file was readable when uploaded
        raise ExportError(f"The stored file '{upload.filename}' cannot be re-read: {exc}") from exc
    table = (cells if typed else text).copy()
    titles = text[upload.title_column].fillna("").astype(str).str.strip()
    key_of = {title: role_key(title) if title and not is_placeholder(title) else None for title in titles.unique()}
    table.insert(0, "source_file", upload.filename)
    table["_key"] = titles.map(key_of)
    attribute_columns = set(upload.attribute_columns or [])
    for name in names:
        if name in attribute_columns and name in text.columns:
            present = text[name].fillna("").astype(str).str.strip() != ""
            table[_OWN + name] = table[name].where(present, None)
        else:
            table[_OWN + name] = None
    return table


def _row_level(frame: pd.DataFrame, name: str, own: pd.Series, typed: bool) -> None:
    """Put the row's own value (SOURCE) in the attribute's JobForge columns, else its role's value."""
    value_column = f"{name} (JobForge)" if f"{name} (JobForge)" in frame.columns else name
    has_own = own.notna().to_numpy()
    role_value = frame[value_column].astype(object)
    if typed:
        role_value = numbers_in(role_value)
        if any(isinstance(value, date) for value in own.dropna().tolist()):
            role_value = dates_in(role_value)  # a date column's role value is a date too
    role_source = frame[f"{name} [source]"].astype(object)
    frame[value_column] = np.where(has_own, own.astype(object).to_numpy(), role_value.to_numpy())
    frame[value_column] = frame[value_column].astype(object).where(pd.notna(frame[value_column]), None)
    # A role's SOURCE value summarises its other rows: for a row without a value it is inherited.
    inherited = role_source.where(role_source != SourceType.SOURCE, SourceType.HIERARCHY)
    frame[f"{name} [source]"] = np.where(has_own, SourceType.SOURCE, inherited.to_numpy())
    frame[f"{name} [source]"] = frame[f"{name} [source]"].astype(object).where(frame[value_column].notna(), None)
    confidence = pd.to_numeric(frame[f"{name} [confidence]"], errors="coerce")
    frame[f"{name} [confidence]"] = confidence.where(~has_own, 1.0).where(frame[value_column].notna())


def export_frame(session: Session, project_id: int, rows: str = "roles", typed: bool = False) -> pd.DataFrame:
    """The export's table, before provenance columns: ``typed`` keeps the file's numbers and dates (XLSX)."""
    if rows not in ROW_MODES:
        raise ExportError(f"Unknown export rows '{rows}': use one of {', '.join(ROW_MODES)}.")
    if rows == "original":
        return original_frame(session, project_id, typed)
    frame = roles_frame(session, project_id)
    if typed:
        names = _attribute_order(session, project_id, set(project_attribute_names(session, project_id)))
        for name in names:
            if name in frame.columns:
                frame[name] = numbers_in(frame[name].astype(object).where(frame[name].notna(), None))
    return frame


def provenance(session: Session, project_id: int, user: str | None = None, at: datetime | None = None) -> Provenance:
    """Who exported what, when (``at``, default now) and from which O*NET release."""
    project = session.get(Project, project_id)
    if project is None:
        raise ExportError(f"Project {project_id} does not exist.")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    return Provenance(
        project=project.name,
        exported_at=when.strftime("%Y-%m-%d %H:%M:%S UTC"),
        onet_release=_release_versions(session, project_id),
        exported_by=user,
    )


def export_roles(
    session: Session,
    project_id: int,
    fmt: str = "csv",
    rows: str = "roles",
    user: str | None = None,
    at: datetime | None = None,
) -> bytes:
    """The project's roles (``rows="roles"``) or original rows (``"original"``) as CSV or XLSX bytes.

    CSV: UTF-8 with a BOM, every cell as the text an analyst saw, formula-like text neutralised.
    XLSX: text stays text exactly (a string cell is never a formula), numbers numbers, dates dates.
    ``at`` fixes the export time (default now), so the same store always gives the same bytes.
    ``user`` (who exports, written into the file) must be allowed to read the project
    (PermissionDenied otherwise); the app and the CLI always pass it.
    """
    if user is not None:
        require(session, user, Permission.PROJECT_READ, project_id)
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format '{fmt}': use csv or xlsx.")
    about = provenance(session, project_id, user, at)
    frame = export_frame(session, project_id, rows, typed=fmt == "xlsx")
    frame["onet_release"] = about.onet_release
    frame["exported_at"] = about.exported_at
    if fmt == "csv":
        return csv_bytes(neutralise_frame(csv_text(frame)))
    return _xlsx(frame, about, rows)


def csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text: numbers without a spurious ".0", dates ISO, missing cells empty."""
    out = pd.DataFrame(index=frame.index)
    for index, column in enumerate(frame.columns):
        series = frame.iloc[:, index]
        if pd.api.types.infer_dtype(series, skipna=True) == "string":
            out[column] = series.astype(object).where(series.notna(), "")
        else:
            out[column] = [cell_text(value) for value in series.astype(object).tolist()]
    out.columns = list(frame.columns)
    return out


def export_filename(project_name: str, fmt: str, rows: str = "roles") -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in project_name).strip("_") or "project"
    suffix = "roles" if rows == "roles" else "rows"
    return f"{safe}_{suffix}_{datetime.now(UTC):%Y%m%d}.{fmt}"


def _column_values(series: pd.Series) -> list[Any]:
    """A column as Python values for the writer: None for missing; str, int, float, bool, dates kept."""
    values = series.astype(object).where(series.notna(), None).tolist()
    values = [value if value is None or type(value) in (str, int, float, bool) else _plain(value) for value in values]
    if any(type(value) is str and len(value) > XLSX_MAX_CELL_CHARS for value in values):
        values = [fit_xlsx_cell(value) if type(value) is str else value for value in values]
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, date | time):
        return value  # datetime is a date: written with a date format below
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    return str(value)


DATE_FORMATS = {datetime: "yyyy-mm-dd hh:mm:ss", date: "yyyy-mm-dd", time: "hh:mm:ss"}


def _xlsx(frame: pd.DataFrame, about: Provenance, rows: str) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # Strings are always written as strings: never turned into formulas, numbers, dates or links,
    # so no text needs an apostrophe (that is for CSV, which has no cell types).
    workbook = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False, "constant_memory": True},
    )
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    date_formats = {kind: workbook.add_format({"num_format": pattern}) for kind, pattern in DATE_FORMATS.items()}
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
    dated = [index for index, values in enumerate(cleaned) if any(isinstance(v, date | time) for v in values)]
    for row_number, values in enumerate(zip(*cleaned, strict=True), start=1):
        if not dated:
            sheet.write_row(row_number, 0, values)
            continue
        plain = list(values)
        for index in dated:
            plain[index] = None
        sheet.write_row(row_number, 0, plain)
        for index in dated:
            value = values[index]
            if isinstance(value, date | time):
                kind = datetime if isinstance(value, datetime) else type(value)
                sheet.write_datetime(row_number, index, value, date_formats.get(kind, date_formats[date]))
            elif value is not None:
                sheet.write(row_number, index, value)
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
            "value came from (ANALYST, SOURCE, HIERARCHY, ONET, LLM); '<attribute> [agreement]': how many "
            "of the role's rows hold its SOURCE value. In the per-row export a row's own value is SOURCE and "
            "is kept as the file has it; a row without one takes its role's value.",
        ),
        ("O*NET credit", ONET_CREDIT.format(version=about.onet_release.replace("_", "."))),
    ]
    for row, (label, value) in enumerate(lines):
        sheet.write_string(row, 0, label, bold)
        sheet.write_string(row, 1, str(value), wrap)
