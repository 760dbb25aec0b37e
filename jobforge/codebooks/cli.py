"""`python -m jobforge codebook import | list | disable | enable | delete`: codebooks without a browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from jobforge.codebooks.codes import SYSTEMS


def register(subparsers: Any) -> None:
    codebook = subparsers.add_parser(
        "codebook",
        help="codebooks: import files of already-decided titles (title + code) that proposals learn from",
        description="A codebook is a CSV/XLSX of decided titles with a title column and a code column "
        "(O*NET-SOC 2019, SOC 2018, O*NET-SOC 2010 or SOC 2010). Enabled codebooks vote in `map` and `eval`.",
    )
    commands = codebook.add_subparsers(dest="codebook_command", required=True)
    load = commands.add_parser("import", help="import a codebook file (one transaction: all rows or none)")
    load.add_argument("file", help="CSV or XLSX file")
    load.add_argument("--title-column", required=True, help="the column holding the decided titles")
    load.add_argument("--code-column", required=True, help="the column holding their codes")
    load.add_argument("--system", choices=SYSTEMS, default="auto", help="code system of the codes (default auto)")
    load.add_argument("--name", help="a name for the codebook (default: the file name)")
    load.add_argument("--note", default="", help="a note kept with the codebook")
    load.add_argument("--sheet", help="the workbook sheet (default: found as on Upload)")
    load.add_argument("--header-row", type=int, help="the header's row number (default: found automatically)")
    load.set_defaults(handler=run_import)
    listing = commands.add_parser("list", help="list the store's codebooks")
    listing.set_defaults(handler=run_list)
    for name, text in (("disable", "stop a codebook voting"), ("enable", "let a disabled codebook vote again")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("id", type=int)
        sub.set_defaults(handler=run_enable, enabled=name == "enable")
    remove = commands.add_parser("delete", help="delete a codebook and its entries (audited)")
    remove.add_argument("id", type=int)
    remove.set_defaults(handler=run_delete)


def run_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from jobforge.cli import CommandError, acting_user
    from jobforge.codebooks.service import import_codebook
    from jobforge.db.engine import get_engine, session_factory

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    bars: list[Any] = []  # opened at the first stored chunk: a refused file shows only its error

    def progress(done: int, total: int, message: str) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="codebook", unit="entry", file=sys.stderr))
        bars[0].n = done
        bars[0].refresh()

    try:
        with session_factory(get_engine())() as session:
            result = import_codebook(
                session,
                acting_user(args),
                data,
                path.name,
                args.title_column,
                args.code_column,
                system=args.system,
                name=args.name,
                note=args.note,
                sheet=args.sheet,
                header_row=args.header_row,
                progress=progress,
            )
    finally:
        for bar in bars:
            bar.close()
    print(
        f"Codebook {result.codebook_id} '{result.name}': {result.imported:,} entries imported, "
        f"{result.translated:,} translated to O*NET-SOC 2019 ({result.split:,} split into several codes), "
        f"{result.skipped:,} rows skipped (empty title or code)."
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from jobforge.codebooks.service import list_codebooks
    from jobforge.db.engine import get_engine, session_factory

    with session_factory(get_engine())() as session:
        books = list_codebooks(session)
    if not books:
        print("No codebooks. Import one: `python -m jobforge codebook import FILE --title-column … --code-column …`.")
        return 0
    for book in books:
        state = "enabled" if book.enabled else "disabled"
        print(
            f"{book.id}\t{book.name}\t{state}\t{book.entries:,} entries ({book.translated:,} translated, "
            f"{book.skipped:,} skipped)\t{book.system}\t{book.filename}\t{book.imported_by or ''}\t"
            f"{book.imported_at:%Y-%m-%d %H:%M}"
        )
    return 0


def run_enable(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.codebooks.service import set_enabled
    from jobforge.db.engine import get_engine, session_factory

    with session_factory(get_engine())() as session:
        set_enabled(session, acting_user(args), args.id, args.enabled)
    print(f"Codebook {args.id} {'enabled' if args.enabled else 'disabled'}.")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.codebooks.service import delete_codebook
    from jobforge.db.engine import get_engine, session_factory

    with session_factory(get_engine())() as session:
        name = delete_codebook(session, acting_user(args), args.id)
    print(f"Deleted codebook {args.id} '{name}'.")
    return 0
