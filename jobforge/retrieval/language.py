"""Is a title English? If not, which language, and what does it say in English (offline)?

A measured word-list rule, not a general language detector: a title's words are looked up in
the English vocabulary of the O*NET release (every word of its titles, descriptions, tasks and
technology; the index supplies it) and in a small bundled dictionary of the commonest
occupational words of German, French and Spanish (``data/translations.csv``). General detectors
tried on one- to three-word titles were wrong too often to be trusted (bench/RESULTS.md, "Other
languages"); a title's own words, checked against the vocabulary it will be matched with, are
what decide whether an English exact match can be true.

A title is **not English** when more of its words are foreign (in a dictionary, or written with
letters English titles do not use — "ä", "ñ", "ß" — and unknown to the English vocabulary) than
are English, or when none of its words is English at all (nor a near spelling of one). A
translation is offered when the dictionary covers the title's words (German compounds are split
at a known last part: "Softwareentwickler" = "Software" + "Entwickler"); otherwise the analyst
chooses by hand.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jobforge.retrieval.normalize import _GENDER_TAG, _INCLUSIVE_ENDING, DATA_DIR, _fold, parse_title

LANGUAGE_NAMES = {"de": "German", "fr": "French", "es": "Spanish", "?": "language not recognised"}
# Letters no English job title is written with (é/è/à also occur in English loanwords: "Café").
FOREIGN_LETTERS = {"ä": "de", "ö": "de", "ü": "de", "ß": "de", "ñ": "es", "¿": "es", "ç": "fr", "œ": "fr"}
ROMANCE = frozenset({"fr", "es"})  # noun first: "Técnico de laboratorio" = "laboratory technician"
MIN_COMPOUND_PART = 3


@dataclass(frozen=True)
class Entry:
    english: str
    kind: str  # "word" | "prefix" (first part of a German compound) | "function" (article, preposition)


@lru_cache(maxsize=1)
def dictionary(path: Path | None = None) -> dict[str, dict[str, Entry]]:
    """language -> folded word -> entry, from ``data/translations.csv``."""
    out: dict[str, dict[str, Entry]] = {}
    with (path or DATA_DIR / "translations.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            out.setdefault(row["language"], {})[_fold(row["word"].strip())] = Entry(
                row["english"].strip().lower(), row["kind"].strip()
            )
    return out


@dataclass(frozen=True)
class Language:
    """What :func:`detect` found. ``code`` is "en", "de", "fr", "es" or "?" (not English, unknown)."""

    code: str
    translation: str | None = None  # the title in English, when the dictionary covers it
    foreign_words: tuple[str, ...] = ()

    @property
    def english(self) -> bool:
        return self.code == "en"

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES.get(self.code, self.code)


ENGLISH = Language("en")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


def _marked_language(word: str) -> str | None:
    lowered = unicodedata.normalize("NFKC", word).lower()
    for letter, code in FOREIGN_LETTERS.items():
        if letter in lowered:
            return code
    return None


def _compound(word: str, words: dict[str, Entry]) -> str | None:
    """A German compound read from its known last part and a known first part ("Softwareentwickler")."""
    for cut in range(MIN_COMPOUND_PART, len(word) - MIN_COMPOUND_PART + 1):
        head, tail = word[:cut], word[cut:]
        last = words.get(tail)
        if last is None or last.kind == "function":
            continue
        first = words.get(head) or words.get(head.rstrip("s"))  # "Vertriebs-" joins with an s
        if first is not None and first.kind != "function":
            return f"{first.english} {last.english}".strip()
    return None


def _translate(word: str, code: str) -> str | None:
    words = dictionary().get(code, {})
    entry = words.get(word)
    if entry is not None:
        return entry.english
    return _compound(word, words) if code == "de" else None


def _languages_of(word: str) -> list[str]:
    return [
        code
        for code, words in dictionary().items()
        if word in words or (code == "de" and _compound(word, words) is not None)
    ]


def detect(
    title: str, is_english_word: Callable[[str], bool], is_near_english: Callable[[str], bool] | None = None
) -> Language:
    """The language of ``title`` (see the module docstring).

    ``is_english_word`` says whether a folded word is in the English vocabulary; ``is_near_english``
    whether it is a near spelling of one (a typo), tried only for words no dictionary knows.
    """
    raw = _INCLUSIVE_ENDING.sub("", _GENDER_TAG.sub(" ", unicodedata.normalize("NFKC", title or "").lower()))
    marked_words = {_fold(w): code for w in _WORD.findall(raw) if (code := _marked_language(w))}
    # The words retrieval would search (abbreviations expanded, noise and places gone), letters only.
    words = [w for w in parse_title(title).words if w.isalpha() and len(w) >= 2]
    if not words:
        return ENGLISH
    english = foreign = 0.0  # words only English knows / only a foreign dictionary knows
    shared = 0  # words both know ("agent", "chef", "director"): they decide nothing
    votes: Counter[str] = Counter()
    foreign_words: list[str] = []
    unknown: list[str] = []
    for folded in words:
        marked = marked_words.get(folded)
        languages = _languages_of(folded)
        if marked is None and is_english_word(folded):
            if languages:
                shared += 1
                votes.update(languages)
            else:
                english += 1
            continue
        if languages or marked:
            function = all(dictionary()[c].get(folded, Entry("", "")).kind == "function" for c in languages)
            # An article or preposition ("de", "la", "für") only tips a tie.
            foreign += 0.5 if function and languages and not marked else 1
            votes.update(languages or [marked])
            foreign_words.append(folded)
        else:
            unknown.append(folded)
    if not foreign and (english or shared):
        return ENGLISH
    if unknown and is_near_english is not None and (foreign > english or not english):
        # A near spelling of an English word is a typo, or a cognate ("restaurante"): half a vote.
        english += 0.5 * sum(1 for word in unknown if is_near_english(word))
    if foreign > english and any(f in _content_words(foreign_words) for f in foreign_words):
        code = votes.most_common(1)[0][0]
        return Language(code, translate(words, code), tuple(foreign_words))
    if english == 0 and shared == 0 and not foreign_words and any(len(w) >= 4 for w in words):
        return Language("?", None, tuple(words))
    return ENGLISH


def _content_words(words: list[str]) -> set[str]:
    """The words that are not only articles or prepositions in every dictionary that has them."""
    out = set()
    for word in words:
        entries = [found for d in dictionary().values() if (found := d.get(word)) is not None]
        if not entries or any(entry.kind != "function" for entry in entries):
            out.add(word)
    return out


def translate(words: list[str], code: str) -> str | None:
    """The (folded) words in English, word by word; a word the dictionary does not know is kept
    as it is (retrieval corrects a cognate such as "restaurante"). None when no word is known."""
    out: list[str] = []
    known = 0
    for folded in words:
        entry = dictionary().get(code, {}).get(folded)
        if entry is not None and entry.kind == "function":
            continue
        english = _translate(folded, code)
        known += english is not None
        out.append(english if english is not None else folded)
    if code in ROMANCE:
        out.reverse()
    return " ".join(out) if known and out else None
