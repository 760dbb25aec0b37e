"""The decided-title vote: the k nearest decided titles of a role vote for their codes.

Decided titles are the store's confirmed and overridden mappings and the entries of enabled
codebooks. Each is read with retrieval's normaliser (:func:`jobforge.retrieval.normalize.search_form`:
stemmed words, seniority dropped, the head noun found); titles with the same search form are one
point of the index, keeping every code given to them with its count (so a codebook that disagrees
with itself shows as a split vote). Similarity is the cosine of TF-IDF vectors of the words, the
head noun (weighted again: "Java *Developer*" is closer to "Python Developer" than to "Java
Teacher"); rare words weigh more (word pairs measured no better and are off). A role's vote: for
each code, the sum over its ``k`` nearest points (similarity ≥ ``MIN_SIMILARITY``) of
similarity² × that point's share of the code. Measured on dev_titles.csv (bench/learning_curve.py).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from scipy import sparse

from jobforge.mapping.tiers import ConfidenceTier
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.normalize import search_form

OccupationLookup = Callable[[str], tuple[str, str] | None]

K_NEAREST = 10
MIN_SIMILARITY = 0.2
HEAD_WEIGHT = 1.0  # the head noun's feature, beside its word feature
# Adjacent word pairs ("data engineer" vs "engineer, data"): measured no help on FIT (top-1 -1 point), off.
PAIR_WEIGHT = 0.0
SIMILARITY_POWER = 2  # a neighbour votes with similarity ** this: near titles count far more than loose ones
QUERY_CHUNK = 512  # roles per sparse product (bounds memory: chunk x points floats)


@dataclass(frozen=True)
class DecidedTitle:
    """One decision or codebook entry."""

    title: str
    codes: tuple[str, ...]  # O*NET-SOC 2019; several = a 2010 code that split (each gets a share)
    origin: str  # "confirmed" | "overridden" | "codebook"
    source_name: str = ""  # the project's or the codebook's name
    decided_by: str | None = None
    decided_at: datetime | None = None
    project_id: int | None = None
    weight: float = 1.0  # bulk decisions weigh less

    def describe(self) -> str:
        """ "confirmed by A. Analyst in Acme 2026, 2026-11-03" / "codebook 'Mapping 2025'"."""
        if self.origin == "codebook":
            return f"codebook '{self.source_name}'"
        verb = "chosen" if self.origin == "overridden" else "confirmed"
        who = f" by {self.decided_by}" if self.decided_by else ""
        when = f", {self.decided_at:%Y-%m-%d}" if self.decided_at else ""
        return f"{verb}{who} in {self.source_name}{when}"


@dataclass
class _Point:
    form: str
    weights: Counter[str] = field(default_factory=Counter)  # code -> summed weight
    examples: dict[str, DecidedTitle] = field(default_factory=dict)  # code -> its most recent decision


@dataclass
class Neighbour:
    title: str  # an example title of the point
    code: str  # the point's leading code
    similarity: float
    evidence: DecidedTitle


@dataclass
class Vote:
    """What a role's nearest decided titles say."""

    code: str  # the winning code
    share: float  # the winner's part of the vote, 0–1
    similarity: float  # cosine similarity of the nearest decided title that voted for the winner
    weights: dict[str, float]  # code -> vote weight (summed similarity² × share), all codes voted for
    nearest: Neighbour  # the nearest decided title that voted for the winner
    neighbours: list[Neighbour]  # every voting neighbour, nearest first
    disagreeing_codebook: bool = False  # the nearest point holds codebook entries with different codes

    def share_of(self, code: str) -> float:
        total = sum(self.weights.values())
        return self.weights.get(code, 0.0) / total if total else 0.0

    def rationale(self) -> str:
        """ "like 'Python Developer' → 15-1252.00 (confirmed by …) and 4 similar decided titles"."""
        ev = self.nearest.evidence
        text = f"like '{ev.title}' → {self.code} ({ev.describe()})"
        agreeing = sum(1 for n in self.neighbours if n is not self.nearest and n.code == self.code)
        if agreeing:
            text += f" and {agreeing} similar decided title{'s' if agreeing > 1 else ''}"
        others = sorted({n.code for n in self.neighbours if n.code != self.code})
        if others:
            text += f"; {len(others)} other code{'s' if len(others) > 1 else ''} voted for ({', '.join(others[:3])})"
        if self.disagreeing_codebook:
            text += "; the codebook disagrees with itself on this title (the most frequent code wins)"
        return text


def _features(form_tokens: tuple[str, ...], head: str | None) -> list[tuple[str, float]]:
    features = [(f"w:{t}", 1.0) for t in dict.fromkeys(form_tokens)]
    if head:
        features.append((f"h:{head}", HEAD_WEIGHT))
    if PAIR_WEIGHT:
        features += [(f"p:{a}_{b}", PAIR_WEIGHT) for a, b in itertools.pairwise(form_tokens)]
    return features


