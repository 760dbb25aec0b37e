"""Showing spreadsheet text safely: data is escaped before it is mixed into Markdown."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


def md(value: object) -> str:
    """``value`` as literal text inside Markdown (no links, emphasis, directives or HTML)."""
    if value is None:
        return ""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def pct(part: float, whole: float) -> str:
    return f"{(part / whole):.0%}" if whole else "—"
