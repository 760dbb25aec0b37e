"""`python -m jobforge …`: the same services as the app, without a browser.

Each area registers its own sub-commands (``register(subparsers)`` in its ``cli`` module), so
this file stays small. Errors print one clear line and exit non-zero. Every command acts as a named
user (``--user``, before or after the command; default JOBFORGE_USER, else the OS user) with the
same permission checks as the app.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from jobforge.errors import JobForgeError

COMMAND_MODULES = (
    "jobforge.onet.cli",  # onet load | sync | status; setup
    "jobforge.mapping.cli",  # map
    "jobforge.evaluation.cli",  # eval
    "jobforge.imputation.cli",  # impute
    "jobforge.jobs.cli",  # worker
    "jobforge.export.cli",  # export | projects
    "jobforge.access.cli",  # users …; projects members | add-member | remove-member (after export: extends `projects`)
    "jobforge.review.opinions_cli",  # opinions sample | agreement
    "jobforge.codebooks.cli",  # codebook import | list | disable | enable | delete
    "jobforge.review.deletion_cli",  # uploads list | delete; roles delete; projects archive | restore | delete
)


class CommandError(JobForgeError, RuntimeError):
    """A user-facing failure: printed as one line, exit code 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobforge", description=__doc__.splitlines()[0])
    parser.add_argument("--user", default=None, help="act as this user (default: JOBFORGE_USER, else the OS user)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    _accept_user_everywhere(parser)
    return parser


def _accept_user_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--user`` follow any (sub-)command too: ``python -m jobforge onet load --user ada``."""
    for action in parser._actions:  # argparse keeps sub-commands only here
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if not any("--user" in a.option_strings for a in sub._actions):
                    sub.add_argument("--user", default=argparse.SUPPRESS, help="act as this user")
                _accept_user_everywhere(sub)


def acting_user(args: argparse.Namespace) -> str:
    """Who a command acts as: ``--user``, else JOBFORGE_USER, else the OS user."""
    from jobforge.config import get_settings

    return " ".join((getattr(args, "user", None) or get_settings().user or getpass.getuser()).split())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except JobForgeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug or a store failure: one line for the user, the traceback in the log file
        log_file = _log_traceback(args.command)
        print(f"error: {unexpected_error_line(exc)}; the traceback is in {log_file}", file=sys.stderr)
        return 1


# A store error's own text holds the SQL and its parameters: only the driver's first line is shown.
MAX_LINE_CHARS = 300


def unexpected_error_line(exc: BaseException) -> str:
    """One line about an error JobForge did not word itself: never SQL, parameters or a key."""
    from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

    from jobforge.redaction import scrub

    name = type(exc).__name__
    if isinstance(exc, StatementError):
        orig = exc.orig  # the driver's error (its message has no SQL)
        reason = (str(orig).strip().splitlines() or [""])[0] if orig is not None else ""
        if isinstance(exc, OperationalError):
            what = "the store could not be used"
        elif isinstance(exc, IntegrityError):
            what = "the store refused the change"
        else:
            what = "the store refused the command"
        detail = f"{name}: {reason}" if reason else name
        return scrub(f"{what} ({detail})")[:MAX_LINE_CHARS]
    first = (str(exc).strip().splitlines() or [""])[0]
    return scrub(f"unexpected {name}: {first}" if first else f"unexpected {name}")[:MAX_LINE_CHARS]


def _log_traceback(command: str) -> Path:
    """Append the current exception's traceback to ``<data dir>/logs/cli.log``; returns the file."""
    from jobforge.config import get_settings

    folder = Path(get_settings().data_dir) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    log_file = folder / "cli.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    logger = logging.getLogger("jobforge.cli")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("Unexpected error in `%s`", command, exc_info=True)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return log_file
