"""Readings of a title for retrieval: which long form each ambiguous abbreviation takes.

:func:`~jobforge.retrieval.normalize.parse_title` expands every abbreviation the title itself
decides ("AP Clerk": the clerk decides accounts payable; "Pharmacy Tech": as the noun, "tech" is a
technician). What is left undecided ("AP", "Sec Analyst", "Prod Manager") is decided here from the
role's context columns (department, job family, job function, description): the reading whose cue
words they contain most. When they do not decide either, every reading is returned and retrieval
searches each; a candidate then says which reading it came from.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from jobforge.retrieval.normalize import (
    AbbreviationReading,
    SearchForm,
    TermChoice,
    _fold,
    _search_rewrite,
    choose_reading,
    form_of,
    is_reworded,
    parse_title,
    search_form,
    stem,
)

# Context fields whose words decide a reading (the description only through its first words).
CONTEXT_FIELDS = ("department", "job_family", "job_function", "unit_group", "level", "description")
DESCRIPTION_WORDS = 60
MAX_READINGS = 6  # combinations searched when several terms are undecided


@dataclass(frozen=True)
class TitleReading:
    """One way to read a title: its search form and what was read into it."""

    form: SearchForm
    labels: tuple[str, ...] = ()  # "AP = accounts payable (from the title)", one per term read
    via: str = ""  # "abbreviation" when a term with several readings was read, "" otherwise
    decided: bool = True  # False: one of several readings searched because nothing decided

    @property
    def label(self) -> str:
        return "; ".join(self.labels)


def context_words(context: Mapping[str, str] | None) -> frozenset[str]:
    """The stemmed words of a role's context columns (empty for None)."""
    if not context:
        return frozenset()
    words: list[str] = []
    for name in CONTEXT_FIELDS:
        value = context.get(name)
        if not value:
            continue
        folded = "".join(ch if ch.isalnum() else " " for ch in _fold(str(value))).split()
        words += folded[:DESCRIPTION_WORDS] if name == "description" else folded
    return frozenset(stem(word) for word in words)


_HOW = {"position": "from its place in the title", "title": "from the title", "context": "from the context"}


def _label(choice: TermChoice, reading: AbbreviationReading, how: str) -> str:
    return f"{reading.label} ({_HOW[how]})" if how in _HOW else f"{reading.label} (one of {len(choice.readings)})"


def read_title(title: str, context: Mapping[str, str] | None = None) -> list[TitleReading]:
    """The readings of ``title`` to search, most decided first (always at least one)."""
    title = title or ""
    parsed = parse_title(_search_rewrite(title))
    if not parsed.choices:
        return [TitleReading(search_form(title))]
    words = context_words(context)
    fixed: list[str] = []
    options: list[list[tuple[TermChoice, AbbreviationReading, str]]] = []
    for choice in parsed.choices:
        if choice.decided_by == "default":
            # "Cashier PT" is part-time; "PT" in a rehabilitation department a physical therapist.
            picked = choose_reading(choice.readings, words) if words else None
            if picked is not None and picked is not choice.chosen:
                options.append([(choice, picked, "context")])
            continue
        if choice.chosen is not None:
            fixed.append(_label(choice, choice.chosen, choice.decided_by))
            continue
        chosen = choose_reading(choice.readings, words) if words else None
        if chosen is not None:
            options.append([(choice, chosen, "context")])
        else:
            usable = [r for r in choice.readings if not r.needs_cue] or list(choice.readings)
            options.append([(choice, reading, "every") for reading in usable])
    if not options:
        return [TitleReading(search_form(title), tuple(fixed), "abbreviation" if fixed else "", True)]
    out = []
    if any(len(option) > 1 for option in options):
        # Undecided: the title as written is searched too (O*NET writes some titles with the
        # same abbreviation: "Radiation Therapist (RT)"), marked like any other reading.
        literal = tuple(fixed) + tuple(f"{choice.term.upper()} as written" for choice, *_ in (o[0] for o in options))
        out.append(TitleReading(search_form(title), literal, "abbreviation", False))
    for combination in itertools.islice(itertools.product(*options), MAX_READINGS):
        segments = [list(segment) for segment in parsed.segments]
        # Replace from the right so earlier positions stay valid.
        for choice, reading, _how in sorted(combination, key=lambda item: (-item[0].segment, -item[0].start)):
            segment = segments[choice.segment]
            segment[choice.start : choice.start + choice.length] = reading.reading.split()
        kept = tuple(tuple(segment) for segment in segments if segment)
        if not kept:
            continue
        labels = tuple(fixed) + tuple(_label(choice, reading, how) for choice, reading, how in combination)
        decided = all(how == "context" for _choice, _reading, how in combination)
        out.append(TitleReading(form_of(kept), labels, "abbreviation", decided))
    return out or [TitleReading(search_form(title))]


def rewording_of(title: str) -> str:
    """"rewording" when retrieval reads the title in other words ("Head of X" -> "Director of X")."""
    return "rewording" if is_reworded(title) else ""