class DecidedIndex:
    """Nearest decided titles by TF-IDF cosine (see the module doc). Build once, query many."""

    def __init__(self, titles: list[DecidedTitle]) -> None:
        points: dict[str, _Point] = {}
        for item in titles:
            form = search_form(item.title)
            key = form.text
            if not key or not item.codes:
                continue
            point = points.setdefault(key, _Point(key))
            share = item.weight / len(item.codes)
            for code in item.codes:
                point.weights[code] += share
                known = point.examples.get(code)
                if known is None or _stamp(item) >= _stamp(known):
                    point.examples[code] = item
        self.points = list(points.values())
        self.size = len(titles)
        self._vocab: dict[str, int] = {}
        rows, cols, values = [], [], []
        raw_features = []
        for point in self.points:
            form = search_form(point.examples[next(iter(point.examples))].title)
            feats = _features(form.tokens, form.head)
            raw_features.append(feats)
            for name, _ in feats:
                if name not in self._vocab:
                    self._vocab[name] = len(self._vocab)
        df = np.zeros(len(self._vocab))
        for feats in raw_features:
            for name, _ in feats:
                df[self._vocab[name]] += 1
        n = max(len(self.points), 1)
        self._idf = np.log((n + 1) / (df + 1)) + 1.0
        self._unseen_idf = math.log(n + 1) + 1.0
        for i, feats in enumerate(raw_features):
            vector = {self._vocab[name]: w * self._idf[self._vocab[name]] for name, w in feats}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for j, v in vector.items():
                rows.append(i)
                cols.append(j)
                values.append(v / norm)
        self._matrix = sparse.csr_matrix((values, (rows, cols)), shape=(len(self.points), max(len(self._vocab), 1)))
        self._matrix_t = self._matrix.T.tocsr()

    def __len__(self) -> int:
        return len(self.points)

    def _query_matrix(self, titles: list[str]) -> sparse.csr_matrix:
        rows, cols, values = [], [], []
        for i, title in enumerate(titles):
            form = search_form(title or "")
            known: dict[int, float] = {}
            unseen = 0.0
            for name, w in _features(form.tokens, form.head):
                j = self._vocab.get(name)
                if j is None:  # a word no decided title has: lowers the similarity to all of them
                    unseen += (w * self._unseen_idf) ** 2
                else:
                    known[j] = known.get(j, 0.0) + w * self._idf[j]
            norm = math.sqrt(sum(v * v for v in known.values()) + unseen) or 1.0
            for j, v in known.items():
                rows.append(i)
                cols.append(j)
                values.append(v / norm)
        return sparse.csr_matrix((values, (rows, cols)), shape=(len(titles), self._matrix.shape[1]))

    def votes(self, titles: list[str], k: int | None = None, min_similarity: float | None = None) -> list[Vote | None]:
        """One vote per title (None: no decided title is similar enough), same order.
        ``k`` and ``min_similarity`` default to ``K_NEAREST`` and ``MIN_SIMILARITY``."""
        k = k or K_NEAREST
        min_similarity = MIN_SIMILARITY if min_similarity is None else min_similarity
        out: list[Vote | None] = []
        if not self.points:
            return [None] * len(titles)
        for start in range(0, len(titles), QUERY_CHUNK):
            chunk = titles[start : start + QUERY_CHUNK]
            # Sparse rows: only the points sharing a feature with the title are scored at all.
            similarity = (self._query_matrix(chunk) @ self._matrix_t).tocsr()
            for i in range(len(chunk)):
                lo, hi = similarity.indptr[i], similarity.indptr[i + 1]
                out.append(self._vote(similarity.indices[lo:hi], similarity.data[lo:hi], k, min_similarity))
        return out

    def _vote(self, points: np.ndarray, sims: np.ndarray, k: int, min_similarity: float) -> Vote | None:
        """The vote of one title from its similar points (``points`` ids, ``sims`` their similarity)."""
        order = np.argpartition(-sims, k)[:k] if len(sims) > k else np.arange(len(sims))
        # Nearest first; equal similarity: the earlier point (stable, reproducible).
        order = order[np.lexsort((points[order], -sims[order]))]
        top = points[order]
        row = dict(zip(top.tolist(), sims[order].tolist(), strict=True))
        weights: Counter[str] = Counter()
        neighbours: list[Neighbour] = []
        for i in top:
            sim = row[int(i)]
            if sim < min_similarity:
                break
            point = self.points[int(i)]
            total = sum(point.weights.values())
            for code, weight in point.weights.items():
                weights[code] += sim**SIMILARITY_POWER * weight / total
            lead = max(point.weights, key=lambda c: (point.weights[c], c))
            neighbours.append(Neighbour(point.examples[lead].title, lead, sim, point.examples[lead]))
        if not weights:
            return None
        code = max(weights, key=lambda c: (weights[c], c))
        nearest = next((n for n in neighbours if n.code == code), None)
        if nearest is None:  # the winner leads no single point: take the nearest point holding it
            i = next(int(i) for i in top if code in self.points[int(i)].weights)
            point = self.points[i]
            nearest = Neighbour(point.examples[code].title, code, row[i], point.examples[code])
        else:
            nearest = Neighbour(nearest.evidence.title, code, nearest.similarity, nearest.evidence)
        first = self.points[int(top[0])]
        disagreeing = len(first.weights) > 1 and any(e.origin == "codebook" for e in first.examples.values())
        total = sum(weights.values())
        return Vote(code, weights[code] / total, nearest.similarity, dict(weights), nearest, neighbours, disagreeing)


