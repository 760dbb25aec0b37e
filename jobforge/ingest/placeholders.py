"""Titles that stand for no title: "TBD", "n/a", "Vacant", "Open Req 1234", "various", "#N/A".

HR files hold rows for open positions and gaps filled with a placeholder. Mapped as titles they
become roles ("TBD" → some occupation) and skew counts; they are counted with the blank titles
instead and reported with them. The list is data below; a title is a placeholder when, case,
punctuation and trailing numbers aside, it is one of these phrases, an Excel error value, or
nothing but punctuation.
"""

from __future__ import annotations

import re
import unicodedata

PLACEHOLDER_PHRASES = frozenset(
    {
        # not decided yet
        "tbd", "tba", "tbc", "tbh", "to be determined", "to be decided", "to be confirmed", "to be announced",
        "to be hired", "to be named", "pending", "placeholder", "new hire", "new position", "new role",
        # not applicable / no value
        "n a", "na", "n a n a", "not applicable", "not available", "none", "null", "nil", "nan", "unknown",
        "blank", "empty", "no title", "untitled", "not specified", "unspecified", "missing", "x", "xx", "xxx",
        "test", "dummy",
        # open positions
        "vacant", "vacancy", "vacant position", "vacant role", "open", "open req", "open reqs", "open requisition",
        "open position", "open role", "open headcount", "open hc", "req", "requisition", "position open",
        "unfilled", "unfilled position", "headcount",
        # many things at once
        "various", "varies", "various roles", "various titles", "multiple", "multiple roles", "misc",
        "miscellaneous", "other", "others", "all", "see notes", "see comments", "see below",
    }
)  # fmt: skip
_EXCEL_ERROR = re.compile(r"#(?:n/a|ref!|value!|name\?|div/0!|null!|num!|spill!|calc!|getting_data)", re.I)
_NOT_WORD = re.compile(r"[^\w]+")
_TRAILING_NUMBER = re.compile(r"(?:\s+(?:no|nr|id)?\s*\d[\d\s]*)+$")
_LEADING_NUMBER = re.compile(r"^\d+\s+")


def placeholder_form(title: str) -> str:
    """The title folded for the comparison: lower case, words only, requisition numbers dropped."""
    folded = _NOT_WORD.sub(" ", title.casefold()).replace("_", " ")
    folded = " ".join(folded.split())
    folded = _LEADING_NUMBER.sub("", _TRAILING_NUMBER.sub("", folded)).strip()
    words = folded.split()
    if len(words) > 1 and all(len(word) == 1 for word in words):
        return "".join(words)  # "T.B.D." and "N/A" are spelled letter by letter
    return folded


def is_placeholder(title: str) -> bool:
    """``title`` names no job ("TBD", "N/A", "Vacant", "Open Req #1234", "Various", "#N/A", "—")."""
    text = title.strip()
    if not text:
        return False  # a blank title is blank, not a placeholder
    if _EXCEL_ERROR.fullmatch(text):
        return True
    if all(unicodedata.category(char).startswith(("P", "Z")) for char in text):
        return True  # only punctuation: "-", "?", "…", "--"
    form = placeholder_form(text)
    return form in PLACEHOLDER_PHRASES
