"""Title normalisation: one set of rules for role titles and O*NET titles alike.

Two forms come out of a title:

* ``title_key`` — the de-duplication and precedent key. Case, spacing, punctuation, abbreviations
  ("Sr", "Mgr"), requisition numbers and shift/location/schedule noise do not matter, but
  seniority does: "Senior Accountant" and "Accountant" stay two roles.
* ``search_tokens`` — what retrieval matches on: the key's words without seniority/level markers
  and filler words, with plurals folded ("Cooks" = "Cook"), in reading order with the head noun
  (the word the title is about: "engineer" in "Software Engineer, Java") known.

The same functions are applied to O*NET's titles when the index is built, so an abbreviation or
word order rule always acts on both sides of a comparison. The original title is always kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Whole-word abbreviations seen in HR systems -> their long form (lower case, after punctuation
# is removed). Multi-word expansions are fine; ambiguous ones ("admin") take the common job-title
# reading.
ABBREVIATIONS: dict[str, str] = {
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "jnr": "junior",
    "mgr": "manager",
    "mngr": "manager",
    "mgmt": "management",
    "eng": "engineer",
    "engr": "engineer",
    "rn": "registered nurse",
    "lpn": "licensed practical nurse",
    "lvn": "licensed vocational nurse",
    "cna": "certified nursing assistant",
    "np": "nurse practitioner",
    "pa": "physician assistant",
    "vp": "vice president",
    "svp": "senior vice president",
    "evp": "executive vice president",
    "avp": "assistant vice president",
    "asst": "assistant",
    "assoc": "associate",
    "admin": "administrative",
    "adm": "administrative",
    "tech": "technician",
    "techn": "technician",
    "spec": "specialist",
    "splst": "specialist",
    "dir": "director",
    "coord": "coordinator",
    "coordr": "coordinator",
    "rep": "representative",
    "repr": "representative",
    "svc": "service",
    "svcs": "services",
    "cust": "customer",
    "dev": "developer",
    "devops": "devops",
    "sw": "software",
    "sde": "software development engineer",
    "swe": "software engineer",
    "qa": "quality assurance",
    "qc": "quality control",
    "hr": "human resources",
    "it": "information technology",
    "ops": "operations",
    "acct": "accounting",
    "accts": "accounts",
    "ap": "accounts payable",
    "ar": "accounts receivable",
    "supv": "supervisor",
    "supvr": "supervisor",
    "sup": "supervisor",
    "mech": "mechanic",
    "maint": "maintenance",
    "elec": "electrical",
    "prog": "programmer",
    "pgmr": "programmer",
    "anlst": "analyst",
    "proj": "project",
    "prod": "production",
    "mfg": "manufacturing",
    "whse": "warehouse",
    "dept": "department",
    "gen": "general",
    "gm": "general manager",
    "ceo": "chief executive officer",
    "cfo": "chief financial officer",
    "coo": "chief operating officer",
    "cto": "chief technology officer",
    "cio": "chief information officer",
    "cpa": "certified public accountant",
    "emt": "emergency medical technician",
    "csr": "customer service representative",
    "cdl": "commercial driver",
    "instr": "instructor",
    "prof": "professor",
    "ofc": "office",
    "off": "officer",
    "exec": "executive",
    "sec": "secretary",
    "recpt": "receptionist",
    "tchr": "teacher",
    "ed": "education",
    "edu": "education",
    "phd": "",
    "ux": "user experience",
    "ui": "user interface",
    "bi": "business intelligence",
    "dba": "database administrator",
    "sdet": "software development engineer in test",
    "sre": "site reliability engineer",
    "ml": "machine learning",
    "ai": "artificial intelligence",
    "sme": "subject matter expert",
    "erp": "enterprise resource planning",
    "crm": "customer relationship management",
    "gis": "geographic information systems",
    "ehr": "electronic health records",
    "emr": "electronic medical records",
    "rf": "radio frequency",
    "crna": "certified registered nurse anesthetist",
    "hha": "home health aide",
    "pca": "personal care aide",
    "lmt": "licensed massage therapist",
    "slp": "speech language pathologist",
    "ot": "occupational therapist",
    "cota": "certified occupational therapy assistant",
    "pta": "physical therapist assistant",
    "supt": "superintendent",
    "opr": "operator",
    "oper": "operator",
    "equip": "equipment",
    "mach": "machine",
    "acctg": "accounting",
    "fin": "finance",
    "mktg": "marketing",
    "mkt": "marketing",
    "tchg": "teaching",
    "hosp": "hospital",
    "med": "medical",
    "pharm": "pharmacy",
    "lab": "laboratory",
    "labs": "laboratories",
    "admr": "administrator",
    "adminstrator": "administrator",
}
# Seniority and level words: kept in the key, dropped for retrieval (when not the head noun,
# so "Principal" the school head stays, "Principal Engineer" becomes "Engineer").
SENIORITY = frozenset(
    {
        "senior",
        "junior",
        "lead",
        "principal",
        "trainee",
        "intern",
        "apprentice",
        "entry",
        "level",
        "experienced",
        "staff",
        "sr",
        "jr",
        "mid",
        "graduate",
        "associate",
        "i",
        "ii",
        "iii",
        "iv",
        "v",
        "vi",
        "1",
        "2",
        "3",
        "4",
        "5",
    }
)
# Seniority words that are never what a title is about when another word is there
# ("Software Technical Lead" is about "technical", not "lead"; a "Principal" may be a school's).
NOT_HEAD = SENIORITY - {"principal", "intern", "apprentice", "trainee", "graduate"}
_ADJECTIVES = frozenset(
    {"technical", "senior", "junior", "lead", "principal", "staff", "chief", "general", "associate"}
)
# Schedule, contract and location noise: removed everywhere (key and search).
NOISE_WORDS = frozenset(
    {
        "prn",
        "remote",
        "hybrid",
        "onsite",
        "nights",
        "night",
        "days",
        "weekends",
        "weekend",
        "evenings",
        "fulltime",
        "parttime",
        "perdiem",
        "temporary",
        "temp",
        "contract",
        "contractor",
        "seasonal",
        "ft",
        "pt",
        "fte",
        "shift",
    }
)
NOISE_PHRASES = (
    "full time",
    "part time",
    "per diem",
    "work from home",
    "day shift",
    "night shift",
    "evening shift",
    "1st shift",
    "2nd shift",
    "3rd shift",
    "first shift",
    "second shift",
    "third shift",
)
_NOISE_PHRASE = re.compile(r"\b(?:" + "|".join(p.replace(" ", r"[\s_-]*") for p in NOISE_PHRASES) + r")\b")
# Filler words that carry no occupation meaning.
STOPWORDS = frozenset(
    {"of", "and", "the", "a", "an", "for", "in", "at", "on", "to", "with", "or", "by", "all", "other"}
)
# Words that start a qualifying tail, after which the head noun no longer appears.
TAIL_WORDS = frozenset({"of", "for", "in", "at", "with", "to", "on"})

_BRACKETED_CODE = re.compile(r"[\(\[\{][^\)\]\}]*\d[^\)\]\}]*[\)\]\}]")  # "(REQ-1234)", "[2024]"
_REQ_NUMBER = re.compile(
    r"\b(?:req(?:uisition)?|job|position|posting|ref)\s*(?:id|no|number)?\s*[#:.]?\s*[a-z]*\d[\w-]*", re.IGNORECASE
)
_HASH_NUMBER = re.compile(r"#\s*\w*\d\w*")
_CODE_TOKEN = re.compile(r"\b(?=[a-z]*\d)(?=\w*[a-z])[a-z0-9]{5,}\b", re.IGNORECASE)  # "R0012345", "JR12345"
_LONG_NUMBER = re.compile(r"\b\d{4,}\b")
_LEVEL = re.compile(r"\b(?:level|lvl|grade|band|step|tier)\s*([0-9]+|[ivx]+)\b", re.IGNORECASE)
_SEGMENT_SPLIT = re.compile(r"\s+[-–—|:]\s+|[,;/()\[\]{}]")
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}(?![a-z])")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_APOSTROPHE = re.compile(r"['’`]")
_SPACES = re.compile(r"\s+")
_ROMAN_OR_DIGIT = re.compile(r"^(?:[ivx]+|\d+)$")


def _fold(text: str) -> str:
    """Lower case, accents folded where that keeps the text Latin; other scripts kept as they are."""
    if text.isascii():
        return text.casefold()
    text = unicodedata.normalize("NFKC", text).casefold()
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return stripped if stripped.isascii() else text


def _strip_codes(text: str) -> str:
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", text)  # "r.n." -> "rn"
    text = _BRACKETED_CODE.sub(" ", text)
    text = _REQ_NUMBER.sub(" ", text)
    text = _HASH_NUMBER.sub(" ", text)
    text = _CODE_TOKEN.sub(" ", text)
    text = _LONG_NUMBER.sub(" ", text)
    text = _LEVEL.sub(lambda m: f" level {m.group(1)} ", text)
    return _NOISE_PHRASE.sub(" ", text)


def _words(segment: str) -> list[str]:
    out: list[str] = []
    for word in _NON_WORD.sub(" ", _APOSTROPHE.sub("", segment)).split():
        if word in NOISE_WORDS:
            continue
        expansion = ABBREVIATIONS.get(word)
        if expansion is None:
            out.append(word)
        elif expansion:
            out.extend(expansion.split())
    return out


@dataclass(frozen=True)
class ParsedTitle:
    """A title split into cleaned segments ("Engineer, Software - Remote" -> [[engineer], [software]])."""

    segments: tuple[tuple[str, ...], ...]

    @property
    def words(self) -> list[str]:
        return [word for segment in self.segments for word in segment]


@lru_cache(maxsize=200_000)
def parse_title(title: str) -> ParsedTitle:
    text = _strip_codes(_fold(title or ""))
    segments = tuple(tuple(words) for words in (_words(part) for part in _SEGMENT_SPLIT.split(text)) if words)
    return ParsedTitle(segments)


def title_key(title: str) -> str:
    """De-duplication / precedent key: same key = same role. Keeps seniority words.

    A title with nothing left after cleaning (only a number, only noise, only emoji) keys on its
    folded text, so two different codes never merge into one role.
    """
    words = parse_title(title).words
    if words:
        return " ".join(words)
    return _SPACES.sub(" ", _fold(title or "")).strip()


# Doer and activity forms folded together ("landscaper", "landscaping", "landscape"), except
# where the two are different jobs or things.
_KEEP_SUFFIX = frozenset({"officer", "office", "offices", "counter", "order", "letter", "printer", "computer", "paper"})
FOLD_DERIVATIONS = False


def _fold_derivation(word: str) -> str:
    if len(word) <= 4 or word in _KEEP_SUFFIX or word.endswith("eer"):
        return word
    if word.endswith("ing") and len(word) > 6:
        return word[:-3]
    if word.endswith("er") and not word.endswith(("eer", "ier")):
        return word[:-2]
    if word.endswith("e") and not word.endswith(("ee", "ie", "ue")):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """Fold English plurals ("cooks" -> "cook", "secretaries" -> "secretary"; keeps -ss/-us/-is)
    and doer/activity forms ("roofer", "roofing" -> "roof")."""
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
    return _fold_derivation(word) if FOLD_DERIVATIONS else word


# "Resident in Neurology" is a neurologist: "-ologist"/"-iatrist" fold to "-ology"/"-iatry".
FOLD_PRACTITIONER = True


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


def _head_of(segment: tuple[str, ...]) -> str | None:
    """Last content word before a qualifying tail ("director" in "director of nursing")."""
    words: list[str] = []
    for word in segment:
        if word in TAIL_WORDS and words:
            break
        words.append(word)
    content = [word for word in words if word not in STOPWORDS and not _ROMAN_OR_DIGIT.match(word)]
    if not content:
        return None
    if content[-1] in NOT_HEAD and len(content) > 1:
        # "Research Scientist Lead": the noun before a trailing seniority word; with nothing
        # noun-like there ("Software Technical Lead") no head is claimed.
        return content[-2] if content[-2] not in _ADJECTIVES else None
    return content[-1]


# Rewrites for retrieval only (the key keeps the title's own words):
# "Head of Data Science" is a director, not a head cook;
_HEAD_OF = re.compile(r"\bhead\s+of\b", re.IGNORECASE)
# "Live-in Nanny", "Walk-in Cooler Attendant": the particle of a hyphenated compound is not a
# preposition starting a tail, so it must not hide the head noun.
_HYPHEN_PARTICLE = re.compile(r"(?<=[a-z])-(?:in|on)\b", re.IGNORECASE)
# Head nouns naming the work for the worker: "Landscape Labor" is a laborer.
HEAD_AS_WORKER = {"labor": "laborer", "labour": "laborer"}
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


@lru_cache(maxsize=200_000)
def _search_form(title: str, reword: bool) -> SearchForm:
    parsed = parse_title(_search_rewrite(title) if reword else title)
    head: str | None = None
    for segment in parsed.segments:
        head = _head_of(segment)
        if head:
            break
    if reword and head in HEAD_AS_WORKER:
        worker = HEAD_AS_WORKER[head]
        parsed = ParsedTitle(tuple(tuple(worker if w == head else w for w in seg) for seg in parsed.segments))
        head = worker
    tokens: list[str] = []
    for word in parsed.words:
        if word in STOPWORDS:
            continue
        if word in SENIORITY and word != head:
            continue
        if word.isdigit():
            continue
        tokens.append(stem(word))
    if not tokens:  # only seniority words ("Lead Associate"): they are all there is to match
        tokens = [stem(word) for word in parsed.words if word not in STOPWORDS and not word.isdigit()]
    return SearchForm(tuple(tokens), stem(head) if head else None)


def search_text(title: str) -> str:
    """The search form as a string ("Sr. Software Engineers II" -> "software engineer")."""
    return search_form(title).text


def is_codable(title: str) -> bool:
    """Whether a title has any word retrieval can match (not empty, a number, a code or emoji only)."""
    return any(token.isalpha() for token in search_form(title).tokens)