def _stamp(item: DecidedTitle) -> float:
    if item.decided_at is None:
        return float("-inf")
    value = item.decided_at
    return value.timestamp() if value.tzinfo else value.replace(tzinfo=None).timestamp()


# ---------------------------------------------------------------------------------------------
# Ranking and tier with the vote (the offline selector; measured by bench/learning_curve.py)
# ---------------------------------------------------------------------------------------------

VOTED_LIMIT = 20  # candidates per role a selector reads (jobforge.mapping.factory.CANDIDATES_PER_ROLE)
MAX_ADDED = 5  # voted codes retrieval missed, added per role at most
VOTE_WEIGHT = 4.0  # the vote's part of a candidate's combined score, beside its retrieval score / rank-1's
MEDIUM_SHARE = 0.6  # a code the vote alone put first is MEDIUM from this share and similarity on, else LOW
MEDIUM_SIMILARITY = 0.5


def add_voted(
    candidates: list[Candidate], vote: Vote | None, occupation: OccupationLookup, limit: int = VOTED_LIMIT
) -> list[Candidate]:
    """``candidates`` plus up to ``MAX_ADDED`` voted codes retrieval missed (``via="decided"``, score 0).

    They take the places of the last retrieval candidates when the list would grow past ``limit``
    (a selector reads at most 20), so an LLM sees them too. ``occupation(code)`` gives (title,
    description) of a code of the active release, or None (such codes are not added).
    """
    if vote is None:
        return candidates
    present = {c.code for c in candidates}
    added: list[Candidate] = []
    for code in sorted(vote.weights, key=lambda c: -vote.weights[c]):
        found = occupation(code) if code not in present else None
        if found is None or len(added) >= MAX_ADDED:
            continue
        example = next((n.title for n in vote.neighbours if n.code == code), vote.nearest.title)
        added.append(Candidate(code, found[0], 0.0, "decided_title", example, description=found[1], via="decided"))
    keep = max(limit - len(added), 0) if len(candidates) + len(added) > limit else len(candidates)
    out = list(candidates[:keep]) + added
    for rank, candidate in enumerate(out[keep:], start=keep + 1):
        candidate.rank = rank
    return out


def with_vote(candidates: list[Candidate], vote: Vote | None, occupation: OccupationLookup) -> list[Candidate]:
    """The candidates (with :func:`add_voted`) re-ranked by retrieval score / rank 1's plus the vote."""
    if vote is None:
        return candidates
    ranked = add_voted(candidates, vote, occupation)
    top = max((c.score for c in ranked if c.via != "decided"), default=0.0) or 1.0

    def combined(candidate: Candidate) -> float:
        return candidate.score / top + VOTE_WEIGHT * vote.share_of(candidate.code) * vote.similarity

    ranked.sort(key=combined, reverse=True)
    for rank, candidate in enumerate(ranked, start=1):
        candidate.rank = rank
    return ranked


def vote_tier(tier: ConfidenceTier, vote: Vote, chosen: str, moved: bool) -> ConfidenceTier:
    """The tier once the vote is known: a conservative rule until the tier model is refit with the
    vote's signals (chosen on the FIT part of dev_titles.csv, bench/learning_curve.py --tune):

    - a code the vote alone put first is at most MEDIUM — similarity to other titles is not HIGH
      evidence on its own — and MEDIUM only when the vote is clear (share ≥ 0.6) and close
      (similarity ≥ 0.5), else LOW (measured: 80% right when clear and close);
    - a retrieval rank 1 the vote disagrees with is at most MEDIUM (HIGH held only 62% then);
    - a retrieval rank 1 the vote clearly and closely agrees with is at least MEDIUM (84% right).
    """
    clear = vote.code == chosen and vote.share >= MEDIUM_SHARE and vote.similarity >= MEDIUM_SIMILARITY
    if moved:
        return ConfidenceTier.MEDIUM if clear else ConfidenceTier.LOW
    if vote.code != chosen and tier is ConfidenceTier.HIGH:
        return ConfidenceTier.MEDIUM
    if clear and tier is ConfidenceTier.LOW:
        return ConfidenceTier.MEDIUM
    return tier


def vote_rationale(retrieval_text: str, vote: Vote, best: Candidate, retrieved_first: Candidate | None) -> str:
    """The rationale with the decided titles' evidence (``retrieval_text`` is "" when the vote moved the choice)."""
    if vote.code == best.code:
        evidence = f"Decided titles: {vote.rationale()}."
    else:
        evidence = f"Decided titles differ: {vote.rationale()}."
    if retrieval_text:
        return f"{retrieval_text} {evidence}"
    if retrieved_first is None:
        return f"{evidence} No O*NET title matched."
    return f"{evidence} Retrieval alone ranked {retrieved_first.code} {retrieved_first.title} first."
