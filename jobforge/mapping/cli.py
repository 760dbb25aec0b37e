"""`python -m jobforge map FILE`: map a spreadsheet's job titles headlessly.

The file is stored as an upload of a project (named after the file unless ``--project`` says
otherwise), its unique roles are mapped with a progress bar on stderr, and one row per unique role
is written as CSV to stdout, or to ``--out`` (CSV or XLSX).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from jobforge.cli import CommandError, acting_user

# Short names accepted by --context for the role context fields.
CONTEXT_ALIASES = {
    "family": "job_family",
    "job_family": "job_family",
    "function": "job_function",
    "job_function": "job_function",
    "department": "department",
    "dept": "department",
    "level": "level",
    "grade": "level",
    "description": "description",
    "desc": "description",
    "headcount": "headcount",
    "unit_group": "unit_group",
    "unit": "unit_group",
}
OUTPUT_COLUMNS = [
    "title",
    "count",
    "code",
    "onet_title",
    "tier",
    "score",
    "source",
    "status",
    "rationale",
    "alternatives",
    "merged_titles",  # other spellings of the title that became this role ("Store Mgr 127; Store Manager - Dallas TX")
]
ALTERNATIVES = 5
# Cells starting with these are formulas to Excel and friends: written with a leading quote.


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "map",
        help="map the job titles of a CSV/XLSX file to O*NET-SOC occupations",
        description="Map the unique job titles of a CSV or XLSX file to O*NET-SOC occupations and write "
        "one row per unique role (title, count, code, O*NET title, tier, score, rationale, alternatives).",
    )
    parser.add_argument("file", type=Path, help="the CSV or XLSX file")
    parser.add_argument("--column", help="the job-title column (default: detected from the headers)")
    parser.add_argument(
        "--sheet",
        help="the XLSX sheet (default: the first visible sheet with a title-like column, as the Upload page opens)",
    )
    parser.add_argument(
        "--header-row",
        type=int,
        metavar="N",
        help="the row that names the columns, as the spreadsheet numbers it (default: found automatically, "
        "skipping report titles, notes and blank rows above it)",
    )
    parser.add_argument(
        "--attribute",
        action="append",
        default=None,
        metavar="COLUMN",
        help="an attribute column whose values are kept with each role (education, experience, …); repeatable. "
        "Default: the attribute columns detected, as on the Upload page",
    )
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="a context column, e.g. family='Job Family' (fields: family, function, department, level, "
        "description, headcount, unit_group); repeatable. Default: the context columns detected.",
    )
    parser.add_argument(
        "--provider",
        choices=("offline", "anthropic", "openai", "auto"),
        default=None,
        help="who chooses among the candidates (default: the JOBFORGE_PROVIDER setting, 'auto')",
    )
    parser.add_argument("--project", help="the project to store the roles in (default: named after the file)")
    parser.add_argument(
        "--scope",
        choices=("unmapped", "all", "low", "unconfirmed"),
        default="unmapped",
        help="which of the project's roles to (re)map; confirmed mappings are never changed (default: unmapped); "
        "'unconfirmed' re-proposes only unreviewed roles with the latest decisions (as Review's 'Update proposals "
        "from decisions')",
    )
    parser.add_argument("--out", type=Path, help="write to this .csv or .xlsx file instead of stdout")
    parser.add_argument("--batch-size", type=int, help="roles per LLM call (or per committed batch offline)")
    parser.add_argument(
        "--batch-api",
        action="store_true",
        help="send the roles to the provider's batch API (Anthropic Message Batches / OpenAI Batch) as one "
        "submission and wait for it: half the price, but results can take up to 24 hours. Needs an LLM "
        "provider (an error when the provider is or resolves to offline); JOBFORGE_LLM_BATCH_POLL_INTERVAL "
        "sets the seconds between status checks",
    )
    parser.set_defaults(handler=run_map)


def parse_context(items: list[str]) -> dict[str, str]:
    context: dict[str, str] = {}
    for item in items:
        name, sep, column = item.partition("=")
        field = CONTEXT_ALIASES.get(name.strip().lower().replace(" ", "_").replace("-", "_"))
        if not sep or not column.strip() or field is None:
            raise CommandError(
                f"--context {item!r}: use FIELD=COLUMN with FIELD one of {', '.join(sorted(set(CONTEXT_ALIASES)))}."
            )
        context[field] = column.strip()
    return context


def run_map(args: argparse.Namespace) -> int:
    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.ingest.reader import IngestError
    from jobforge.ingest.uploads import build_roles, create_upload
    from jobforge.mapping.factory import ProviderUnavailable, resolve_provider
    from jobforge.mapping.service import map_roles
    from jobforge.onet.repository import NoActiveRelease, require_active_release

    settings = get_settings()
    if args.out is not None and args.out.suffix.lower() not in (".csv", ".xlsx"):
        raise CommandError(f"--out {args.out}: write a .csv or .xlsx file.")
    if args.batch_size is not None and args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1.")
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {args.file}: {exc.strerror or exc}") from exc
    try:
        choice = resolve_provider(args.provider, settings)
    except ProviderUnavailable as exc:
        raise CommandError(str(exc)) from exc
    if args.batch_api and not choice.is_llm:
        reason = f" ({choice.note})" if choice.note else ""
        raise CommandError(f"--batch-api needs an LLM provider (anthropic or openai), not offline{reason}.")
    if choice.note:
        print(choice.note, file=sys.stderr)

    if args.header_row is not None and args.header_row < 1:
        raise CommandError("--header-row must be 1 or more (the first row is 1).")
    # The URL explicitly: get_engine() without one caches the first store a process used.
    engine = get_engine(settings.resolved_database_url())
    user = acting_user(args)
    with session_factory(engine)() as session:  # refused before the file is read, not after
        _check_may_map(session, args.project or args.file.stem, user)
    opened, title_column, context, attributes = _columns(args, data)
    df = opened.frame
    try:
        built = build_roles(df, title_column, context, attributes)
    except IngestError as exc:
        raise CommandError(str(exc)) from exc

    with session_factory(engine)() as session:
        try:
            require_active_release(session)
        except NoActiveRelease as exc:
            raise CommandError(str(exc)) from exc
        project = _project(session, args.project or args.file.stem, user)
        try:
            upload = create_upload(
                session,
                project.id,
                args.file.name,
                data,
                opened.sheet,
                title_column,
                context,
                attributes,
                user,
                frame=df,
            )
        except IngestError as exc:
            raise CommandError(str(exc)) from exc
        for warning in upload.summary.warnings:  # the same warnings the Upload page shows
            print(f"warning: {warning}", file=sys.stderr)
        summary = map_roles(
            session,
            project.id,
            provider=choice.provider,
            scope=args.scope,
            batch_size=args.batch_size,
            progress=_progress_bar(),
            batch_api=args.batch_api,
            user=user,
        )
        table = mapped_table(session, project.id, built.roles)
    _write(table, args.out)
    _report(summary, choice.note, f"Project '{project.name}': {len(built.roles)} unique roles from {len(df)} rows")
    return 0


def _report(summary: Any, printed_note: str | None, head: str) -> None:
    for note in summary.notes:
        if note != printed_note:  # that one was printed before the run
            print(note, file=sys.stderr)
    sources = ", ".join(f"{name} {count}" for name, count in sorted(summary.by_source.items())) or "none"
    print(
        f"{head}; mapped now {summary.mapped} ({sources}); {summary.skipped_confirmed} confirmed by analysts left "
        "unchanged.",
        file=sys.stderr,
    )


def _columns(args: argparse.Namespace, data: bytes) -> tuple[Any, str, dict[str, str], list[str]]:
    """The file read as Upload reads it (sheet, header row), and its title, context and attribute columns."""
    from jobforge.ingest.reader import IngestError
    from jobforge.ingest.sandbox import open_bounded

    try:
        opened = open_bounded(data, args.file.name, args.sheet, args.header_row)
    except IngestError as exc:
        raise CommandError(str(exc)) from exc
    df, guess = opened.frame, opened.guess
    if opened.sheet_note:
        print(opened.sheet_note, file=sys.stderr)
    header = opened.header_note.replace("as you chose", "as chosen with --header-row")
    print(f"{header} Columns: {', '.join(map(str, df.columns))}.", file=sys.stderr)
    if opened.title_problem and not args.column:
        raise CommandError(f"{opened.title_problem} (--sheet, --header-row, or --column to name it.)")
    title_column = args.column or guess.title
    listed = ", ".join(map(str, df.columns))
    if title_column not in df.columns:
        raise CommandError(f"The column '{title_column}' is not in the file. Columns: {listed}.")
    context = parse_context(args.context) if args.context else dict(guess.context)
    attributes = list(args.attribute) if args.attribute is not None else list(guess.attributes)
    missing = [column for column in attributes if column not in df.columns]
    if missing:
        raise CommandError(f"--attribute {missing[0]!r} is not a column of the file. Columns: {listed}.")
    attributes = [column for column in attributes if column != title_column and column not in context.values()]
    return opened, title_column, context, attributes


def _existing_project(session: Any, name: str) -> Any:
    from sqlalchemy import func, select

    from jobforge.db.models import Project

    return session.scalar(select(Project).where(func.lower(Project.name) == " ".join(name.split()).lower()))


def _check_may_map(session: Any, name: str, user: str) -> None:
    """Raise PermissionDenied unless ``user`` may map into the project ``name`` (or create it)."""
    from jobforge.access import Permission, require

    existing = _existing_project(session, name)
    if existing is None:
        require(session, user, Permission.PROJECT_CREATE)
    else:
        require(session, user, Permission.PROJECT_WRITE, existing.id)


def _project(session: Any, name: str, user: str) -> Any:
    from jobforge.projects import create_project

    existing = _existing_project(session, name)
    return existing if existing is not None else create_project(session, name, user)


def _progress_bar() -> Any:
    from tqdm import tqdm

    from jobforge.mapping.service import WAITING_FOR_BATCH

    bar: dict[str, Any] = {}

    def report(done: int, total: int, message: str) -> None:
        if message.startswith(WAITING_FOR_BATCH) and bar.get("waiting") != message:
            bar["waiting"] = message  # shown once per batch, not at every status check
            print(message, file=sys.stderr)
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="role", desc="Mapping", file=sys.stderr, initial=0)
        progress = bar["bar"]
        progress.total = total
        progress.update(done - progress.n)
        if done >= total:
            progress.close()

    return report


def mapped_table(session: Any, project_id: int, roles: list[Any]) -> pd.DataFrame:
    """One row per unique role of the file, with its stored mapping."""
    from sqlalchemy import select

    from jobforge.db.models import Mapping, Role

    stored: dict[str, tuple[Role, Mapping | None]] = {}
    keys = [role.title_key for role in roles]
    for start in range(0, len(keys), 500):
        query = (
            select(Role, Mapping)
            .outerjoin(Mapping, Mapping.role_id == Role.id)
            .where(Role.project_id == project_id, Role.title_key.in_(keys[start : start + 500]))
        )
        for role, mapping in session.execute(query):
            stored[role.title_key] = (role, mapping)
    rows = []
    for role in roles:
        mapping = stored.get(role.title_key, (None, None))[1]
        rows.append(
            {
                "title": role.title,
                "count": role.row_count,
                "code": mapping.onet_code if mapping else None,
                "onet_title": mapping.onet_title if mapping else None,
                "tier": mapping.tier if mapping else None,
                "score": mapping.score if mapping else None,
                "source": mapping.source if mapping else None,
                "status": mapping.status if mapping else None,
                "rationale": mapping.rationale if mapping else None,
                "alternatives": alternatives(mapping) if mapping else "",
                "merged_titles": "; ".join(role.merged_spellings),
            }
        )
    return pd.DataFrame(rows, columns=OUTPUT_COLUMNS)


def alternatives(mapping: Any) -> str:
    """The top candidates other than the proposal: "code title; code title; …"."""
    others = [c for c in mapping.candidates or [] if c.get("code") and c.get("code") != mapping.onet_code]
    return "; ".join(f"{c['code']} {c.get('title', '')}".strip() for c in others[:ALTERNATIVES])


def _write(table: pd.DataFrame, out: Path | None) -> None:
    # The export's CSV rules: formula starts made inert on every line, CR/LF/comma/quote cells quoted.
    from jobforge.export.writers import csv_string, csv_text, fit_xlsx_cell, neutralise

    safe = table.copy()
    for column in ("title", "onet_title", "rationale", "alternatives", "merged_titles"):
        safe[column] = safe[column].map(neutralise)
    if out is None:
        sys.stdout.write(csv_string(csv_text(safe)))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        fitted = safe.map(lambda value: fit_xlsx_cell(value) if isinstance(value, str) else value)  # marked, not cut
        fitted.to_excel(out, index=False, sheet_name="Mapped roles")
    else:
        out.write_bytes(csv_string(csv_text(safe)).encode("utf-8"))
    print(f"Wrote {len(table)} roles to {out}", file=sys.stderr)
