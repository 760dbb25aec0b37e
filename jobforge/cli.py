"""`python -m jobforge …`: the same services as the app, without a browser.

Each area registers its own sub-commands (``register(subparsers)`` in its ``cli`` module), so
this file stays small. Errors print one clear line and exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from jobforge.db.engine import StoreError

COMMAND_MODULES = (
    "jobforge.onet.cli",  # onet load | sync | status; setup
    "jobforge.mapping.cli",  # map
    "jobforge.evaluation.cli",  # eval
    "jobforge.imputation.cli",  # impute
    "jobforge.jobs.cli",  # worker
    "jobforge.export.cli",  # export | projects
)


class CommandError(RuntimeError):
    """A user-facing failure: printed as one line, exit code 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobforge", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue  # that area (or its package) has no commands yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (CommandError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
