"""Title normalisation: one set of rules for role titles and O*NET titles alike.

Two forms come out of a title:

* ``title_key`` — the de-duplication and precedent key. Case, spacing, punctuation, abbreviations
  ("Sr", "Mgr"), requisition numbers, store/location numbers, city/state suffixes, gender tags
  ("(m/w/d)", "(H/F)") and shift/schedule noise do not matter; seniority does ("Senior Accountant"
  and "Accountant" stay two roles) and so do the signs that make a word ("C++", "C#", ".NET",
  "Node.js", "A/P", "3D" are not "C", "net", "A P").
* ``search_form`` — what retrieval matches on: the key's words without seniority/level markers
  and filler words, with plurals folded ("Cooks" = "Cook"), in reading order with the head noun
  (the word the title is about: "engineer" in "Software Engineer, Java") known. A rank word
  ("lead", "staff", "associate", "principal", …) is seniority only in front of the noun it ranks
  ("Lead Engineer", "Staff Accountant"); where it is the noun ("Tech Lead", "Physician Associate",
  "Member of Technical Staff") it stays, and so do "all other" in "Physicians, All Other".

Abbreviations are data (``data/abbreviations.csv``, one row per reading of a term). A term with
one reading is always expanded. A term with several ("AP": accounts payable or advanced
placement) is read from the rest of the title (its position, then the cue words of each reading);
when the title does not decide, the key keeps the term as written and :func:`read_title` decides
from the role's context columns or returns every reading (see ``jobforge.retrieval.readings``).

The same functions are applied to O*NET's titles when the index is built, so a rule always acts
on both sides of a comparison. The original title is always kept.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# Seniority and level words: kept in the key, dropped for retrieval (unless nothing else is left).
LEVEL_WORDS = frozenset(
    {"senior", "junior", "entry", "level", "experienced", "mid", "sr", "jr", "i", "ii", "iii", "iv", "v", "vi"}
    | {"1", "2", "3", "4", "5"}
)
# Rank words: seniority in front of the noun they rank ("Lead Engineer", "Staff Nurse", "Associate
# Professor"), the noun itself elsewhere ("Tech Lead", "Physician Associate", "Kitchen Staff").
RANK_WORDS = frozenset({"lead", "principal", "staff", "associate", "trainee", "intern", "apprentice", "graduate"})
SENIORITY = LEVEL_WORDS | RANK_WORDS  # every word that can mark seniority (kept for callers of 0.1)
# A trailing "lead" leads these ("Team Lead" is a team leader); after anything else it ranks the
# work or the worker before it ("Test Lead", "Engineer Lead": a lead tester, a lead engineer).
LEAD_OF = frozenset({"team", "crew", "shift", "group", "line", "section", "unit", "floor", "area", "cell", "squad"})
LEAD_OF |= {"technical", "tech", "store", "department", "production", "warehouse", "kitchen", "project", "program"}
# Schedule, contract and location noise: removed everywhere (key and search).
NOISE_WORDS = frozenset(
    {
        "prn",
        "remote",
        "hybrid",
        "onsite",
        "nights",
        "night",
        "overnight",
        "overnights",
        "graveyard",
        "days",
        "weekends",
        "weekend",
        "weekdays",
        "evenings",
        "mornings",
        "afternoons",
        "fulltime",
        "parttime",
        "perdiem",
        "temporary",
        "temp",
        "contract",
        "contractor",
        "seasonal",
        "ft",
        "fte",
        "shift",
        "telecommute",
        "wfh",
    }
)
NOISE_PHRASES = (
    "full time",
    "part time",
    "per diem",
    "work from home",
    "work from anywhere",
    "day shift",
    "night shift",
    "evening shift",
    "swing shift",
    "am shift",
    "pm shift",
    "1st shift",
    "2nd shift",
    "3rd shift",
    "first shift",
    "second shift",
    "third shift",
    "on site",
    "in office",
    "temp to hire",
    "contract to hire",
    "on call",
    "sign on bonus",
    "mon fri",
    "monday friday",
    "monday through friday",
    "12 hour",
    "12 hr",
    "10 hour",
    "8 hour",
    "4x10",
    "3x12",
)
_NOISE_PHRASE = re.compile(r"\b(?:" + "|".join(p.replace(" ", r"[\s_-]*") for p in NOISE_PHRASES) + r")s?\b")
# Filler words that carry no occupation meaning ("all" and "other" only outside "All Other").
STOPWORDS = frozenset(
    {"of", "and", "the", "a", "an", "for", "in", "at", "on", "to", "with", "or", "by", "all", "other", "&"}
)
# Words that start a qualifying tail, after which the head noun no longer appears.
TAIL_WORDS = frozenset({"of", "for", "in", "at", "with", "to", "on"})

_BRACKETED_CODE = re.compile(r"[\(\[\{][^\)\]\}]*\d[^\)\]\}]*[\)\]\}]")  # "(REQ-1234)", "[2024]"
_REQ_NUMBER = re.compile(
    r"\b(?:req(?:uisition)?|job|position|posting|ref|vacancy|opening)\s*(?:id|no|number|code)?\s*[#:.]?\s*[a-z]*\d[\w-]*",
    re.IGNORECASE,
)
_HASH_NUMBER = re.compile(r"#\s*\w*\d\w*")
_CODE_TOKEN = re.compile(r"\b(?=[a-z]*\d)(?=\w*[a-z])[a-z0-9]{5,}\b", re.IGNORECASE)  # "R0012345", "JR12345"
_LONG_NUMBER = re.compile(r"\b\d{4,}\b")
_LEVEL = re.compile(r"\b(?:level|lvl|grade|band|step|tier)\s*([0-9]+|[ivx]+)\b", re.IGNORECASE)
# Store and location numbers: "Store #123", "Loc 45", "Branch 0042" (the number goes; a segment
# left holding only the place word is dropped below), and a trailing bare number ("Store Mgr 127").
_PLACE_WORDS = (
    "store|location|loc|branch|site|unit|restaurant|shop|outlet|region|district|facility|plant|clinic|office"
    "|hospital|dc|warehouse|depot|center|centre|market|territory|route"
)
_PLACE_NUMBER = re.compile(rf"\b({_PLACE_WORDS})\s*(?:#|no\.?|num(?:ber)?\.?)?\s*\d+[a-z]?\b")
_PLACE_SEGMENT = re.compile(
    rf"(?:^|(?<=[-–—|:,(/]))\s*(?:{_PLACE_WORDS})\s*(?:#|no\.?|num(?:ber)?\.?)?\s*\d+[a-z]?\s*(?=$|[-–—|:,)/])"
)
_TRAILING_NUMBER = re.compile(r"(?<=[a-z])\s+\d{2,3}\s*$")
_PLACE_ANY = re.compile(rf"\b(?:{_PLACE_WORDS})\b")
# Gender tags: "(m/w/d)", "(f/m/x)", "(H/F)", "m/f", "(all genders)", and inclusive endings
# ("Lehrer/in", "Bäcker*in", "Ingénieur(e)", "Enfermero/a").
_GENDER_LETTER = r"(?:m|w|f|d|x|h|div|divers)"
_GENDER_TAG = re.compile(
    rf"[\(\[]\s*(?:{_GENDER_LETTER}(?:\s*[/|,\\-]\s*{_GENDER_LETTER}){{1,3}}|mwd|wmd|gn|all\s+genders?|alle\s+geschlechter)\s*[\)\]]"
    rf"|(?<![\w/]){_GENDER_LETTER}(?:\s*/\s*{_GENDER_LETTER}){{1,3}}(?![\w/])|\ball\s+genders?\b"
)
_INCLUSIVE_ENDING = re.compile(
    r"(?<=[a-z])(?:\*|:|_|/-?|\()(?:in|innen|e|es|a|as|ne|ra|euse|rice|ere|iere|frau)\)?(?![a-z])"
)
_SEGMENT_SPLIT = re.compile(r"\s+[-–—|:@]\s+|[,;/()\[\]{}]|\s+(?:at|in)\s+(?=[a-z]+\s*$)")
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}(?![a-z])")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_APOSTROPHE = re.compile(r"['’`]")
_SPACES = re.compile(r"\s+")
_ROMAN_OR_DIGIT = re.compile(r"^(?:[ivx]+|\d+)$")
# Words whose signs are part of the word: "C++", "C#", "F#", ".NET", "Node.js", "A/P", "R&D",
# "OB/GYN", "K-12". Their signs are swapped for letters while the title is split, then restored.
_PROTECTED = (
    re.compile(r"(?<![\w+#])[a-z](?:\+\+|#)(?![\w+#])"),
    re.compile(r"(?<![\w.])(?:asp)?\.net\b"),
    re.compile(r"\b[a-z][a-z0-9]*\.js\b"),
    re.compile(r"(?<![\w/&])[a-z][/&][a-z](?![\w/&])"),  # "A/P", "R&D", "A/C"
    re.compile(r"\bk-12\b"),
)
_SIGNS = {"+": "ǂ", "#": "ǁ", ".": "ꞏ", "/": "ǀ", "&": "ǃ", "-": "ʔ"}
_TO_LETTERS = str.maketrans(_SIGNS)
_FROM_LETTERS = str.maketrans({v: k for k, v in _SIGNS.items()})
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _fold(text: str) -> str:
    """Lower case; German umlauts written out ("Bäcker" -> "baecker", never the English "backer"),
    other accents folded where that keeps the text Latin ("Café" = "Cafe"); other scripts kept."""
    if text.isascii():
        return text.casefold()
    text = unicodedata.normalize("NFKC", text).casefold().translate(_GERMAN)
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return stripped if stripped.isascii() else text


# ----------------------------------------------------------------------------------- plurals


def stem(word: str) -> str:
    """Fold English plurals ("cooks" -> "cook", "secretaries" -> "secretary"; keeps -ss/-us/-is)
    and the practitioner of a field to the field ("neurologist" -> "neurology")."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        word = word[:-1]
    if FOLD_PRACTITIONER and word.endswith(("ologist", "iatrist")):
        word = word[:-3] + "y"  # the practitioner of a field is found by the field's name
    return word


