"""The candidate index over one O*NET release, built like O*NET's own occupation search.

Retrieval for a role title (after normalisation, see :mod:`jobforge.retrieval.normalize`):

1. **Exact match**: the title's order-free search form ("Cooks, Restaurant" = "Restaurant Cook")
   equals that of an occupation title (or one of its parts: "Financial and Investment Analysts"
   gives "Financial Analysts"), an alternate or short title, or a reported title. Exact matches
   rank above everything else.
2. **Weighted ranking**, scores per occupation:
   - every title string is scored by the idf-weighted share of the query it explains and of
     itself it covers, with a bonus when both are about the same head noun ("engineer" in
     "Software Engineer, Java") and when it is also a reported title; an occupation takes its best
     string, weighted title > alternate/reported > short, plus agreement between fields;
   - BM25 over all titles of the occupation together (its many "… Developer" titles say it is
     where developers go), over its description and tasks, and over its technology skills;
   - ranks 11-20 may be taken by occupations O*NET lists as related to the three leaders.
   A misspelt word is first corrected to the nearest word O*NET titles use.

Every candidate says why it was retrieved (field and string). Pure Python + numpy: the 30.1
index builds in a few seconds, loads from its disk cache in about a second and answers a title in
about a millisecond (bench/RESULTS.md). Weights were chosen on O*NET titles held out of the index
(bench/heldout_ranking.py), never on evaluation labels.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.db.models import (
    OnetAlternateTitle,
    OnetOccupation,
    OnetRelatedOccupation,
    OnetRelease,
    OnetReportedTitle,
    OnetTask,
    OnetTechnologySkill,
)
from jobforge.onet.repository import require_active_release
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.language import ENGLISH, Language, detect
from jobforge.retrieval.normalize import SearchForm as SearchForm
from jobforge.retrieval.normalize import (
    _fold,
    _search_form,
    is_reworded,
    literal_form,
    parse_title,
    search_form,
    stem,
)
from jobforge.retrieval.readings import TitleReading, read_title, rewording_of

_HERE = Path(__file__).parent
# Disk caches are keyed by the code and data that built them, so a changed rule never serves a
# stale index (an index written by older code, in any format, is rebuilt).
INDEX_FORMAT = hashlib.sha256(
    b"".join(
        path.read_bytes()
        for path in sorted(
            [_HERE / name for name in ("index.py", "normalize.py", "readings.py", "language.py")]
            + list((_HERE / "data").glob("*.csv"))
        )
    )
).hexdigest()[:12]
# Context columns whose words weigh in the ranking (the description weighs through the task text).
CONTEXT_RANKING_FIELDS = ("department", "job_family", "job_function")

FIELDS = ("title", "alternate_title", "reported_title", "short_title")
FIELD_WEIGHTS = np.array([1.0, 0.93, 0.93, 0.85])
FIELD_PRIORITY = {name: i for i, name in enumerate(FIELDS)}
# O*NET's related-occupation tiers, as the share of a neighbour's score an occupation inherits.
RELATEDNESS = {"Primary-Short": 1.0, "Primary-Long": 0.6, "Supplemental": 0.3}


@dataclass(frozen=True)
class ScoringWeights:
    """Knobs of the weighted ranking (see module docstring)."""

    query_coverage: float = 0.7  # share of the query's idf mass the string explains
    string_coverage: float = 0.3  # share of the string's idf mass the query explains
    joint_coverage: float = 0.0  # product of the two: rewards strings that match fully both ways
    head_bonus: float = 0.1  # the string and the query share their head noun
    reported: float = 0.05  # the string is also a reported title (what incumbents call the job)
    head_miss: float = 0.15  # penalty when the query head is absent from the string
    head_rarity: float = 0.5  # 0: the head counts the same whatever it is; 1: a common head ("specialist") counts less
    agreement: float = 0.05  # per further field that also matches well (>= 0.6)
    title_bag: float = 1.2  # BM25 over all titles of the occupation (head noun counted twice)
    text: float = 0.15  # BM25 over description + tasks, scaled to the query's best
    technology: float = 0.1  # BM25 over technology skill examples ("Oracle", "SAP")
    related_from: int = 10  # ranks after this may be filled by related occupations
    related: float = 0.3  # share of the best few occupations' score their O*NET related occupations get
    distinct_tail: bool = True  # ranks after related_from skip 6-digit SOC codes already listed
    exact_bonus: float = 1.0  # exact-match candidates rank above every non-exact one
    # BM25 of the role's department/family/function words over occupations' titles; chosen on the issue-10
    # cases and hand-made checks ("Biology Teacher" in a high school), not measured: no labelled title
    # here carries context. It acts only when a context column is mapped.
    context: float = 0.6
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    title_bag_b: float = 0.3  # occupations with many titles are not penalised much for it


DEFAULT_WEIGHTS = ScoringWeights()


@dataclass
class _Strings:
    """All title strings of the release, column-wise."""

    occ: np.ndarray  # occupation index per string
    field: np.ndarray  # index into FIELDS
    head: np.ndarray  # token id of the head noun, -1 when none
    reported: np.ndarray  # the string is (also) one of O*NET's reported titles
    mass: np.ndarray  # idf mass of the string's distinct tokens
    text: list[str]  # the original string, for explanations
    bag: list[str]


@dataclass
class StringScores:
    """Stage 1 of a query (see :meth:`CandidateIndex.string_scores`)."""

    score: np.ndarray  # per occupation, without the exact-match bonus
    string_ids: np.ndarray  # title strings sharing a word with the query
    weighted_sim: np.ndarray  # their similarity to the query, field-weighted (aligned with string_ids)


@dataclass
class ExactMatches:
    """Stage 2 (see :meth:`CandidateIndex.exact_matches`)."""

    occupations: np.ndarray  # occupation indexes with a title string equal to the query
    string_ids: np.ndarray  # that string for each (the highest-priority field)


@dataclass
class RelatedTail:
    """Stage 3 (see :meth:`CandidateIndex.related_tail`)."""

    boosted: np.ndarray  # per occupation: score + the share inherited from related leaders
    related_to: dict[int, int]  # occupation -> the leader it is related to


class _Postings:
    """Token id -> (ids, values) in two flat arrays (CSR): fast to save and to load."""

    def __init__(self, postings: dict[int, tuple[list[int], list[float]]], size: int) -> None:
        self.offsets = np.zeros(size + 1, dtype=np.int64)
        for token_id, (ids, _values) in postings.items():
            self.offsets[token_id + 1] = len(ids)
        np.cumsum(self.offsets, out=self.offsets)
        self.ids = np.zeros(int(self.offsets[-1]), dtype=np.int32)
        self.values = np.zeros(int(self.offsets[-1]), dtype=np.float32)
        for token_id, (ids, values) in postings.items():
            start, end = self.offsets[token_id], self.offsets[token_id + 1]
            self.ids[start:end] = ids
            self.values[start:end] = values

    @classmethod
    def from_arrays(cls, offsets: np.ndarray, ids: np.ndarray, values: np.ndarray) -> _Postings:
        postings = cls.__new__(cls)
        postings.offsets, postings.ids, postings.values = offsets, ids, values
        return postings

    def __contains__(self, token_id: int) -> bool:
        return 0 <= token_id < len(self.offsets) - 1 and self.offsets[token_id + 1] > self.offsets[token_id]

    def ids_of(self, token_id: int) -> np.ndarray:
        return self.ids[self.offsets[token_id] : self.offsets[token_id + 1]]

    def values_of(self, token_id: int) -> np.ndarray:
        return self.values[self.offsets[token_id] : self.offsets[token_id + 1]]


@dataclass
class _Bm25:
    """Occupation-level BM25 postings: token id -> (occupation indexes, term weights)."""

    postings: _Postings

    def scores(self, token_ids: list[int], n_occ: int, boost: dict[int, float] | None = None) -> np.ndarray:
        out = np.zeros(n_occ)
        for token_id in token_ids:
            if token_id in self.postings:
                weight = boost.get(token_id, 1.0) if boost else 1.0
                out[self.postings.ids_of(token_id)] += self.postings.values_of(token_id) * weight
        top = out.max() if n_occ else 0.0
        return out / top if top > 0 else out


_AND_LIST = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def title_variants(title: str) -> list[str]:
    """An O*NET title's parts as titles of their own: "Financial and Investment Analysts" ->
    "Financial Analysts", "Investment Analysts" (so "Financial Analyst" is an exact title match)."""
    main = re.split(r",\s*(?:except|all other)\b", title, flags=re.IGNORECASE)[0]
    if " and " not in main:
        return []
    prefix, of, rest = main.partition(" of ")
    if of:
        # The list belongs to one side of "of": "Appraisers and Assessors of Real Estate" ->
        # "Appraisers of Real Estate"; "First-Line Supervisors of Landscaping, Lawn Service, and
        # Groundskeeping Workers" -> "First-Line Supervisors of Lawn Service Workers" (never the
        # bare "Lawn Service Workers", which is another occupation's title).
        if " and " in prefix:
            return [f"{part} of {rest}" for part in _list_parts(prefix)]
        return [f"{prefix} of {variant}" for variant in _list_variants(rest)]
    return _list_variants(main)


def _list_parts(text: str) -> list[str]:
    return [part.strip() for part in _AND_LIST.split(text) if part.strip()]


def _list_variants(main: str) -> list[str]:
    parts = _list_parts(main)
    if len(parts) < 2 or len(parts[-1].split()) < 2:
        return []
    head = parts[-1].split()[-1]
    return [parts[-1]] + [f"{part} {head}" for part in parts[:-1] if "other" not in part.lower().split()]


_BRACKETED = re.compile(r"^(?P<main>[^()]+?)\s*\((?P<other>[^()]+)\)\s*$")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]{1,7}$")


def bracketed_forms(title: str) -> list[str]:
    """Both spellings of an O*NET title written "A (B)": "MLS (Medical Laboratory Scientist)" is
    "MLS" and "Medical Laboratory Scientist". A part counts when it is an acronym or has two words
    or more (so a qualifier such as "Engineer (Software)" stays one title)."""
    match = _BRACKETED.match(title.strip())
    if not match:
        return []
    parts = [match["main"].strip(), match["other"].strip()]
    if not all(_ACRONYM.match(part) or len(part.split()) >= 2 for part in parts):
        return []
    return parts


class CandidateIndex:
    """Candidates for role titles from one O*NET release (see module docstring)."""

    def __init__(
        self,
        release_id: int,
        codes: list[str],
        titles: list[str],
        descriptions: list[str],
        strings: list[tuple[int, str, str]],
        tasks: list[tuple[int, str]],
        technology: list[tuple[int, str]] | None = None,
        weights: ScoringWeights = DEFAULT_WEIGHTS,
        related: list[tuple[int, int, str]] | None = None,
    ) -> None:
        """``strings`` are (occupation index, field, text); ``tasks`` and ``technology`` are
        (occupation index, text)."""
        self.release_id = release_id
        self.weights = weights
        self.codes = codes
        self.titles = titles
        self.descriptions = descriptions
        self._code_index = {code: i for i, code in enumerate(codes)}
        self._tasks_by_occ: dict[int, list[str]] = defaultdict(list)
        for occ, task in tasks:
            self._tasks_by_occ[occ].append(task)
        self._vocab: dict[str, int] = {}
        self._build_strings(strings)
        self._title_bm25 = self._bm25(
            [(occ, " ".join(search_form(text).tokens)) for occ, _field, text in strings],
            per_document_set=True,
            b=weights.title_bag_b,
        )
        self._fuzzy_vocab = [token for token in self._vocab if len(token) >= 5 and token.isalpha()]
        documents = list(enumerate(descriptions)) + list(tasks)
        self._text_bm25 = self._bm25([(occ, " ".join(search_form(text).tokens)) for occ, text in documents])
        by_occ: dict[int, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for occ, other, tier in related or []:
            by_occ[occ][0].append(other)
            by_occ[occ][1].append(RELATEDNESS.get(tier, 0.3))
        self._related = _Postings(dict(by_occ), len(codes))
        self._tech_bm25 = self._bm25([(occ, " ".join(search_form(text).tokens)) for occ, text in technology or []])
        self._languages: dict[str, Language] = {}

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, session: Session, release_id: int | None = None, weights: ScoringWeights = DEFAULT_WEIGHTS):
        release_id = release_id if release_id is not None else require_active_release(session).id
        return cls(**read_release(session, release_id), weights=weights)

    def _token_id(self, token: str, create: bool = False) -> int:
        found = self._vocab.get(token)
        if found is None and create:
            found = self._vocab[token] = len(self._vocab)
        return -1 if found is None else found

    def _build_strings(self, raw: list[tuple[int, str, str]]) -> None:
        # One entry per (occupation, search form): the highest-priority field wins.
        best: dict[tuple[int, str], tuple[int, str, SearchForm]] = {}
        reported: set[tuple[int, str]] = set()  # also a title incumbents reported (a real-world title)
        expanded = [(occ, field, text, text) for occ, field, text in raw]
        acronyms: set[str] = set()  # the short side of "Long Form (LF)": indexed as written
        for occ, field, text in raw:
            if field != "title":
                for part in bracketed_forms(text):
                    expanded.append((occ, field, text, part))
                    if _ACRONYM.match(part):
                        acronyms.add(part)
        expanded += [
            (occ, "title", text, variant)
            for occ, field, text in raw
            if field == "title"
            for variant in title_variants(text)
        ]
        literal: dict[tuple[int, str], str] = {}  # strings retrieval rewords -> their literal bag
        for occ, field, text, search in expanded:
            form = literal_form(search) if search in acronyms else self._index_form(search, occ)
            if not form.tokens:
                continue
            key = (occ, form.bag)
            priority = FIELD_PRIORITY[field]
            if key not in best or priority < best[key][0]:
                best[key] = (priority, text, form)
            if field == "reported_title":
                reported.add(key)
            if is_reworded(search):
                literal[key] = _search_form(search, False).bag
        entries = sorted(best.items(), key=lambda item: (item[0][0], item[1][0], item[0][1]))
        token_sets = []
        occ_df: dict[int, set[int]] = defaultdict(set)
        for (occ, _bag), (_priority, _text, form) in entries:
            ids = {self._token_id(token, create=True) for token in form.tokens}
            token_sets.append(ids)
            for token_id in ids:
                occ_df[token_id].add(occ)
        n_occ = max(len(self.codes), 1)
        self._max_idf = math.log(1.0 + n_occ)
        self._idf = np.zeros(len(self._vocab), dtype=np.float64)
        for token_id, occs in occ_df.items():
            self._idf[token_id] = math.log(1.0 + n_occ / len(occs))
        postings: dict[int, list[int]] = defaultdict(list)
        for string_id, ids in enumerate(token_sets):
            for token_id in ids:
                postings[token_id].append(string_id)
        self._postings = _Postings({t: (ids, [0.0] * len(ids)) for t, ids in postings.items()}, len(self._vocab))
        self._strings = _Strings(
            occ=np.array([occ for (occ, _), _ in entries], dtype=np.int32),
            field=np.array([priority for _, (priority, _, _) in entries], dtype=np.int8),
            head=np.array(
                [self._token_id(form.head) if form.head else -1 for _, (_, _, form) in entries], dtype=np.int32
            ),
            reported=np.array([key in reported for key, _ in entries], dtype=bool),
            mass=np.array([self._idf[list(ids)].sum() for ids in token_sets], dtype=np.float64),
            text=[text for _, (_, text, _) in entries],
            bag=[bag for (_, bag), _ in entries],
        )
        self._literal_bags = {
            string_id: literal[key] for string_id, (key, _) in enumerate(entries) if key in literal
        }
        self._index_exact()

    def _index_exact(self) -> None:
        self._exact: dict[str, list[int]] = defaultdict(list)
        for string_id, bag in enumerate(self._strings.bag):
            self._exact[bag].append(string_id)
        self._exact_literal: dict[str, list[int]] = defaultdict(list)
        for string_id, bag in self._literal_bags.items():
            self._exact_literal[bag].append(string_id)

    def _index_form(self, text: str, occ: int) -> SearchForm:
        """An O*NET string's search form; an abbreviation its own words leave open is read with
        the occupation's title as context ("MA" of Medical Assistants is a medical assistant)."""
        form = search_form(text)
        if not any(choice.chosen is None for choice in parse_title(text).choices):
            return form
        readings = read_title(text, {"job_family": self.titles[occ]})
        return readings[0].form if len(readings) == 1 else form

    def _bm25(self, documents: list[tuple[int, str]], per_document_set: bool = False, b: float | None = None) -> _Bm25:
        """Occupation-level BM25: the documents of one occupation are concatenated.

        ``per_document_set`` counts a word once per document (titles repeat their head noun, and
        "Developer" appearing in 40 titles of an occupation is the signal, not its repetition in one).
        """
        n_occ = len(self.codes)
        counts: list[dict[int, int]] = [defaultdict(int) for _ in range(n_occ)]
        lengths = np.zeros(n_occ, dtype=np.float64)
        for occ, text in documents:
            tokens = text.split()
            for token in set(tokens) if per_document_set else tokens:
                counts[occ][self._token_id(token, create=True)] += 1
                lengths[occ] += 1
        average = lengths.mean() if n_occ else 1.0
        k1 = self.weights.bm25_k1
        b = self.weights.bm25_b if b is None else b
        df: dict[int, int] = defaultdict(int)
        for occ_counts in counts:
            for token_id in occ_counts:
                df[token_id] += 1
        postings: dict[int, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for occ, occ_counts in enumerate(counts):
            norm = k1 * (1 - b + b * lengths[occ] / (average or 1.0))
            for token_id, tf in occ_counts.items():
                idf = math.log(1 + (n_occ - df[token_id] + 0.5) / (df[token_id] + 0.5))
                ids, values = postings[token_id]
                ids.append(occ)
                values.append(idf * tf * (k1 + 1) / (tf + norm))
        return _Bm25(_Postings(postings, len(self._vocab)))

    # ------------------------------------------------------------------ queries

    def occupation(self, code: str) -> tuple[str, str] | None:
        """(title, description) of an occupation of this release, or None."""
        i = self._code_index.get(code)
        return None if i is None else (self.titles[i], self.descriptions[i])

    def __len__(self) -> int:
        return len(self.codes)

    def _corrected(self, form: SearchForm) -> SearchForm:
        """Fix a misspelt word ("consulant") to the closest word any O*NET title uses."""
        tokens = list(form.tokens)
        changed = False
        for i, token in enumerate(tokens):
            if token in self._vocab or not 5 <= len(token) <= 30 or not token.isalpha():
                continue
            limit = 1 if len(token) < 8 else 2
            match = process.extractOne(token, self._fuzzy_vocab, scorer=Levenshtein.distance, score_cutoff=limit)
            if match is not None:
                tokens[i] = match[0]
                changed = True
        if not changed:
            return form
        head = tokens[form.tokens.index(form.head)] if form.head in form.tokens else form.head
        return SearchForm(tuple(tokens), head)

    # ------------------------------------------------------------------ retrieval stages

    def candidates(self, title: str, k: int = 20, context: dict[str, str] | None = None) -> list[Candidate]:
        """Up to ``k`` occupations for ``title``, best first; [] when the title has no usable word
        or is not English and the bundled dictionary cannot translate it (see :meth:`language_of`).

        ``context`` is the role's context columns (department, job_family, job_function,
        description, …): they decide abbreviations the title leaves open, and weigh a little in
        the ranking. Each reading of the title is searched; an occupation keeps its best one.
        """
        if k <= 0:
            return []
        readings = self.readings_of(title or "", context)
        if not readings:
            return []
        context_ids = self._context_ids(context)
        n_occ = len(self.codes)
        total = np.zeros(0)
        source = np.zeros(n_occ, dtype=np.int32)  # which reading gave each occupation its score
        searched: list[tuple[TitleReading, StringScores, ExactMatches]] = []
        for r, reading in enumerate(readings):
            scores = self.string_scores(reading.form, context_ids, (context or {}).get("description"))
            exact = self.exact_matches(reading.form, title if reading.via != "translation" else None)
            score = scores.score.copy()
            score[exact.occupations] += self.weights.exact_bonus
            if r == 0:
                total = score
            else:  # an occupation keeps the reading it scores best on
                better = score > total
                total[better] = score[better]
                source[better] = r
            searched.append((reading, scores, exact))
        if not total.any():
            return []
        tail = self.related_tail(total)
        top = self._ranked(total, tail.boosted, min(k, n_occ))
        return self.explain(top, total, tail, source, searched)

    def readings_of(self, title: str, context: dict[str, str] | None = None) -> list[TitleReading]:
        """The readings of ``title`` to search: its abbreviations read (see
        :mod:`jobforge.retrieval.readings`), or its translation when it is not English."""
        language = self.language_of(title)
        if language.code == "?":  # no word of it is English (nor near one): whatever matches, rarely anything
            return [r for r in read_title(title, context) if r.form.tokens]
        if not language.english:
            if not language.translation:
                return []
            label = f"{title.strip()} → {language.translation} ({language.name})"
            form = search_form(language.translation)
            return [TitleReading(form, (label,), "translation")] if form.tokens else []
        readings = [r for r in read_title(title, context) if r.form.tokens]
        reworded = rewording_of(title)
        return [
            TitleReading(self._corrected(r.form), r.labels, r.via or reworded, r.decided) for r in readings
        ]

    def string_scores(
        self, form: SearchForm, context_ids: list[int] | None = None, description: str | None = None
    ) -> StringScores:
        """Stage 1: every occupation's score from its title strings, its titles taken together
        (BM25), its description and tasks, its technology and the role's context words."""
        w = self.weights
        n_occ = len(self.codes)
        token_ids = [t for t in dict.fromkeys(self._token_id(token) for token in form.tokens) if t >= 0]
        head_id = self._token_id(form.head) if form.head else -1
        head_idf = self._idf[head_id] if 0 <= head_id < len(self._idf) else self._max_idf
        head_weight = 1.0 - w.head_rarity * (1.0 - head_idf / self._max_idf)
        title_score, agreement, string_ids, weighted_sim = self._title_strings(form, token_ids, head_id, head_weight)
        boost = {head_id: 1.0 + head_weight} if head_id >= 0 else None
        score = title_score + agreement + w.title_bag * self._title_bm25.scores(token_ids, n_occ, boost)
        text_ids = list(token_ids)
        if description:
            text_ids += [self._token_id(t) for t in search_form(description).tokens[:50]]
        score += w.text * self._text_bm25.scores(text_ids, n_occ)
        score += w.technology * self._tech_bm25.scores(token_ids, n_occ)
        if context_ids and w.context:
            score += w.context * self._title_bm25.scores(context_ids, n_occ)
        return StringScores(score, string_ids, weighted_sim)

    def _title_strings(
        self, form: SearchForm, token_ids: list[int], head_id: int, head_weight: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Best title string per occupation: (score, agreement bonus, string ids, their weighted similarity)."""
        w = self.weights
        n_occ = len(self.codes)
        strings = self._strings
        field_best = np.zeros(n_occ * len(FIELDS))
        title_score = np.zeros(n_occ)
        string_ids = np.zeros(0, dtype=np.int64)
        weighted_sim = np.zeros(0)
        hit_ids = [t for t in token_ids if t in self._postings]
        # Words no title uses still count in the query's mass (as rare words), so a title that is
        # half unknown words cannot look like a full match.
        unknown = len(set(form.tokens)) - len(hit_ids)
        query_mass = float(sum(self._idf[t] for t in hit_ids)) + unknown * self._max_idf or 1.0
        if hit_ids:
            acc = np.zeros(len(strings.occ), dtype=np.float32)  # per call: candidates() is thread-safe
            for t in hit_ids:
                acc[self._postings.ids_of(t)] += self._idf[t]
            lists = [self._postings.ids_of(t) for t in hit_ids]
            if sum(len(ids) for ids in lists) < 3000:  # sorting a few ids beats scanning every string
                string_ids = np.unique(np.concatenate(lists))
            else:
                string_ids = np.flatnonzero(acc)
            matched = acc[string_ids].astype(np.float64)
            query_cov = np.minimum(matched / query_mass, 1.0)
            string_cov = np.minimum(matched / strings.mass[string_ids], 1.0)
            sim = w.query_coverage * query_cov + w.string_coverage * string_cov
            sim += w.joint_coverage * query_cov * string_cov
            if head_id >= 0:
                sim += np.where(strings.head[string_ids] == head_id, w.head_bonus * head_weight, 0.0)
                if head_id in self._postings:
                    head_ids = self._postings.ids_of(head_id)  # sorted
                    found = head_ids[np.minimum(np.searchsorted(head_ids, string_ids), len(head_ids) - 1)]
                    sim -= np.where(found == string_ids, 0.0, w.head_miss * head_weight)
            sim += np.where(strings.reported[string_ids], w.reported, 0.0)
            occs = strings.occ[string_ids]
            fields = strings.field[string_ids]
            np.maximum.at(field_best, occs.astype(np.int64) * len(FIELDS) + fields, sim)
            weighted_sim = sim * FIELD_WEIGHTS[fields]
            np.maximum.at(title_score, occs, weighted_sim)
        agreement = np.maximum((field_best.reshape(n_occ, len(FIELDS)) >= 0.6).sum(axis=1) - 1, 0) * w.agreement
        return title_score, agreement, string_ids, weighted_sim

    def exact_matches(self, form: SearchForm, title: str | None = None) -> ExactMatches:
        """Stage 2: occupations with a title string whose search form equals the query's (order-free).

        A title retrieval reads in other words ("Head of Sales" -> "Director of Sales") matches
        exactly only a string written the same way (``title`` given: its literal form is used).
        """
        strings = self._strings
        if title is not None and is_reworded(title):
            found = self._exact_literal.get(_search_form(title, False).bag, ())
        else:
            found = self._exact.get(form.bag, ())
        best: dict[int, int] = {}
        for string_id in found:
            occ = int(strings.occ[string_id])
            if occ not in best or strings.field[string_id] < strings.field[best[occ]]:
                best[occ] = string_id
        return ExactMatches(
            np.array(list(best), dtype=np.int64), np.array(list(best.values()), dtype=np.int64)
        )

    def related_tail(self, score: np.ndarray) -> RelatedTail:
        """Stage 3: occupations O*NET lists as related to the best three inherit a share of their
        score (for ranks after ``related_from``)."""
        related_to: dict[int, int] = {}  # filled occupation -> the leader it is related to
        if not self.weights.related:
            return RelatedTail(score, related_to)
        leaders = np.argsort(-score)[:3]
        top_score = score.max()
        inherited = np.zeros(len(score))
        for leader in leaders:
            if top_score > 0 and leader in self._related:
                share = score[leader] / top_score
                ids = self._related.ids_of(leader)
                np.maximum.at(inherited, ids, self._related.values_of(leader) * share)
                for other in ids:
                    related_to.setdefault(int(other), int(leader))
        return RelatedTail(score + self.weights.related * inherited, related_to)

    def explain(
        self,
        top: list[int],
        score: np.ndarray,
        tail: RelatedTail,
        source: np.ndarray,
        searched: list[tuple[TitleReading, StringScores, ExactMatches]],
    ) -> list[Candidate]:
        """Stage 4: the ranked occupations as candidates, each with why it was retrieved."""
        strings = self._strings
        best_string: dict[int, int] = {}
        for r, (_reading, scores, _exact) in enumerate(searched):
            mine = [occ for occ in top if source[occ] == r]
            best_string.update(self._best_strings(mine, scores.string_ids, scores.weighted_sim))
        exact_of = [dict(zip(e.occupations.tolist(), e.string_ids.tolist(), strict=True)) for _, _, e in searched]
        results: list[Candidate] = []
        shown = float("inf")
        for rank, occ in enumerate(top, start=1):
            reading = searched[int(source[occ])][0]
            exact_ids = exact_of[int(source[occ])]
            shown = min(shown, float(score[occ] if rank <= self.weights.related_from else tail.boosted[occ]))
            string_id = exact_ids.get(occ, best_string.get(occ))
            if string_id is not None:
                matched_on, matched_text = FIELDS[strings.field[string_id]], strings.text[string_id]
            elif rank > self.weights.related_from and occ in tail.related_to:
                leader = tail.related_to[occ]
                matched_on = "related_occupation"
                matched_text = f"related to {self.codes[leader]} {self.titles[leader]}"
            else:
                matched_on, matched_text = self._explain_text(occ, reading.form)
            is_exact = occ in exact_ids
            results.append(
                Candidate(
                    code=self.codes[occ],
                    title=self.titles[occ],
                    score=round(shown, 4),
                    matched_on=matched_on,
                    matched_text=matched_text,
                    exact=is_exact,
                    description=self.descriptions[occ],
                    rank=rank,
                    via=reading.via,
                    reading=reading.label if reading.via in ("abbreviation", "translation") else "",
                    shared_by=len(exact_ids) if is_exact else 0,
                )
            )
        return results

    def _context_ids(self, context: dict[str, str] | None) -> list[int]:
        if not context:
            return []
        text = " ".join(str(context.get(name) or "") for name in CONTEXT_RANKING_FIELDS)
        return [t for t in dict.fromkeys(self._token_id(token) for token in search_form(text).tokens) if t >= 0]

    # ------------------------------------------------------------------ language

    def is_english_word(self, word: str) -> bool:
        """Whether a folded word is in the release's English vocabulary (titles, tasks, descriptions)."""
        return word in self._vocab or stem(word) in self._vocab

    def is_near_english(self, word: str) -> bool:
        """Whether a folded word is one or two letters from a title word (a typo of English), as
        written or as retrieval folds it ("Gatroenterologist" -> "gatroenterology")."""
        for form in dict.fromkeys((word, stem(word))):
            if not 5 <= len(form) <= 30 or not form.isalpha():
                continue
            limit = 1 if len(form) < 8 else 2
            if process.extractOne(form, self._fuzzy_vocab, scorer=Levenshtein.distance, score_cutoff=limit):
                return True
        return False

    def language_of(self, title: str) -> Language:
        """Whether ``title`` is English, else its language and dictionary translation (see
        :mod:`jobforge.retrieval.language`)."""
        words = _fold(title).split()
        if title.isascii() and words and all(w.isalpha() and self.is_english_word(w) for w in words):
            return ENGLISH  # the common case, without the dictionary look-ups
        found = self._languages.get(title)
        if found is None:
            found = detect(title, self.is_english_word, self.is_near_english)
            if len(self._languages) < 100_000:
                self._languages[title] = found
        return found

    def _ranked(self, score: np.ndarray, boosted: np.ndarray, k: int) -> list[int]:
        """The first ``related_from`` ranks by score, the rest by the related-boosted score."""
        head_k = min(k, self.weights.related_from)
        first = np.argpartition(-score, head_k - 1)[:head_k] if head_k < len(score) else np.arange(len(score))
        first = first[np.argsort(-score[first], kind="stable")]
        top = [int(occ) for occ in first if score[occ] > 0]
        if k > len(top):
            rest = boosted.copy()
            rest[top] = -np.inf
            if self.weights.distinct_tail:
                # The tail widens the choice: a sibling (same 6-digit SOC code) of an occupation
                # already listed adds less than another SOC code would.
                return self._distinct_tail(top, rest, k)
            more = np.argpartition(-rest, k - len(top) - 1)[: k - len(top)]
            top += [int(occ) for occ in more[np.argsort(-rest[more], kind="stable")] if rest[occ] > 0]
        return top

    def _distinct_tail(self, top: list[int], rest: np.ndarray, k: int) -> list[int]:
        socs = {self.codes[occ][:7] for occ in top}
        pool = min(len(rest), 4 * k)
        more = np.argpartition(-rest, pool - 1)[:pool]
        for occ in more[np.argsort(-rest[more], kind="stable")]:
            if len(top) >= k or rest[occ] <= 0:
                break
            if self.codes[occ][:7] not in socs:
                socs.add(self.codes[occ][:7])
                top.append(int(occ))
        return top

    def _best_strings(self, top: list[int], string_ids: np.ndarray, weighted_sim: np.ndarray) -> dict[int, int]:
        """The best-scoring title string of each of the ``top`` occupations (those with one)."""
        if not len(string_ids) or not top:
            return {}
        occs = self._strings.occ[string_ids]
        wanted = np.zeros(len(self.codes), dtype=bool)
        wanted[top] = True
        keep = wanted[occs]
        order = np.argsort(-weighted_sim[keep], kind="stable")
        kept_ids, kept_occs = string_ids[keep][order], occs[keep][order]
        _, first = np.unique(kept_occs, return_index=True)
        return {int(kept_occs[i]): int(kept_ids[i]) for i in first}

    def _explain_text(self, occ: int, form: SearchForm) -> tuple[str, str]:
        wanted = set(form.tokens)
        for task in self._tasks_by_occ.get(occ, ()):
            if wanted.intersection(search_form(task).tokens):
                return "task", task
        return "description", self.descriptions[occ]

    # ------------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        """Write the index as one ``.npz`` file: numpy arrays, and JSON (as bytes) for the texts.

        Nothing in it can execute code when read (no pickle): :meth:`load` reads arrays with
        ``allow_pickle=False`` and the rest with ``json``.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays, meta = self._state()
        meta_bytes = json.dumps(meta, ensure_ascii=False).encode("utf-8")
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as handle:
            np.savez(handle, _meta=np.frombuffer(meta_bytes, dtype=np.uint8), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> CandidateIndex | None:
        """The index saved at ``path``, or None when it is missing, unreadable or written by other code."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["_meta"]).decode("utf-8"))
                if meta.get("format") != INDEX_FORMAT:
                    return None
                arrays = {name: data[name] for name in data.files if name != "_meta"}
        except (OSError, ValueError, KeyError, EOFError, json.JSONDecodeError, UnicodeDecodeError):
            return None
        return cls._from_state(arrays, meta)

    _POSTINGS = ("_postings", "_related", "_title_bm25", "_text_bm25", "_tech_bm25")

    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays: dict[str, np.ndarray] = {"idf": self._idf}
        for name in ("occ", "field", "head", "reported", "mass"):
            arrays[f"strings_{name}"] = getattr(self._strings, name)
        for name in self._POSTINGS:
            postings = getattr(self, name)
            postings = postings.postings if isinstance(postings, _Bm25) else postings
            for part in ("offsets", "ids", "values"):
                arrays[f"{name}_{part}"] = getattr(postings, part)
        meta = {
            "format": INDEX_FORMAT,
            "release_id": self.release_id,
            "weights": asdict(self.weights),
            "codes": self.codes,
            "titles": self.titles,
            "descriptions": self.descriptions,
            "tasks": [[occ, task] for occ, tasks in sorted(self._tasks_by_occ.items()) for task in tasks],
            "vocab": list(self._vocab),
            "max_idf": self._max_idf,
            "strings_text": self._strings.text,
            "strings_bag": self._strings.bag,
            "literal_bags": [[string_id, bag] for string_id, bag in self._literal_bags.items()],
        }
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> CandidateIndex:
        index = cls.__new__(cls)
        index.release_id = meta["release_id"]
        index.weights = ScoringWeights(**meta["weights"])
        index.codes, index.titles, index.descriptions = meta["codes"], meta["titles"], meta["descriptions"]
        index._code_index = {code: i for i, code in enumerate(index.codes)}
        index._tasks_by_occ = defaultdict(list)
        for occ, task in meta["tasks"]:
            index._tasks_by_occ[occ].append(task)
        index._vocab = {token: i for i, token in enumerate(meta["vocab"])}
        index._fuzzy_vocab = [token for token in index._vocab if len(token) >= 5 and token.isalpha()]
        index._max_idf = meta["max_idf"]
        index._idf = arrays["idf"]
        index._strings = _Strings(
            *(arrays[f"strings_{name}"] for name in ("occ", "field", "head", "reported", "mass")),
            text=meta["strings_text"],
            bag=meta["strings_bag"],
        )
        for name in cls._POSTINGS:
            postings = _Postings.from_arrays(*(arrays[f"{name}_{part}"] for part in ("offsets", "ids", "values")))
            setattr(index, name, _Bm25(postings) if name.endswith("bm25") else postings)
        index._literal_bags = {int(string_id): bag for string_id, bag in meta["literal_bags"]}
        index._index_exact()
        index._languages = {}
        return index


def read_release(session: Session, release_id: int) -> dict[str, Any]:
    """What an index is built from: occupations, their title strings, tasks and technology."""
    occupations = session.execute(
        select(OnetOccupation.code, OnetOccupation.title, OnetOccupation.description)
        .where(OnetOccupation.release_id == release_id)
        .order_by(OnetOccupation.code)
    ).all()
    codes = [row.code for row in occupations]
    position = {code: i for i, code in enumerate(codes)}
    strings: list[tuple[int, str, str]] = [(i, "title", row.title) for i, row in enumerate(occupations)]
    for code, title, short in session.execute(
        select(OnetAlternateTitle.code, OnetAlternateTitle.title, OnetAlternateTitle.short_title).where(
            OnetAlternateTitle.release_id == release_id
        )
    ):
        if code in position:
            strings.append((position[code], "alternate_title", title))
            if short:
                strings.append((position[code], "short_title", short))
    for code, title in session.execute(
        select(OnetReportedTitle.code, OnetReportedTitle.title).where(OnetReportedTitle.release_id == release_id)
    ):
        if code in position:
            strings.append((position[code], "reported_title", title))
    tasks = [
        (position[code], task)
        for code, task in session.execute(
            select(OnetTask.code, OnetTask.task).where(OnetTask.release_id == release_id).order_by(OnetTask.id)
        )
        if code in position
    ]
    technology = [
        (position[code], example)
        for code, example in session.execute(
            select(OnetTechnologySkill.code, OnetTechnologySkill.example).where(
                OnetTechnologySkill.release_id == release_id
            )
        )
        if code in position
    ]
    related = [
        (position[code], position[other], tier or "")
        for code, other, tier in session.execute(
            select(
                OnetRelatedOccupation.code, OnetRelatedOccupation.related_code, OnetRelatedOccupation.relatedness_tier
            ).where(OnetRelatedOccupation.release_id == release_id)
        )
        if code in position and other in position
    ]
    return {
        "release_id": release_id,
        "related": related,
        "codes": codes,
        "titles": [row.title for row in occupations],
        "descriptions": [row.description or "" for row in occupations],
        "strings": strings,
        "tasks": tasks,
        "technology": technology,
    }


_CACHE: dict[tuple[str, int], CandidateIndex] = {}
_LOCK = threading.Lock()


def _cache_path(release: OnetRelease, store: str) -> Path:
    from jobforge.config import get_settings

    store_hash = hashlib.sha256(store.encode()).hexdigest()[:10]
    stamp = release.loaded_at.strftime("%Y%m%dT%H%M%S%f") if release.loaded_at else "0"
    name = f"{store_hash}_{release.version}_{release.id}_{stamp}_{INDEX_FORMAT}.npz"
    return get_settings().data_dir / "index_cache" / name


def get_candidate_index(session: Session) -> CandidateIndex:
    """The index of the active release: cached in memory per store and release, and on disk."""
    release = require_active_release(session)
    store = str(session.get_bind().url)
    # Reloading a version keeps its release id but moves loaded_at: a new key, a fresh index.
    key = (store, release.id, release.loaded_at)
    with _LOCK:
        index = _CACHE.get(key)
        if index is None:
            path = _cache_path(release, store)
            index = CandidateIndex.load(path)
            if index is None or index.release_id != release.id:
                index = CandidateIndex.build(session, release.id)
                with contextlib.suppress(OSError):  # a read-only data dir only costs a rebuild next time
                    index.save(path)
                    # Older caches of this store (other releases, older code, the old pickle
                    # format) are dead weight.
                    for stale in path.parent.glob(path.name.split("_", 1)[0] + "_*"):
                        if stale != path:
                            stale.unlink()
            _CACHE[key] = index
        return index


def clear_index_cache() -> None:
    """Forget in-memory indexes (after a release is loaded or activated)."""
    with _LOCK:
        _CACHE.clear()
