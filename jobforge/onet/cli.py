"""`python -m jobforge onet load | sync | status | activate` and `python -m jobforge setup`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from jobforge.cli import CommandError, acting_user
from jobforge.config import get_settings
from jobforge.db.engine import describe_url, get_engine
from jobforge.onet.loader import OnetLoadError, SyncResult, load_release
from jobforge.onet.releases import SyncStatus, UnknownRelease, activate_release, sync_status
from jobforge.onet.sync import DownloadProgress, OnetSyncService, load_default_release

# Counts shown by `onet status`, in this order.
SHOWN_COUNTS = (
    ("occupations", "occupations"),
    ("alternate_titles", "alternate titles"),
    ("reported_titles", "reported titles"),
    ("tasks", "tasks"),
    ("job_zones", "job zones"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    onet = subparsers.add_parser("onet", help="O*NET releases: load, sync, status, activate")
    commands = onet.add_subparsers(dest="onet_command", required=True)

    load = commands.add_parser("load", help="load a release from a zip or folder (default: the configured one)")
    load.add_argument("path", nargs="?", help="db_XX_X_text.zip or its folder (default: JOBFORGE_ONET_SOURCE, …)")
    load.add_argument("--version", help="version label, e.g. 30_1 (default: from the file name or Read Me)")
    load.add_argument("--no-activate", action="store_true", help="keep the current release active")
    load.set_defaults(handler=_load)

    sync = commands.add_parser("sync", help="download a release from the O*NET Resource Center and load it")
    sync.add_argument("--version", default=None, help="e.g. 30_1 (default: JOBFORGE_ONET_VERSION)")
    sync.add_argument("--no-activate", action="store_true", help="keep the current release active")
    sync.set_defaults(handler=_sync)

    status = commands.add_parser("status", help="the active release, its counts, all releases and the last syncs")
    status.add_argument("--limit", type=int, default=5, help="how many sync-log entries to show (default 5)")
    status.set_defaults(handler=_status)

    activate = commands.add_parser("activate", help="make a loaded release the active one")
    activate.add_argument("version", help="a loaded version, e.g. 30_1")
    activate.set_defaults(handler=_activate)

    setup = subparsers.add_parser("setup", help="migrate the store and load O*NET when no release is active")
    setup.set_defaults(handler=_setup)


@contextmanager
def _user_errors() -> Iterator[None]:
    """O*NET failures become one-line CLI errors (StoreError is handled by jobforge.cli)."""
    try:
        yield
    except (OnetLoadError, UnknownRelease) as exc:
        raise CommandError(str(exc)) from exc


def _say(message: str) -> None:
    print(message, flush=True)


class _DownloadBar:
    """A tqdm bar on stderr, created when the first bytes arrive (the total is known then)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, received: int, total: int | None) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)
        self._bar.update(received - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _with_bar(run: Callable[[DownloadProgress], SyncResult]) -> SyncResult:
    bar = _DownloadBar()
    try:
        return run(bar)
    finally:
        bar.close()


def _load(args: argparse.Namespace) -> int:
    engine = get_engine()
    activate = not args.no_activate
    with _user_errors():
        if args.path:
            result = load_release(
                engine, args.path, version=args.version, activate=activate, progress=_say, user=acting_user(args)
            )
        else:
            result = _with_bar(
                lambda bar: load_default_release(
                    engine, progress=_say, download_progress=bar, activate=activate, user=acting_user(args)
                )
            )
    _print_result(result, activate)
    return 0


def _sync(args: argparse.Namespace) -> int:
    engine = get_engine()
    version = args.version or get_settings().onet_version
    activate = not args.no_activate
    service = OnetSyncService(engine)
    with _user_errors():
        result = _with_bar(
            lambda bar: service.sync(version, progress=bar, messages=_say, activate=activate, user=acting_user(args))
        )
    _print_result(result, activate)
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = get_settings()
    engine = get_engine()
    print(f"Store: {describe_url(settings.resolved_database_url())}")
    print(format_status(sync_status(engine, limit=args.limit)))
    return 0


def _activate(args: argparse.Namespace) -> int:
    with _user_errors():
        release = activate_release(get_engine(), args.version, user=acting_user(args))
    print(f"O*NET {release.version} is now the active release ({release.occupation_count:,} occupations).")
    return 0


def _setup(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = settings.resolved_database_url()
    engine = get_engine(url)  # creates and migrates the store
    print(f"Store ready (migrated): {describe_url(url)}")
    user = _setup_user(engine, args)
    status = sync_status(engine, limit=0)
    if status.active is not None:
        print(f"O*NET {status.active.version} is active ({status.active.occupation_count:,} occupations); not loading.")
        return 0
    with _user_errors():
        if status.releases:  # loaded before but none active: reuse the newest rather than reload
            release = activate_release(engine, status.releases[0].version, user=user)
            print(f"Activated O*NET {release.version} ({release.occupation_count:,} occupations), already loaded.")
            return 0
        print("No O*NET release in the store yet; loading the default one.")
        result = _with_bar(lambda bar: load_default_release(engine, progress=_say, download_progress=bar, user=user))
    _print_result(result, activate=True)
    return 0


def _setup_user(engine: Any, args: argparse.Namespace) -> str | None:
    """Who `setup` loads O*NET as: nobody on a store without users (installing is not a person's
    work, and the app's first user should become admin), unless ``--user`` names the first admin."""
    from jobforge.access.users import user_count
    from jobforge.db.engine import session_factory

    if getattr(args, "user", None):
        return acting_user(args)
    with session_factory(engine)() as session:
        return acting_user(args) if user_count(session) else None


def _print_result(result: SyncResult, activate: bool) -> None:
    state = "active" if activate else "loaded, not active"
    print(
        f"O*NET {result.version} {state}: {_counts_line(result.counts or {})} ({result.seconds:.1f} s).",
        flush=True,
    )


def _counts_line(counts: dict[str, Any]) -> str:
    return ", ".join(f"{int(counts.get(key, 0)):,} {label}" for key, label in SHOWN_COUNTS)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [header, *rows]
    return "\n".join(
        "  " + "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
        for line in lines
    )


def format_status(status: SyncStatus) -> str:
    """The readable text of `onet status`."""
    out: list[str] = []
    if status.active is None:
        out.append("Active O*NET release: none. Run `python -m jobforge onet load` or `python -m jobforge setup`.")
    else:
        active = status.active
        loaded = f"loaded {_when(active.loaded_at)} UTC from {active.source}"
        out.append(f"Active O*NET release: {active.version} ({loaded})")
        out.append(f"  {_counts_line(active.counts)}")
    if status.releases:
        out.append("")
        out.append("Releases in the store:")
        rows = [
            [r.version, "yes" if r.is_active else "", f"{r.occupation_count:,}", _when(r.loaded_at), r.source]
            for r in status.releases
        ]
        out.append(format_table(["VERSION", "ACTIVE", "OCCUPATIONS", "LOADED (UTC)", "SOURCE"], rows))
    if status.recent:
        out.append("")
        out.append("Last loads and syncs:")
        rows = []
        for entry in status.recent:
            seconds = (
                f"{(entry.finished_at - entry.started_at).total_seconds():.1f}"
                if entry.finished_at and entry.started_at
                else ""
            )
            detail = entry.error if entry.status == "failed" else entry.source
            rows.append([_when(entry.started_at), entry.version, entry.status, seconds, (detail or "")[:160]])
        out.append(format_table(["STARTED (UTC)", "VERSION", "STATUS", "SECONDS", "SOURCE / ERROR"], rows))
    return "\n".join(out)
