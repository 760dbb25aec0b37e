"""The candidate index over one O*NET release, built like O*NET's own occupation search.

Retrieval for a role title runs in two passes:

1. **Exact match**: the title's order-free search form ("Cooks, Restaurant" = "Restaurant Cook")
   equals that of an occupation title, an alternate or short title, or a reported title.
2. **Weighted ranking**: every title string of the release is scored against the query by the
   idf-weighted share of the query it explains and of itself it covers, with a bonus when both
   are about the same head noun ("engineer" in "Software Engineer, Java"). Scores are then taken
   per occupation: its best string per field, weighted title > alternate/reported > short, plus
   agreement between fields and a BM25 score over the description and tasks.

Every candidate says why it was retrieved (field and string). Pure Python + numpy: the index of
the 30.1 release builds in a few seconds and answers a title in about a millisecond.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import pickle
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.db.models import OnetAlternateTitle, OnetOccupation, OnetRelease, OnetReportedTitle, OnetTask
from jobforge.onet.repository import require_active_release
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.normalize import SearchForm, search_form

# Disk caches are keyed by the code that built them, so a changed rule never serves a stale index.
INDEX_FORMAT = hashlib.sha256(
    b"".join((Path(__file__).parent / name).read_bytes() for name in ("index.py", "normalize.py"))
).hexdigest()[:12]

FIELDS = ("title", "alternate_title", "reported_title", "short_title")
FIELD_WEIGHTS = np.array([1.0, 0.93, 0.93, 0.85])
FIELD_PRIORITY = {name: i for i, name in enumerate(FIELDS)}
TEXT_FIELDS = ("description", "task")


@dataclass(frozen=True)
class ScoringWeights:
    """Knobs of the weighted ranking (see module docstring)."""

    query_coverage: float = 0.7  # share of the query's idf mass the string explains
    string_coverage: float = 0.3  # share of the string's idf mass the query explains
    head_bonus: float = 0.25  # the string and the query share their head noun
    head_miss: float = 0.15  # penalty when the query head is absent from the string
    agreement: float = 0.05  # per further field that also matches well (>= 0.6)
    text: float = 0.25  # BM25 over description + tasks, scaled to the query's best
    exact_bonus: float = 1.0  # exact-match candidates rank above every non-exact one
    bm25_k1: float = 1.2
    bm25_b: float = 0.75


DEFAULT_WEIGHTS = ScoringWeights()


@dataclass
class _Strings:
    """All title strings of the release, column-wise."""

    occ: np.ndarray  # occupation index per string
    field: np.ndarray  # index into FIELDS
    head: np.ndarray  # token id of the head noun, -1 when none
    mass: np.ndarray  # idf mass of the string's distinct tokens
    text: list[str]  # the original string, for explanations
    bag: list[str]


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
        weights: ScoringWeights = DEFAULT_WEIGHTS,
    ) -> None:
        """``strings`` are (occupation index, field, text); ``tasks`` are (occupation index, text)."""
        self.release_id = release_id
        self.weights = weights
        self.codes = codes
        self.titles = titles
        self.descriptions = descriptions
        self._code_index = {code: i for i, code in enumerate(codes)}
        self._tasks_by_occ: dict[int, list[str]] = defaultdict(list)
        for occ, task in tasks:
            self._tasks_by_occ[occ].append(task)
        self._build_strings(strings)
        self._build_text(tasks)

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, session: Session, release_id: int | None = None, weights: ScoringWeights = DEFAULT_WEIGHTS):
        release_id = release_id if release_id is not None else require_active_release(session).id
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
        return cls(
            release_id,
            codes,
            [row.title for row in occupations],
            [row.description or "" for row in occupations],
            strings,
            tasks,
            weights,
        )

    def _token_id(self, token: str, create: bool = False) -> int:
        found = self._vocab.get(token)
        if found is None and create:
            found = self._vocab[token] = len(self._vocab)
        return -1 if found is None else found

    def _build_strings(self, raw: list[tuple[int, str, str]]) -> None:
        self._vocab: dict[str, int] = {}
        # One entry per (occupation, search form): the highest-priority field wins.
        best: dict[tuple[int, str], tuple[int, str, SearchForm]] = {}
        for occ, field, text in raw:
            form = search_form(text)
            if not form.tokens:
                continue
            key = (occ, form.bag)
            priority = FIELD_PRIORITY[field]
            if key not in best or priority < best[key][0]:
                best[key] = (priority, text, form)
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
        self._postings = {token_id: np.array(ids, dtype=np.int32) for token_id, ids in postings.items()}
        self._strings = _Strings(
            occ=np.array([occ for (occ, _), _ in entries], dtype=np.int32),
            field=np.array([priority for _, (priority, _, _) in entries], dtype=np.int8),
            head=np.array(
                [self._token_id(form.head) if form.head else -1 for _, (_, _, form) in entries], dtype=np.int32
            ),
            mass=np.array([self._idf[list(ids)].sum() for ids in token_sets], dtype=np.float64),
            text=[text for _, (_, text, _) in entries],
            bag=[bag for (_, bag), _ in entries],
        )
        self._exact: dict[str, list[int]] = defaultdict(list)
        for string_id, bag in enumerate(self._strings.bag):
            self._exact[bag].append(string_id)

    def _build_text(self, tasks: list[tuple[int, str]]) -> None:
        """Occupation-level BM25 postings over description + tasks (one document per occupation)."""
        n_occ = len(self.codes)
        counts: list[dict[int, int]] = [defaultdict(int) for _ in range(n_occ)]
        lengths = np.zeros(n_occ, dtype=np.float64)
        documents = [(i, text) for i, text in enumerate(self.descriptions)] + list(tasks)
        for occ, text in documents:
            for token in search_form(text).tokens:
                token_id = self._token_id(token, create=True)
                counts[occ][token_id] += 1
                lengths[occ] += 1
        average = lengths.mean() if n_occ else 1.0
        k1, b = self.weights.bm25_k1, self.weights.bm25_b
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
        self._text_postings = {
            token_id: (np.array(ids, dtype=np.int32), np.array(values)) for token_id, (ids, values) in postings.items()
        }

    # ------------------------------------------------------------------ queries

    def occupation(self, code: str) -> tuple[str, str] | None:
        """(title, description) of an occupation of this release, or None."""
        i = self._code_index.get(code)
        return None if i is None else (self.titles[i], self.descriptions[i])

    def __len__(self) -> int:
        return len(self.codes)

    def candidates(self, title: str, k: int = 20, context: dict[str, str] | None = None) -> list[Candidate]:
        """Up to ``k`` occupations for ``title``, best first; [] when the title has no usable word."""
        form = search_form(title or "")
        if not form.tokens or k <= 0:
            return []
        w = self.weights
        n_occ = len(self.codes)
        token_ids = [t for t in dict.fromkeys(self._token_id(token) for token in form.tokens) if t >= 0]
        # Words no title uses still count in the query's mass (as rare words), so a title that is
        # half unknown words cannot look like a full match.
        unknown = len(set(form.tokens)) - sum(1 for t in token_ids if t in self._postings)
        strings = self._strings

        # Weighted ranking over title strings.
        field_best = np.zeros((n_occ, len(FIELDS)))
        best_string: dict[tuple[int, int], int] = {}
        hit_ids = [t for t in token_ids if t in self._postings]
        query_mass = float(sum(self._idf[t] for t in hit_ids)) + unknown * self._max_idf or 1.0
        if hit_ids:
            ids = np.concatenate([self._postings[t] for t in hit_ids])
            gains = np.concatenate([np.full(len(self._postings[t]), self._idf[t]) for t in hit_ids])
            string_ids, inverse = np.unique(ids, return_inverse=True)
            matched = np.bincount(inverse, weights=gains)
            query_cov = np.minimum(matched / query_mass, 1.0)
            string_cov = np.minimum(matched / strings.mass[string_ids], 1.0)
            sim = w.query_coverage * query_cov + w.string_coverage * string_cov
            head_id = self._token_id(form.head) if form.head else -1
            if head_id >= 0:
                heads = strings.head[string_ids]
                sim = sim + np.where(heads == head_id, w.head_bonus, 0.0)
                if head_id in self._postings:
                    has_head = np.isin(string_ids, self._postings[head_id], assume_unique=False)
                    sim = sim - np.where(has_head, 0.0, w.head_miss)
            occs = strings.occ[string_ids]
            fields = strings.field[string_ids]
            flat = occs.astype(np.int64) * len(FIELDS) + fields
            order = np.lexsort((-sim, flat))  # per (occ, field): best string first
            first = np.ones(len(order), dtype=bool)
            first[1:] = flat[order][1:] != flat[order][:-1]
            chosen = order[first]
            field_best.reshape(-1)[flat[chosen]] = sim[chosen]
            for i in chosen:
                best_string[(int(occs[i]), int(fields[i]))] = int(string_ids[i])
        weighted = field_best * FIELD_WEIGHTS
        title_score = weighted.max(axis=1)
        agreement = np.clip((field_best >= 0.6).sum(axis=1) - 1, 0, None) * w.agreement

        # Description and tasks (and the role's own description, when given).
        text_ids = list(token_ids)
        if context and context.get("description"):
            text_ids += [self._token_id(t) for t in search_form(context["description"]).tokens[:50]]
        text_score = np.zeros(n_occ)
        for t in text_ids:
            posting = self._text_postings.get(t)
            if posting is not None:
                text_score[posting[0]] += posting[1]
        top_text = text_score.max()
        if top_text > 0:
            text_score = text_score / top_text

        score = title_score + agreement + w.text * text_score

        # Exact-match pass.
        exact_occ: dict[int, int] = {}
        for string_id in self._exact.get(form.bag, ()):
            occ = int(strings.occ[string_id])
            if occ not in exact_occ or strings.field[string_id] < strings.field[exact_occ[occ]]:
                exact_occ[occ] = string_id
        for occ in exact_occ:
            score[occ] += w.exact_bonus

        k = min(k, n_occ)
        top = np.argpartition(-score, k - 1)[:k] if k < n_occ else np.arange(n_occ)
        top = top[np.argsort(-score[top], kind="stable")]
        results: list[Candidate] = []
        for rank, occ in enumerate(top, start=1):
            occ = int(occ)
            if score[occ] <= 0:
                break
            matched_on, matched_text = self._explain(occ, exact_occ, weighted[occ], best_string, form)
            results.append(
                Candidate(
                    code=self.codes[occ],
                    title=self.titles[occ],
                    score=round(float(score[occ]), 4),
                    matched_on=matched_on,
                    matched_text=matched_text,
                    exact=occ in exact_occ,
                    description=self.descriptions[occ],
                    rank=rank,
                )
            )
        return results

    def _explain(
        self,
        occ: int,
        exact_occ: dict[int, int],
        weighted: np.ndarray,
        best_string: dict[tuple[int, int], int],
        form: SearchForm,
    ) -> tuple[str, str]:
        if occ in exact_occ:
            string_id = exact_occ[occ]
            return FIELDS[self._strings.field[string_id]], self._strings.text[string_id]
        if weighted.max() > 0:
            field = int(weighted.argmax())
            return FIELDS[field], self._strings.text[best_string[(occ, field)]]
        wanted = set(form.tokens)
        for task in self._tasks_by_occ.get(occ, ()):
            if wanted & set(search_form(task).tokens):
                return "task", task
        return "description", self.descriptions[occ]

    # ------------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump((INDEX_FORMAT, self), handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> CandidateIndex | None:
        try:
            with path.open("rb") as handle:
                version, index = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError, ImportError):
            return None
        return index if version == INDEX_FORMAT and isinstance(index, CandidateIndex) else None


_CACHE: dict[tuple[str, int], CandidateIndex] = {}
_LOCK = threading.Lock()


def _cache_path(release: OnetRelease, store: str) -> Path:
    from jobforge.config import get_settings

    store_hash = hashlib.sha256(store.encode()).hexdigest()[:10]
    stamp = release.loaded_at.strftime("%Y%m%dT%H%M%S%f") if release.loaded_at else "0"
    name = f"{store_hash}_{release.version}_{release.id}_{stamp}_{INDEX_FORMAT}.pkl"
    return get_settings().data_dir / "index_cache" / name


def get_candidate_index(session: Session) -> CandidateIndex:
    """The index of the active release: cached in memory per store and release, and on disk."""
    release = require_active_release(session)
    store = str(session.get_bind().url)
    key = (store, release.id)
    with _LOCK:
        index = _CACHE.get(key)
        if index is None:
            path = _cache_path(release, store)
            index = CandidateIndex.load(path)
            if index is None or index.release_id != release.id:
                index = CandidateIndex.build(session, release.id)
                with contextlib.suppress(OSError):  # a read-only data dir only costs a rebuild next time
                    index.save(path)
            _CACHE[key] = index
        return index


def clear_index_cache() -> None:
    """Forget in-memory indexes (after a release is loaded or activated)."""
    with _LOCK:
        _CACHE.clear()