# "Resident in Neurology" is a neurologist: "-ologist"/"-iatrist" fold to "-ology"/"-iatry".
FOLD_PRACTITIONER = True


# ----------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class AbbreviationReading:
    """One reading of a term (a row of ``data/abbreviations.csv``)."""

    term: str  # as written after folding: "ap", "sec ops", "a/p"
    reading: str  # its long form ("" = the term means nothing for the title, e.g. "PhD")
    position: str  # "" anywhere, "head" only as the title's noun, "modifier" only before it
    needs_cue: bool  # used only when a cue word selects it (never as one of "every reading")
    cues: frozenset[str]  # stemmed words of the title or context that select this reading

    @property
    def label(self) -> str:
        return f"{self.term.upper()} = {self.reading or '(nothing)'}"


def load_abbreviations(path: Path | None = None) -> dict[str, tuple[AbbreviationReading, ...]]:
    """term -> its readings, in file order (the first is the default reading)."""
    out: dict[str, list[AbbreviationReading]] = {}
    with (path or DATA_DIR / "abbreviations.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            term = " ".join(row["term"].split()).lower()
            out.setdefault(term, []).append(
                AbbreviationReading(
                    term=term,
                    reading=" ".join(row["reading"].split()).lower(),
                    position=row["position"].strip(),
                    needs_cue=row["needs_cue"].strip().lower() in ("yes", "true", "1"),
                    cues=frozenset(stem(word) for word in row["cues"].lower().split()),
                )
            )
    return {term: tuple(readings) for term, readings in out.items()}


def load_places(path: Path | None = None) -> dict[str, frozenset[str]]:
    """kind ("state", "country", "city") -> place names and codes, folded."""
    out: dict[str, set[str]] = {}
    with (path or DATA_DIR / "places.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names = {" ".join(_NON_WORD.sub(" ", name).split()) for name in row["name"].lower().split("|")}
            out.setdefault(row["kind"], set()).update(name for name in names if name)
    return {kind: frozenset(names) for kind, names in out.items()}


READINGS = load_abbreviations()
# The unambiguous one-word abbreviations, as a plain dict (kept for callers of earlier versions).
ABBREVIATIONS: dict[str, str] = {
    term: rows[0].reading for term, rows in READINGS.items() if len(rows) == 1 and " " not in term
}
_MAX_TERM_WORDS = max(len(term.split()) for term in READINGS)
# Terms of the data written with signs ("OB/GYN", "FP&A"): one word, as "A/P" is.
_SIGNED_TERMS = re.compile(
    r"(?<![\w/&])(?:"
    + "|".join(re.escape(term) for term in sorted(READINGS, key=len, reverse=True) if re.search(r"[/&]", term))
    + r")(?![\w/&])"
)
PLACES = load_places()
_STATES = PLACES["state"]
# Two-letter codes that are also words or job abbreviations ("IN", "OR", "PA", "MD", "MA", "CT"):
# a place only after a city ("Portland OR"), never alone.
_AMBIGUOUS_CODES = frozenset(
    {"in", "or", "me", "ok", "hi", "oh", "de", "la", "ma", "pa", "md", "co", "ms", "ct", "id", "ar", "al", "ga"}
    | {"mo", "va", "sc", "ne", "on", "ab", "mb", "pr", "ca", "wa", "ia", "ks", "mt", "nd", "sd", "nc", "ns"}
)
_LONE_PLACES = (PLACES["city"] | PLACES["country"] | _STATES) - _AMBIGUOUS_CODES
_CITIES = PLACES["city"]


# ----------------------------------------------------------------------------------- parsing


def _protect(text: str) -> str:
    for pattern in (*_PROTECTED, _SIGNED_TERMS):
        text = pattern.sub(lambda m: m.group(0).translate(_TO_LETTERS), text)
    return text


_SIGN_CHARS = frozenset("+#./&-")
_TAG_CHARS = frozenset("(/[*:_")


def _clean(title: str) -> str:
    """Folded title without codes, gender tags, store numbers and schedule noise (still punctuated).

    Each rule runs only when the characters it needs are there (most titles have no digit, no
    slash and no bracket): this is the hot path of building an index.
    """
    text = _fold(title)
    chars = set(text)
    if chars & _TAG_CHARS or "gender" in text:
        text = _INCLUSIVE_ENDING.sub("", _GENDER_TAG.sub(" ", text))
    if chars & _SIGN_CHARS:
        text = _protect(text)
        if "." in chars:
            text = _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", text)  # "r.n." -> "rn"
    if any(ch.isdigit() for ch in chars):
        text = _BRACKETED_CODE.sub(" ", text)
        text = _REQ_NUMBER.sub(" ", text)
        text = _PLACE_SEGMENT.sub(" ", text)  # "Store Manager - Store #123": the whole part goes
        text = _PLACE_NUMBER.sub(r"\1 ", text)  # "Store #123 Manager": the number goes
        text = _HASH_NUMBER.sub(" ", text)
        text = _CODE_TOKEN.sub(" ", text)
        text = _LONG_NUMBER.sub(" ", text)
        if _PLACE_ANY.search(text):  # "Store Mgr 127": the store's number ("Analyst 11" keeps its own)
            text = _TRAILING_NUMBER.sub(" ", text.rstrip(" -–—|:,.)"))
    if any(ch.isdigit() for ch in text) or (" " in text and _LEVEL_WORD.search(text)):
        text = _LEVEL.sub(lambda m: f" level {m.group(1)} ", text)
    return _NOISE_PHRASE.sub(" ", text) if _NOISE_HINT.search(text) else text


_LEVEL_WORD = re.compile(r"\b(?:level|lvl|grade|band|step|tier)\b")
_NOISE_HINT = re.compile(
    r"\b(?:full|part|per|work|day|night|evening|swing|am|pm|on|in|temp|contract|sign|mon|monday|\d)"
)


def _raw_words(segment: str) -> list[str]:
    words = _NON_WORD.sub(" ", _APOSTROPHE.sub("", segment)).split()
    return [word.translate(_FROM_LETTERS) for word in words if word not in NOISE_WORDS]


def _is_place(words: list[str]) -> bool:
    """A segment naming only a place: "Dallas TX", "Austin", "Texas", "USA", "Store"."""
    text = " ".join(words)
    if text in _LONE_PLACES:
        return True
    if len(words) >= 2 and words[-1] in _STATES:
        return " ".join(words[:-1]) in _CITIES
    if len(words) >= 3 and " ".join(words[-2:]) in _STATES:
        return " ".join(words[:-2]) in _CITIES
    return False


def _drop_trailing_place(words: list[str]) -> list[str]:
    """"Store Manager Dallas TX" -> "Store Manager" (a city followed by its state, at the end)."""
    for state_len in (1, 2):
        if len(words) > state_len + 1 and " ".join(words[-state_len:]) in _STATES:
            for city_len in (1, 2, 3):
                start = len(words) - state_len - city_len
                if start >= 1 and " ".join(words[start : len(words) - state_len]) in _CITIES:
                    return words[:start]
    return words


@dataclass(frozen=True)
class TermChoice:
    """A term with several readings met in a title: where it is and what was chosen."""

    segment: int  # index into ParsedTitle.segments
    start: int  # index of its first word in that segment
    length: int  # words it occupies there (the literal term, or the chosen reading)
    term: str
    readings: tuple[AbbreviationReading, ...]  # those whose position fits
    chosen: AbbreviationReading | None  # None: the title alone does not decide
    decided_by: str  # "position" | "title" | "default" (the one reading needing no cue) | "" (undecided)


@dataclass(frozen=True)
class ParsedTitle:
    """A title split into cleaned segments ("Engineer, Software - Remote" -> [[engineer], [software]])."""

    segments: tuple[tuple[str, ...], ...]
    choices: tuple[TermChoice, ...] = ()

    @property
    def words(self) -> list[str]:
        return [word for segment in self.segments for word in segment]


_TERM_STARTS = frozenset(term.split()[0] for term in READINGS)


def _match_term(words: list[str], i: int) -> tuple[str, int] | None:
    if words[i] not in _TERM_STARTS:
        return None
    for length in range(min(_MAX_TERM_WORDS, len(words) - i), 0, -1):
        term = " ".join(words[i : i + length])
        if term in READINGS:
            return term, length
    return None


def _position(words: list[str], end: int) -> str:
    """"head" when no content word follows the term in its phrase, else "modifier"."""
    for word in words[end:]:
        if word in TAIL_WORDS:
            return "head"
        if word not in STOPWORDS and word not in LEVEL_WORDS and not word.isdigit():
            return "modifier"
    return "head"


def choose_reading(
    readings: tuple[AbbreviationReading, ...], cue_words: frozenset[str]
) -> AbbreviationReading | None:
    """The one reading whose cue words meet ``cue_words`` most (None: no hit, or a tie)."""
    hits = [(len(reading.cues & cue_words), reading) for reading in readings]
    best = max(count for count, _ in hits)
    leaders = [reading for count, reading in hits if count == best]
    return leaders[0] if best > 0 and len(leaders) == 1 else None


def _expand(segments: list[list[str]]) -> ParsedTitle:
    """Apply the abbreviation data; terms the title does not decide stay as written."""
    title_cues: frozenset[str] | None = None  # stems of the title's words, when a term needs them
    out_segments: list[tuple[str, ...]] = []
    choices: list[TermChoice] = []
    for words in segments:
        s = len(out_segments)  # the index this segment gets among the kept ones
        out: list[str] = []
        i = 0
        while i < len(words):
            match = _match_term(words, i)
            if match is None:
                out.append(words[i])
                i += 1
                continue
            term, length = match
            only = READINGS[term][0] if len(READINGS[term]) == 1 else None
            if only is not None and only.reading in READINGS and only.reading != term and len(words) < 40:
                # "MTS" is "member of technical staff", itself a term with readings: read on.
                words = [*words[:i], *only.reading.split(), *words[i + length :]]
                continue
            position = _position(words, i + length)
            fitting = tuple(r for r in READINGS[term] if r.position in ("", position))
            chosen, how = None, ""
            if len(READINGS[term]) == 1:
                chosen = READINGS[term][0]
            elif len(fitting) == 1:
                chosen, how = fitting[0], "position"
            elif fitting:
                if title_cues is None:
                    title_cues = frozenset(stem(word) for segment in segments for word in segment)
                chosen = choose_reading(fitting, title_cues - {stem(word) for word in term.split()})
                how = "title" if chosen else ""
                if chosen is None and len([r for r in fitting if not r.needs_cue]) == 1:
                    chosen, how = next(r for r in fitting if not r.needs_cue), "default"
            if chosen is not None:
                if how:  # "default": the context may still pick a reading that needs a cue
                    choices.append(TermChoice(s, len(out), len(chosen.reading.split()), term, fitting, chosen, how))
                out.extend(chosen.reading.split())
            else:
                choices.append(TermChoice(s, len(out), length, term, fitting, None, ""))
                out.extend(words[i : i + length])
            i += length
        if out:
            out_segments.append(tuple(out))
        else:  # only a term that reads as nothing ("PhD"): no segment, no choice
            choices = [choice for choice in choices if choice.segment != s]
    return ParsedTitle(tuple(out_segments), tuple(choices))


@lru_cache(maxsize=200_000)
def parse_title(title: str) -> ParsedTitle:
    """The title's words per segment, cleaned and with its abbreviations read (see module doc)."""
    parts = [_raw_words(part) for part in _SEGMENT_SPLIT.split(_clean(title or ""))]
    segments = [words for words in parts if words]
    if segments:
        segments = _without_places(segments)
    return _expand([words for words in segments if words])


def _without_places(segments: list[list[str]]) -> list[list[str]]:
    """Drop place segments after the first ("- Dallas TX", ", Columbus, OH", "(Remote - US)")."""
    kept = [_drop_trailing_place(segments[0])]
    after_city = False
    for words in segments[1:]:
        text = " ".join(words)
        if _is_place(words) or (after_city and text in _STATES):
            after_city = text in _CITIES
            continue
        after_city = False
        kept.append(_drop_trailing_place(words))
    return kept


def literal_form(title: str) -> SearchForm:
    """The search form with no abbreviation read: an acronym O*NET spells out beside it ("CMO" in
    "Continuous Miner Operator (CMO)") is indexed as written, never as another meaning of it."""
    parts = [_raw_words(part) for part in _SEGMENT_SPLIT.split(_clean(title or ""))]
    return form_of(tuple(tuple(words) for words in parts if words), reword=False)


def title_key(title: str) -> str:
    """De-duplication / precedent key: same key = same role. Keeps seniority words.

    A title with nothing left after cleaning (only a number, only noise, only emoji) keys on its
    folded text, so two different codes never merge into one role.
    """
    words = parse_title(title).words
    if words:
        return " ".join(words)
    return _SPACES.sub(" ", _fold(title or "")).strip()


# ----------------------------------------------------------------------------------- search form


@dataclass(frozen=True)
class SearchForm:
    tokens: tuple[str, ...]  # stemmed, seniority and filler dropped, reading order
    head: str | None  # the head noun's stem ("engineer" in "Software Engineer, Java")

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @property
    def bag(self) -> str:
        """Order-free exact-match key: "Cooks, Restaurant" = "Restaurant Cook"."""
        return " ".join(sorted(set(self.tokens)))


def _acts_as_rank(words: tuple[str, ...] | list[str], i: int, alone: bool = False) -> bool:
    """Whether ``words[i]`` marks seniority here (and so is not searched for).

    ``alone``: the segment's rank words stand on their own beside another segment, as a level
    label ("Staff, Software Engineering", "Developer - Associate").
    """
    word = words[i]
    if word in LEVEL_WORDS or _ROMAN_OR_DIGIT.match(word):
        return True
    if word not in RANK_WORDS:
        return False
    for following in words[i + 1 :]:
        if following in TAIL_WORDS:
            break
        if following in STOPWORDS or following in LEVEL_WORDS or following in RANK_WORDS:
            continue
        return not (word == "staff" and following == "member")  # "Technical Staff Member"
    before = [w for w in words[:i] if w not in STOPWORDS and w not in LEVEL_WORDS and w not in RANK_WORDS]
    if not before:
        return alone
    return word == "lead" and before[-1] not in LEAD_OF


def _alone(segments: tuple[tuple[str, ...], ...]) -> list[bool]:
    """Per segment: it holds only rank/level words and another segment holds more."""
    only_rank = [all(w in RANK_WORDS or w in LEVEL_WORDS or w in STOPWORDS for w in seg) for seg in segments]
    return [flag and not all(only_rank) for flag in only_rank]


def _head_of(segment: tuple[str, ...], ranks: list[bool]) -> str | None:
    """Last content word before a qualifying tail ("director" in "director of nursing");
    ``ranks[i]``: whether ``segment[i]`` acts as a rank word (see :func:`_acts_as_rank`)."""
    end = len(segment)
    for i, word in enumerate(segment):
        if word in TAIL_WORDS and i > 0:
            end = i
            break
    content = [w for i, w in enumerate(segment[:end]) if w not in STOPWORDS and not ranks[i]]
    return content[-1] if content else None


def _keeps_all_other(words: tuple[str, ...], i: int) -> bool:
    """"All" and "other" are words of "Physicians, All Other", filler elsewhere."""
    word = words[i]
    if word == "all":
        return i + 1 < len(words) and words[i + 1] == "other"
    return word == "other" and i > 0 and words[i - 1] == "all"


# Rewrites for retrieval only (the key keeps the title's own words):
# "Head of Data Science" is a director, not a head cook;
_HEAD_OF = re.compile(r"\bhead\s+of\b", re.IGNORECASE)
# "Live-in Nanny", "Walk-in Cooler Attendant": the particle of a hyphenated compound is not a
# preposition starting a tail, so it must not hide the head noun.
_HYPHEN_PARTICLE = re.compile(r"(?<=[a-z])-(?:in|on)\b", re.IGNORECASE)
# Head nouns naming the work (or the role) for the worker: "Landscape Labor" is a laborer, a
# "Team Lead" a team leader.
HEAD_AS_WORKER = {"labor": "laborer", "labour": "laborer", "lead": "leader"}
_WORKERS = frozenset(HEAD_AS_WORKER.values())


def _search_rewrite(title: str) -> str:
    return _HYPHEN_PARTICLE.sub("", _HEAD_OF.sub("director of", title))


def search_form(title: str) -> SearchForm:
    return _search_form(title or "", True)


def is_reworded(title: str) -> bool:
    """Whether retrieval reads the title in other words than its own ("Head of X" -> "Director of
    X", "Landscape Labor" -> "Landscape Laborer"): an exact match then is not exact as written."""
    title = title or ""
    form = _search_form(title, True)
    if form.head not in _WORKERS and not _HEAD_OF.search(title):
        return False  # the only rewordings that change the words (the hyphen rule moves the head only)
    return form.bag != _search_form(title, False).bag


def form_of(segments: tuple[tuple[str, ...], ...], reword: bool = True) -> SearchForm:
    """The search form of already parsed segments (see :func:`parse_title`)."""
    alone = _alone(segments)
    ranks = [
        [_acts_as_rank(seg, i, by_itself) for i in range(len(seg))]
        for seg, by_itself in zip(segments, alone, strict=True)
    ]
    head: str | None = None
    for segment, segment_ranks in zip(segments, ranks, strict=True):
        head = _head_of(segment, segment_ranks)
        if head:
            break
    if reword and head in HEAD_AS_WORKER:
        worker = HEAD_AS_WORKER[head]
        segments = tuple(tuple(worker if w == head else w for w in seg) for seg in segments)
        head = worker
    tokens: list[str] = []
    for segment, segment_ranks in zip(segments, ranks, strict=True):
        for i, word in enumerate(segment):
            if word in STOPWORDS and not _keeps_all_other(segment, i):
                continue
            if word != head and segment_ranks[i]:
                continue
            if word.isdigit():
                continue
            tokens.append(stem(word))
    if not tokens:  # only seniority words ("Lead Associate"): they are all there is to match
        words = [w for seg in segments for w in seg]
        tokens = [stem(word) for word in words if word not in STOPWORDS and not word.isdigit()]
    return SearchForm(tuple(tokens), stem(head) if head else None)


@lru_cache(maxsize=200_000)
def _search_form(title: str, reword: bool) -> SearchForm:
    return form_of(parse_title(_search_rewrite(title) if reword else title).segments, reword)


def search_text(title: str) -> str:
    """The search form as a string ("Sr. Software Engineers II" -> "software engineer")."""
    return search_form(title).text


def is_codable(title: str) -> bool:
    """Whether a title has any word retrieval can match (not empty, a number, a code or emoji only)."""
    return any(any(ch.isalpha() for ch in token) for token in search_form(title).tokens)
