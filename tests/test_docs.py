"""The README stays true: every setting and every command is documented there."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from jobforge.cli import build_parser
from jobforge.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _env_names(name: str) -> list[str]:
    field = Settings.model_fields[name]
    alias = field.validation_alias
    if alias is not None:  # provider keys use the providers' own variable names
        return [choice for choice in alias.choices if not choice.startswith("JOBFORGE_")]
    return [f"JOBFORGE_{name.upper()}"]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    missing = [env for env in _env_names(name) if f"`{env}`" not in README and f"{env}`" not in README]
    assert not missing, f"document {missing} in README.md's Configuration table"


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented_in_the_readme(command: str) -> None:
    assert f"python -m jobforge {command}" in README


def test_readme_shows_the_two_commands() -> None:
    assert "make run" in README and "make test" in README


def test_readme_screenshots_exist() -> None:
    root = Path(__file__).resolve().parent.parent
    for line in README.splitlines():
        if "](docs/screenshots/" in line:
            for part in line.split("](")[1:]:
                path = part.split(")")[0]
                assert (root / path).exists(), path
