"""The LLM role-mapping agent: batches of roles, one structured call each, validated with fallback.

``RoleMappingAgent(llm, ...)`` implements the Selector interface. For every batch of roles the
model gets each role's id ("r1", …), title, context and candidates, and answers with a code, a
tier and a one-sentence rationale per id. Answers are checked against DESIGN.md's selection rules:

- answers are matched to roles by id only (never by echoed text), so reordering is harmless;
- a code that is not among the role's candidates, a role left out (or answered twice, or under
  an unknown id), a malformed answer, a refusal, a timeout or exhausted retries never loses a
  role: it gets the best retrieval candidate, tier LOW, source FALLBACK and the reasoning
  "Fallback match – <what went wrong>" (no code when it has no candidates);
- a refusal or malformed answer may be caused by one role's text (an injection attempt, say), so
  such a batch is split in halves and retried until the culprit is alone: only it falls back;
- the model's tier is kept as ``llm_tier``; the final tier combines it with retrieval signals
  (see :func:`combine_tier`).

Before mapping, roles whose retrieval evidence is weak are read by the model as standard occupation
titles, which are searched and merged into their candidates (:mod:`jobforge.mapping.readings`); an
answer "no candidate fits" carrying the model's reading gets one more round with candidates from
that reading, else the role is LOW with no code. A fault that concerns the whole run (rejected key,
unknown model, exhausted quota, unreachable endpoint) raises ``RunAborted`` instead of falling back.

Answers are cached per role (see :mod:`jobforge.llm.cache`), usage is recorded per call, and a
few batches are in flight at once. For large jobs, :meth:`RoleMappingAgent.select_with_batch_api`
uses the providers' half-price batch APIs, resumable by batch id.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from jobforge.config import Settings, get_settings
from jobforge.db.models import LlmBatch, utcnow
from jobforge.llm.base import LLMClient, LLMError, RunAborted, Usage, is_fatal
from jobforge.llm.cache import ResponseCache, cache_key
from jobforge.llm.store import OwnTransactions, Store
from jobforge.llm.tokens import CostEstimate, cost_usd, estimate_tokens
from jobforge.llm.usage import BATCH_API_NOTE, UsageRecorder
from jobforge.mapping.prompts import (
    PROMPT_VERSION,
    READING_VIA,
    MappingAnswer,
    RoleChoice,
    build_mapping_messages,
    decided_examples,
    role_id_in_batch,
)
from jobforge.mapping.readings import (
    READING_BATCH_SIZE,
    READING_OUTPUT_TOKENS_PER_ROLE,
    READING_PROMPT_VERSION,
    READING_REQUEST_PREFIX,
    TYPICAL_WEAK_SHARE,
    ReadingAnswer,
    Search,
    build_reading_messages,
    clean_readings,
    is_reading_batch,
    major_group_label,
    merge_candidates,
    parse_readings,
    weak_reason,
)
from jobforge.mapping.selectors import RoleRequest
from jobforge.mapping.tiers import ConfidenceTier, MappingSource, RoleMappingResult
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.index import CandidateIndex
from jobforge.retrieval.normalize import title_key as make_title_key

_log = logging.getLogger(__name__)

# A rank-1 candidate that leads the second by this share of its score is a strong retrieval opinion.
WIDE_MARGIN = 0.3
# Failures one role's text can cause: the batch is split to find that role (others keep their answers).
SPLIT_ON_FAILURE = {"malformed", "refused"}
# Finished batches whose usage and cache entries are written in one transaction.
STORE_EVERY_BATCHES = 16
# Output tokens per role for the estimate: id, code, tier and a one-sentence rationale as JSON.
OUTPUT_TOKENS_PER_ROLE = 40
# Characters of one candidate in the prompt when the real candidates are not known yet (estimate).
TYPICAL_CANDIDATE_CHARS = 190

FAILURE_REASONS = {
    "rate_limited": "rate limited by the provider, retries exhausted",
    "server_error": "the provider kept failing (server error), retries exhausted",
    "timeout": "the call timed out, retries exhausted",
    "connection": "the provider could not be reached",
    "malformed": "the answer was not valid JSON of the expected shape",
    "refused": "the model refused to answer",
    "auth": "the API key was rejected",
    "model_not_found": "the model was not found",
    "quota": "the account's quota or credit is exhausted",
    "unavailable": "no API key is set",
}


# --------------------------------------------------------------------------------------------
# Tier combination and result construction
# --------------------------------------------------------------------------------------------


def ranked(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates best first (by rank when ranks are set, else as given)."""
    if candidates and all(c.rank > 0 for c in candidates):
        return sorted(candidates, key=lambda c: c.rank)
    return list(candidates)


def score_margin(candidates: Sequence[Candidate]) -> float:
    """How far retrieval's rank-1 leads rank-2, as a share of rank-1's score (1.0 with one candidate)."""
    best = ranked(candidates)
    if len(best) < 2:
        return 1.0
    top, second = best[0].score, best[1].score
    return (top - second) / top if top > 0 else 0.0


def combine_tier(llm_tier: ConfidenceTier, chosen: Candidate, candidates: Sequence[Candidate]) -> ConfidenceTier:
    """The stored tier: the model's tier checked against retrieval.

    - The model chose retrieval's rank-1 or an exact title match: its tier stands; MEDIUM becomes
      HIGH when the choice is both rank-1 and an exact match.
    - The model disagreed with retrieval: one step down (HIGH → MEDIUM, MEDIUM → LOW), and two
      when retrieval was sure of something else (its rank-1 is an exact match or leads widely).
    - LOW stays LOW.
    """
    best = ranked(candidates)
    agrees = bool(best) and chosen.code == best[0].code
    if llm_tier == ConfidenceTier.LOW:
        return ConfidenceTier.LOW
    if agrees or chosen.exact:
        if llm_tier == ConfidenceTier.MEDIUM and agrees and chosen.exact:
            return ConfidenceTier.HIGH
        return llm_tier
    retrieval_was_sure = bool(best) and (best[0].exact or score_margin(best) >= WIDE_MARGIN)
    steps = 2 if retrieval_was_sure else 1
    order = [ConfidenceTier.HIGH, ConfidenceTier.MEDIUM, ConfidenceTier.LOW]
    return order[min(order.index(llm_tier) + steps, 2)]


def candidate_dicts(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    """``Candidate.to_dict`` for many candidates, fast (``dataclasses.asdict`` deep-copies and is slow)."""
    return [dict(vars(c)) for c in candidates]


def fallback_result(role: RoleRequest, reason: str, model: str | None = None) -> RoleMappingResult:
    """The best retrieval candidate with tier LOW and what went wrong (no code without candidates)."""
    best = ranked(role.candidates)
    top = best[0] if best else None
    reasoning = f"Fallback match – {reason}" + ("" if top else "; no candidate occupations")
    return RoleMappingResult(
        source_role=role.title,
        onet_code=top.code if top else None,
        onet_title=top.title if top else None,
        confidence=ConfidenceTier.LOW,
        reasoning=reasoning,
        source=MappingSource.FALLBACK,
        role_id=role.role_id,
        llm_tier=None,
        model_used=model,
        candidates=candidate_dicts(role.candidates),
    )


def result_from_choice(role: RoleRequest, choice: RoleChoice, model: str) -> RoleMappingResult:
    """A validated answer for one role (the code must be one of its candidates)."""
    llm_tier = ConfidenceTier(choice.tier)
    by_code = {c.code: c for c in role.candidates}
    rationale = " ".join(choice.rationale.split()) or "No rationale given."
    if choice.code is None:
        return not_codable_result(role, choice, model)
    chosen = by_code[choice.code]
    if chosen.via == READING_VIA and chosen.reading and chosen.reading not in rationale:
        rationale = f"{rationale.rstrip('.')} ({chosen.reading})."
    return RoleMappingResult(
        source_role=role.title,
        onet_code=chosen.code,
        onet_title=chosen.title,
        confidence=combine_tier(llm_tier, chosen, role.candidates),
        reasoning=rationale,
        source=MappingSource.LLM,
        role_id=role.role_id,
        llm_tier=llm_tier,
        model_used=model,
        candidates=candidate_dicts(role.candidates),
    )


def not_codable_result(role: RoleRequest, choice: RoleChoice, model: str) -> RoleMappingResult:
    """The model found no candidate that fits: LOW with no code (never a made-up one), and what it
    read the role as and its major group, when it said, in the rationale shown on Review."""
    rationale = " ".join(choice.rationale.split()).rstrip(".") or "no candidate fits"
    group = major_group_label(choice.major_group)
    reading = clean_readings([choice.reading or ""], role.title)
    reasoning = "Not codable at the detailed level" + (f" (major group {group})" if group else "") + f": {rationale}."
    if reading:
        reasoning += f" The model reads it as '{reading[0]}'."
    return RoleMappingResult(
        source_role=role.title,
        onet_code=None,
        onet_title=None,
        confidence=ConfidenceTier.LOW,
        reasoning=reasoning,
        source=MappingSource.LLM,
        role_id=role.role_id,
        llm_tier=ConfidenceTier(choice.tier),
        model_used=model,
        candidates=candidate_dicts(role.candidates),
    )


def validate_answer(
    roles: Sequence[RoleRequest], answer: MappingAnswer, model: str
) -> tuple[list[RoleMappingResult], dict[int, RoleChoice]]:
    """One result per role, in order, plus the valid choices by position (for the cache)."""
    position_by_id = {role_id_in_batch(i): i for i in range(len(roles))}
    choices: dict[int, RoleChoice] = {}
    answered_twice: set[int] = set()
    unknown = [c.id for c in answer.mappings if c.id.strip() not in position_by_id]
    for choice in answer.mappings:
        position = position_by_id.get(choice.id.strip())
        if position is None:
            continue
        if position in choices and choices[position] != choice:
            answered_twice.add(position)
        choices.setdefault(position, choice)
    results: list[RoleMappingResult] = []
    valid: dict[int, RoleChoice] = {}
    for position, role in enumerate(roles):
        choice = choices.get(position)
        if position in answered_twice:
            results.append(fallback_result(role, "the model answered this role twice, differently", model))
        elif choice is None:
            extra = f" (it answered unknown ids: {', '.join(unknown[:3])})" if unknown else ""
            results.append(fallback_result(role, f"the model's answer left this role out{extra}", model))
        elif choice.code is not None and choice.code not in {c.code for c in role.candidates}:
            reason = f"the model proposed {choice.code!r}, which is not among the role's candidates"
            results.append(fallback_result(role, reason, model))
        else:
            valid[position] = choice
            results.append(result_from_choice(role, choice, model))
    return results, valid


def failure_reason(error: LLMError) -> str:
    return FAILURE_REASONS.get(error.kind, str(error))


# --------------------------------------------------------------------------------------------
# The agent
# --------------------------------------------------------------------------------------------


@dataclass
class _BatchOutcome:
    roles: list[RoleRequest]
    results: list[RoleMappingResult]
    calls: list[tuple[Usage, str | None]] = field(default_factory=list)  # usage and a note per call made
    cache_entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    fatal: LLMError | None = None  # a fault that concerns the whole run: the run stops
    choices: dict[int, RoleChoice] = field(default_factory=dict)  # valid answers by position in the batch
    readings: dict[int, list[str]] = field(default_factory=dict)  # reading calls: titles by position

    @classmethod
    def joined(cls, roles: list[RoleRequest], first: _BatchOutcome, second: _BatchOutcome) -> _BatchOutcome:
        offset = len(first.roles)
        return cls(
            roles,
            first.results + second.results,
            first.calls + second.calls,
            {**first.cache_entries, **second.cache_entries},
            first.fatal or second.fatal,
            {**first.choices, **{i + offset: c for i, c in second.choices.items()}},
            {**first.readings, **{i + offset: r for i, r in second.readings.items()}},
        )


class RoleMappingAgent:
    """Maps roles with an LLM (see the module docstring). Implements ``Selector``."""

    note: str | None = None  # set by the factory when "auto" chose this provider

    def __init__(
        self,
        llm: LLMClient,
        onet_repository: Any = None,
        batch_size: int = 12,
        candidates_per_role: int = 20,
        concurrency: int | None = None,
        cache: ResponseCache | bool | None = None,
        usage: UsageRecorder | None = None,
        settings: Settings | None = None,
        reading_search: Search | None = None,
        readings: str | None = None,
    ) -> None:
        self.llm = llm
        self.name = llm.provider
        # Where candidates come from for plain titles given to map_roles: a CandidateIndex
        # (``.candidates(title, k=…)``) or an OnetRepository (``.search(query, limit)``).
        self.onet_repository = onet_repository
        self.batch_size = max(1, batch_size)
        self.candidates_per_role = candidates_per_role
        self.settings = settings or get_settings()
        self.concurrency = max(1, concurrency or self.settings.llm_concurrency)
        self.cache = cache if isinstance(cache, ResponseCache) else None
        if cache is None and getattr(onet_repository, "session", None) is not None:
            # By default answers are cached in the same store as O*NET (cache=False turns it off).
            # Through the engine, in short transactions of its own, as the usage recorder does.
            self.cache = ResponseCache(OwnTransactions(onet_repository.session.get_bind()))
        self.usage = usage
        # Readings (see jobforge.mapping.readings): "weak" | "all" | "off", and where they are searched
        # (``search(text, k)`` -> candidates; by default the candidate index, when that is the source).
        self.reading_mode = (readings or self.settings.llm_readings).strip().lower()
        if reading_search is None and isinstance(onet_repository, CandidateIndex):
            reading_search = _index_search(onet_repository)
        self.reading_search = reading_search

    # -- Selector -------------------------------------------------------------------------
    def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
        """One result per role, in the same order.

        Raises RunAborted (after recording what was spent) when a call fails in a way that concerns
        the whole run (a rejected key, an unknown model, an exhausted quota, an unreachable endpoint):
        no result is returned, so the caller stores nothing and a re-run maps the roles.
        """
        roles = self._with_readings(roles)
        results, choices = self._map_once(roles)
        again = self._second_round(roles, choices)
        if again:
            positions = list(again)
            second, _ = self._map_once([again[i] for i in positions])
            for position, result in zip(positions, second, strict=True):
                first = results[position]
                if result.source == MappingSource.FALLBACK:  # the round failed: the honest "not codable" stays
                    first.reasoning += f" A second round with candidates from that reading failed: {result.reasoning}"
                else:
                    results[position] = result
        return results

    def _map_once(self, roles: list[RoleRequest]) -> tuple[list[RoleMappingResult], dict[int, RoleChoice]]:
        """One result per role (one round of mapping calls) and the valid answers by position."""
        results: list[RoleMappingResult | None] = [None] * len(roles)
        choices: dict[int, RoleChoice] = {}
        pending = self._resolve_without_calls(roles, results, choices)
        batches = [pending[i : i + self.batch_size] for i in range(0, len(pending), self.batch_size)]
        if batches:
            self._run_batches(roles, batches, results, choices)
        return [r for r in results if r is not None], choices

    def _second_round(self, roles: list[RoleRequest], choices: dict[int, RoleChoice]) -> dict[int, RoleRequest]:
        """Roles the model found not codable with a reading that brings new candidates, by position."""
        if self.reading_mode == "off" or self.reading_search is None:
            return {}
        again: dict[int, RoleRequest] = {}
        for position, choice in choices.items():
            if choice.code is not None or not choice.reading:
                continue
            role = roles[position]
            merged = merge_candidates(
                role, clean_readings([choice.reading], role.title), self.reading_search, self.candidates_per_role
            )
            if {c.code for c in merged.candidates} - {c.code for c in role.candidates}:
                again[position] = merged
        return again

    def _run_batches(
        self,
        roles: list[RoleRequest],
        batches: list[list[int]],
        results: list[RoleMappingResult | None],
        choices: dict[int, RoleChoice],
    ) -> None:
        stop = threading.Event()  # set at the first fatal fault: batches not yet started make no call
        fatal: LLMError | None = None
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
            futures = [pool.submit(self._map_batch_unless, stop, [roles[i] for i in batch]) for batch in batches]
            index_of = {id(f): batch for f, batch in zip(futures, batches, strict=True)}
            # Recording and caching happen here, on the caller's thread (which owns its session),
            # a few batches per transaction.
            finished: list[_BatchOutcome] = []
            for future in as_completed(futures):
                outcome = future.result()
                finished.append(outcome)
                if outcome.fatal is not None and fatal is None:
                    fatal = outcome.fatal
                    stop.set()
                if len(finished) >= STORE_EVERY_BATCHES:
                    self._keep(finished)
                    finished = []
                for position, result in zip(index_of[id(future)], outcome.results, strict=True):
                    results[position] = result
                for local, choice in outcome.choices.items():
                    choices[index_of[id(future)][local]] = choice
            self._keep(finished)
        if fatal is not None:
            raise RunAborted(fatal, self.llm.provider)

    def _map_batch_unless(self, stop: threading.Event, batch: list[RoleRequest]) -> _BatchOutcome:
        return self._stopped(batch) if stop.is_set() else self._map_batch(batch)

    def _stopped(self, batch: list[RoleRequest]) -> _BatchOutcome:
        """No call for a batch after the run's fatal fault (its results are never stored)."""
        return _BatchOutcome(batch, [fallback_result(r, "the run stopped", self.llm.model) for r in batch])

    def map_roles(self, roles: Sequence[RoleRequest | str]) -> list[RoleMappingResult]:
        """The original plan's entry point: roles (or plain titles) to results, in order."""
        return self.select([r if isinstance(r, RoleRequest) else self._request_for(r, i) for i, r in enumerate(roles)])

    # -- cost -----------------------------------------------------------------------------
    def estimate(self, roles: Sequence[RoleRequest], batch_api: bool = False) -> CostEstimate:
        """What mapping ``roles`` would cost, readings included when this agent reads (see estimate_mapping_cost)."""
        readings = self.reading_mode if self.reading_search is not None else "off"
        return estimate_mapping_cost(
            roles,
            self.name,
            self.batch_size,
            self.candidates_per_role,
            self.settings,
            batch_api=batch_api,
            readings=readings,
        )

    # -- internals ------------------------------------------------------------------------
    def _request_for(self, title: str, position: int) -> RoleRequest:
        candidates: list[Candidate] = []
        language = ""
        source = self.onet_repository
        if source is not None and hasattr(source, "candidates"):
            candidates = source.candidates(title, k=self.candidates_per_role)
            if isinstance(source, CandidateIndex):
                found = source.language_of(title)
                language = "" if found.english else found.code
        elif source is not None and hasattr(source, "search"):
            found = source.search(title, limit=self.candidates_per_role)
            candidates = [
                Candidate(o.code, o.title, 1.0 / (rank + 1), "title", o.title, description=o.description, rank=rank + 1)
                for rank, o in enumerate(found)
            ]
        return RoleRequest(
            role_id=position, title=title, title_key=make_title_key(title), candidates=candidates, language=language
        )

    def _key(self, role: RoleRequest) -> str:
        codes = [c.code for c in role.candidates[: self.candidates_per_role]]
        decided = decided_examples(role)  # other decided titles, another answer: not the cached one
        context = {**role.context, "_decided": json.dumps(decided)} if decided else role.context
        return cache_key(role.title_key, context, codes, self.llm.provider, self.llm.model, PROMPT_VERSION)

    def _trimmed(self, role: RoleRequest) -> RoleRequest:
        if len(role.candidates) <= self.candidates_per_role:
            return role
        return replace(role, candidates=role.candidates[: self.candidates_per_role])

    # -- readings (see jobforge.mapping.readings) -----------------------------------------------
    def _reads(self, role: RoleRequest) -> bool:
        """Whether this agent asks for ``role``'s reading (see the ``readings`` setting)."""
        if self.reading_mode == "off" or self.reading_search is None:
            return False
        return self.reading_mode == "all" or weak_reason(role) is not None

    def _with_readings(self, roles: list[RoleRequest], calls: bool = True) -> list[RoleRequest]:
        """``roles`` with the readings of the weak ones merged into their candidates (``calls=False``:
        cached readings only).

        Raises RunAborted (after recording the spend) on a fault that concerns the whole run.
        """
        weak = [i for i, role in enumerate(roles) if self._reads(role)]
        if not weak:
            return roles
        return self._merged(roles, weak, self._readings_of([roles[i] for i in weak], calls=calls))

    def _merged(self, roles: list[RoleRequest], weak: list[int], readings: dict[int, list[str]]) -> list[RoleRequest]:
        assert self.reading_search is not None
        merged = list(roles)
        for local, position in enumerate(weak):
            titles = readings.get(local, [])
            merged[position] = merge_candidates(roles[position], titles, self.reading_search, self.candidates_per_role)
        return merged

    def _reading_key(self, role: RoleRequest) -> str:
        return cache_key(role.title_key, role.context, [], self.llm.provider, self.llm.model, READING_PROMPT_VERSION)

    def _readings_of(self, roles: list[RoleRequest], calls: bool = True) -> dict[int, list[str]]:
        """Reading titles by position: cached ones, then (``calls``) one call per READING_BATCH_SIZE roles."""
        keys = [self._reading_key(role) for role in roles]
        cached = self.cache.get_many(keys) if self.cache is not None else {}
        found = {
            i: clean_readings(cached[key].get("titles", []), roles[i].title)
            for i, key in enumerate(keys)
            if key in cached
        }
        todo = [i for i in range(len(roles)) if i not in found] if calls else []
        batches = [todo[k : k + READING_BATCH_SIZE] for k in range(0, len(todo), READING_BATCH_SIZE)]
        if not batches:
            return found
        outcomes: list[_BatchOutcome] = []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
            futures = {pool.submit(self._read_batch, [roles[i] for i in batch]): batch for batch in batches}
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                for local, titles in outcome.readings.items():
                    found[futures[future][local]] = titles
        self._keep(outcomes)
        fatal = next((o.fatal for o in outcomes if o.fatal is not None), None)
        if fatal is not None:
            raise RunAborted(fatal, self.llm.provider)
        return found

    def _read_batch(self, batch: list[RoleRequest]) -> _BatchOutcome:
        """One reading call; never raises for LLM failures (roles without a reading keep their candidates)."""
        try:
            answer, usage = self.llm.parse(build_reading_messages(batch), ReadingAnswer)
        except LLMError as exc:
            return self._reading_failed(batch, exc)
        except Exception as exc:  # a bug or an SDK surprise costs only the readings
            _log.exception("reading call failed unexpectedly")
            return self._reading_failed(batch, LLMError("error", f"unexpected error ({exc.__class__.__name__})"))
        found, notes = parse_readings(batch, answer)
        entries = {self._reading_key(batch[i]): {"titles": titles} for i, titles in found.items()}
        detail = "; ".join([f"readings, {len(batch)} roles", *notes])
        return _BatchOutcome(batch, [], [(usage, detail)], entries, readings=found)

    def _reading_failed(self, batch: list[RoleRequest], error: LLMError) -> _BatchOutcome:
        """A failed reading call: the roles keep retrieval's candidates (the reason goes with the usage);
        a refusal or broken answer is narrowed down by splitting, like a mapping call."""
        reason = failure_reason(error)
        calls = [(error.usage, f"readings failed: {reason}")] if error.usage else []
        if is_fatal(error):
            return _BatchOutcome(batch, [], calls, fatal=error)
        if error.kind in SPLIT_ON_FAILURE and len(batch) > 1:
            half = len(batch) // 2
            split = _BatchOutcome.joined(batch, self._read_batch(batch[:half]), self._read_batch(batch[half:]))
            split.calls = [(u, f"{note}; batch of {len(batch)} split in two") for u, note in calls] + split.calls
            return split
        return _BatchOutcome(batch, [], [(u, f"{note}; roles keep retrieval's candidates") for u, note in calls])

    def _resolve_without_calls(
        self,
        roles: list[RoleRequest],
        results: list[RoleMappingResult | None],
        choices: dict[int, RoleChoice] | None = None,
    ) -> list[int]:
        """Fill results that need no call (no candidates, cached); the positions still to map."""
        pending = []
        for i, role in enumerate(roles):
            if not role.candidates:
                results[i] = fallback_result(role, "retrieval found no candidates to choose from", self.llm.model)
            else:
                pending.append(i)
        if self.cache is None or not pending:
            return pending
        keys = {i: self._key(roles[i]) for i in pending}
        cached = self.cache.get_many(keys.values())
        still = []
        for i in pending:
            hit = cached.get(keys[i])
            role = self._trimmed(roles[i])
            if hit is not None and (hit.get("code") is None or hit["code"] in {c.code for c in role.candidates}):
                choice = RoleChoice.model_validate(hit)
                results[i] = result_from_choice(role, choice, self.llm.model)
                if choices is not None:
                    choices[i] = choice
            else:
                still.append(i)
        return still

    def _map_batch(self, batch: list[RoleRequest]) -> _BatchOutcome:
        """One call for one batch; never raises for LLM failures (every role gets a result)."""
        trimmed = [self._trimmed(role) for role in batch]
        messages = build_mapping_messages(trimmed, self.candidates_per_role)
        try:
            answer, usage = self.llm.parse(messages, MappingAnswer)
        except LLMError as exc:
            return self._failed(batch, exc)
        except Exception as exc:  # a bug or an SDK surprise must not lose the batch's roles
            _log.exception("mapping call failed unexpectedly")
            return self._failed(batch, LLMError("error", f"unexpected error ({exc.__class__.__name__})"))
        return self._validated(batch, answer, usage, f"{len(batch)} roles")

    def _failed(self, batch: list[RoleRequest], error: LLMError, via: str = "") -> _BatchOutcome:
        """Fallbacks for a failed call; a refusal or a broken answer is first narrowed down by splitting
        the batch, so that one role's text (say, an injection attempt) costs only its own proposal."""
        reason = failure_reason(error)
        if is_fatal(error):
            calls = [(error.usage, f"{via}{reason}; the run stops")] if error.usage else []
            outcome = self._stopped(batch)
            outcome.calls, outcome.fatal = calls, error
            return outcome
        if error.kind in SPLIT_ON_FAILURE and len(batch) > 1:
            calls = [(error.usage, f"{via}{reason}; batch of {len(batch)} split in two")] if error.usage else []
            half = len(batch) // 2
            first = self._map_batch(batch[:half])
            second = self._stopped(batch[half:]) if first.fatal else self._map_batch(batch[half:])
            split = _BatchOutcome.joined(batch, first, second)
            split.calls = calls + split.calls
            return split
        calls = [(error.usage, f"{via}{reason}")] if error.usage else []
        return _BatchOutcome(batch, [fallback_result(r, reason, self.llm.model) for r in batch], calls)

    def _validated(self, batch: list[RoleRequest], answer: MappingAnswer, usage: Usage, note: str) -> _BatchOutcome:
        trimmed = [self._trimmed(role) for role in batch]
        results, valid = validate_answer(trimmed, answer, self.llm.model)
        fallbacks = sum(1 for r in results if r.source == MappingSource.FALLBACK)
        entries = {self._key(trimmed[i]): choice.model_dump() for i, choice in valid.items()}
        detail = note + (f", {fallbacks} fell back" if fallbacks else "")
        return _BatchOutcome(batch, results, [(usage, detail)], entries, choices=valid)

    def _keep(self, outcomes: list[_BatchOutcome]) -> None:
        """Record the outcomes' usage and cache their valid answers.

        A failed write in transactions of our own is logged, not raised: the proposals are still
        good. Written into the caller's session, the error is the caller's to handle.
        """
        writes: list[tuple[Store, Callable[[], None]]] = []
        if self.usage is not None:
            calls = [call for o in outcomes for call in o.calls]
            writes.append((self.usage.store, lambda: self.usage.record_many(calls)))
        if self.cache is not None:
            entries = {key: answer for o in outcomes for key, answer in o.cache_entries.items()}
            writes.append((self.cache.store, lambda: self.cache.put_many(self.llm.provider, self.llm.model, entries)))
        for store, write in writes:
            try:
                write()
            except SQLAlchemyError:
                if store.callers_transaction:
                    raise
                _log.warning("could not record LLM usage or cache answers", exc_info=True)

    # -- provider batch APIs ------------------------------------------------------------------
    def select_with_batch_api(
        self,
        roles: list[RoleRequest],
        store: Store,
        job_id: int | None = None,
        wait: bool = True,
        poll_interval: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> list[RoleMappingResult] | None:
        """Map ``roles`` through the provider's batch API (half price, slower).

        The submission is kept in ``llm_batch`` (batch id, and which role ids each request
        carries), so a restarted job with the same ``job_id`` resumes polling the same batch
        instead of paying twice. With ``wait=False`` it returns None while the batch is still
        running (call again later). Roles are matched back by ``role_id``; a role the stored
        batch does not carry is mapped with ordinary calls. Same validation and fallback as
        :meth:`select`. With a :class:`~jobforge.llm.store.CallersSession` as ``store``, commit its
        session after this returns (or after submission, to survive a crash before the results).
        Raises RunAborted when submitting or polling fails in a way that concerns the whole run (a
        rejected key, say).
        """
        try:
            return self._through_batch_api(roles, store, job_id, wait, poll_interval, sleep)
        except LLMError as exc:
            if is_fatal(exc):
                raise RunAborted(exc, self.llm.provider) from exc
            raise

    def _through_batch_api(
        self,
        roles: list[RoleRequest],
        store: Store,
        job_id: int | None,
        wait: bool,
        poll_interval: float | None,
        sleep: Callable[[float], None],
    ) -> list[RoleMappingResult] | None:
        interval = self.settings.llm_batch_poll_interval if poll_interval is None else poll_interval
        batch_row = self._open_batch(store, job_id)
        if batch_row is None or is_reading_batch(batch_row):
            # Stage 1: the weak roles' readings, as a provider batch of their own (resumable the same way).
            read = self._read_through_batch_api(roles, store, job_id, batch_row, wait, interval, sleep)
            if read is None:
                return None
            roles, batch_row = read, None
        else:  # the mapping batch is running: it was sent with the readings in the cache
            roles = self._with_readings(roles, calls=False)
        results: list[RoleMappingResult | None] = [None] * len(roles)
        pending = self._resolve_without_calls(roles, results)
        if not pending:
            return [r for r in results if r is not None]
        if batch_row is None:
            batch_row = self._submit_batch(store, job_id, [roles[i] for i in pending])
        status = self._polled(batch_row.batch_id, wait, interval, sleep)
        if status is None:
            return None
        position_by_role = {str(roles[i].role_id): i for i in pending}
        items = self.llm.batch_results(batch_row.batch_id, MappingAnswer) if status == "ended" else {}
        for custom_id, role_ids in batch_row.request_map.items():
            positions = [position_by_role[r] for r in role_ids if r in position_by_role]
            batch = [roles[i] for i in positions]
            if not batch:
                continue
            outcome = self._outcome_of_item(batch, items.get(custom_id), status)
            self._keep([outcome])
            for position, result in zip(positions, outcome.results, strict=True):
                results[position] = result
        self._finish_batch(store, batch_row, status)
        left = [i for i in pending if results[i] is None]
        for i, result in zip(left, self.select([roles[i] for i in left]), strict=True):
            results[i] = result
        return [r for r in results if r is not None]

    def _open_batch(self, store: Store, job_id: int | None) -> LlmBatch | None:
        if job_id is None:
            return None
        with store.writing() as session:
            return session.scalar(
                select(LlmBatch)
                .where(
                    LlmBatch.job_id == job_id, LlmBatch.provider == self.llm.provider, LlmBatch.finished_at.is_(None)
                )
                .order_by(LlmBatch.id.desc())
            )

    def _polled(self, batch_id: str, wait: bool, interval: float, sleep: Callable[[float], None]) -> str | None:
        """The batch's final status ("ended" | "failed"), waiting for it; None when not waiting and it runs."""
        status = self.llm.batch_status(batch_id)
        while status == "in_progress":
            if not wait:
                return None
            sleep(interval)
            status = self.llm.batch_status(batch_id)
        return status

    def _finish_batch(self, store: Store, batch_row: LlmBatch, status: str) -> None:
        with store.writing() as session:
            row = session.get(LlmBatch, batch_row.id)
            if row is not None:
                row.status, row.finished_at = status, utcnow()

    def _read_through_batch_api(
        self,
        roles: list[RoleRequest],
        store: Store,
        job_id: int | None,
        batch_row: LlmBatch | None,
        wait: bool,
        interval: float,
        sleep: Callable[[float], None],
    ) -> list[RoleRequest] | None:
        """``roles`` with the weak ones' readings merged, read through a provider batch (submitted, or
        ``batch_row`` resumed); None when not waiting and it still runs. Roles whose reading request
        fails or expires keep retrieval's candidates (the reason goes with the usage record)."""
        weak = [i for i, role in enumerate(roles) if self._reads(role)]
        if not weak:
            return roles
        weak_roles = [roles[i] for i in weak]
        found = self._readings_of(weak_roles, calls=False)
        todo = [weak_roles[i] for i in range(len(weak_roles)) if i not in found]
        if batch_row is None and not todo:
            return self._merged(roles, weak, found)
        batch_row = batch_row or self._submit_reading_batch(store, job_id, todo)
        status = self._polled(batch_row.batch_id, wait, interval, sleep)
        if status is None:
            return None
        items = self.llm.batch_results(batch_row.batch_id, ReadingAnswer) if status == "ended" else {}
        local_by_role = {str(role.role_id): i for i, role in enumerate(weak_roles)}
        outcomes = []
        for custom_id, role_ids in batch_row.request_map.items():
            locals_ = [local_by_role[r] for r in role_ids if r in local_by_role]
            outcome = self._reading_item([weak_roles[i] for i in locals_], items.get(custom_id), status)
            outcomes.append(outcome)
            found.update({locals_[k]: titles for k, titles in outcome.readings.items()})
        self._keep(outcomes)
        self._finish_batch(store, batch_row, status)
        return self._merged(roles, weak, found)

    def _reading_item(self, batch: list[RoleRequest], item: Any, status: str) -> _BatchOutcome:
        """One reading request's result from a provider batch (never split or retried directly)."""
        if isinstance(item, tuple):
            answer, usage = item
            found, notes = parse_readings(batch, answer)
            entries = {self._reading_key(batch[i]): {"titles": titles} for i, titles in found.items()}
            detail = "; ".join([f"readings, {len(batch)} roles, {BATCH_API_NOTE}", *notes])
            return _BatchOutcome(batch, [], [(usage, detail)], entries, readings=found)
        if isinstance(item, LLMError):
            reason, usage = failure_reason(item), item.usage
        else:
            reason = f"the provider batch {status} without an answer for this request"
            usage = Usage(self.llm.provider, self.llm.model, outcome="expired" if status == "failed" else "error")
        note = f"readings failed ({BATCH_API_NOTE}): {reason}; roles keep retrieval's candidates"
        return _BatchOutcome(batch, [], [(usage, note)] if usage else [])

    def _submit_reading_batch(self, store: Store, job_id: int | None, roles: list[RoleRequest]) -> LlmBatch:
        requests = []
        request_map: dict[str, list[str]] = {}
        for number, start in enumerate(range(0, len(roles), READING_BATCH_SIZE), start=1):
            batch = roles[start : start + READING_BATCH_SIZE]
            custom_id = f"{READING_REQUEST_PREFIX}{number}"
            requests.append((custom_id, build_reading_messages(batch), ReadingAnswer))
            request_map[custom_id] = [str(r.role_id) for r in batch]
        return self._record_batch(store, job_id, self.llm.submit_batch(requests), request_map)

    def _submit_batch(self, store: Store, job_id: int | None, roles: list[RoleRequest]) -> LlmBatch:
        requests = []
        request_map: dict[str, list[str]] = {}
        for number, start in enumerate(range(0, len(roles), self.batch_size), start=1):
            batch = [self._trimmed(r) for r in roles[start : start + self.batch_size]]
            custom_id = f"map-{number}"
            requests.append((custom_id, build_mapping_messages(batch, self.candidates_per_role), MappingAnswer))
            request_map[custom_id] = [str(r.role_id) for r in batch]
        return self._record_batch(store, job_id, self.llm.submit_batch(requests), request_map)

    def _record_batch(
        self, store: Store, job_id: int | None, batch_id: str, request_map: dict[str, list[str]]
    ) -> LlmBatch:
        with store.writing() as session:
            row = LlmBatch(
                job_id=job_id,
                provider=self.llm.provider,
                model=self.llm.model,
                batch_id=batch_id,
                status="in_progress",
                request_map=request_map,
            )
            session.add(row)
        return row

    def _outcome_of_item(self, batch: list[RoleRequest], item: Any, status: str) -> _BatchOutcome:
        if item is None:
            reason = f"the provider batch {status} without an answer for this request"
            return _BatchOutcome(batch, [fallback_result(r, reason, self.llm.model) for r in batch])
        if isinstance(item, LLMError):
            return self._failed(batch, item, via=f"{BATCH_API_NOTE}: ")  # a refusal is narrowed down directly
        answer, usage = item
        return self._validated(batch, answer, usage, f"{BATCH_API_NOTE}, {len(batch)} roles")


def _index_search(index: CandidateIndex) -> Search:
    return lambda text, k: index.candidates(text, k=k)


# --------------------------------------------------------------------------------------------
# Estimates
# --------------------------------------------------------------------------------------------


def typical_roles(count: int, candidates_per_role: int = 20) -> list[RoleRequest]:
    """Roles shaped like real ones (O*NET-length titles, alternate titles and descriptions)."""
    description = (
        "Plan, direct, or coordinate the operations of public or private sector organizations, overseeing "
        "multiple departments or locations."
    )
    return [
        RoleRequest(
            role_id=n,
            title=f"Senior Business Operations Analyst {n}",
            title_key=f"senior business operations analyst {n}",
            context={"job_family": "Operations", "department": "Finance and Strategy"},
            candidates=[
                Candidate(
                    code=f"{11 + k % 40:02d}-{1000 + k:04d}.00",
                    title="Management Analysts and Business Operations Specialists",
                    score=1.0 - k / 50,
                    matched_on="alternate_title",
                    matched_text="Business Operations Analyst",
                    description=description,
                    rank=k + 1,
                )
                for k in range(candidates_per_role)
            ],
        )
        for n in range(count)
    ]


def tokens_per_role(candidates_per_role: int = 20, batch_size: int = 12) -> tuple[int, int]:
    """(input, output) tokens per role for the default prompt, on typical roles (see bench/llm_agent.py)."""
    estimate = estimate_mapping_cost(
        typical_roles(batch_size, candidates_per_role), "offline", batch_size, candidates_per_role
    )
    return math.ceil(estimate.input_tokens / batch_size), math.ceil(estimate.output_tokens / batch_size)


def estimate_mapping_cost(
    roles: Sequence[RoleRequest],
    provider: str,
    batch_size: int | None = None,
    candidates_per_role: int = 20,
    settings: Settings | None = None,
    batch_api: bool = False,
    readings: str | None = None,
) -> CostEstimate:
    """Calls, tokens and USD for mapping ``roles`` (before any call is made), readings included.

    Input tokens are counted on the real prompts (chars / 3.5, see jobforge.llm.tokens); roles
    without candidates yet are counted with ``candidates_per_role`` typical candidates.
    Output tokens assume ~40 per role. Ignores the cache (an upper bound). ``readings`` ("weak" |
    "all" | "off", default the setting): roles whose candidates are known are read when weak,
    those without candidates yet in the typical share (TYPICAL_WEAK_SHARE); ``reading_roles``
    says how many.
    """
    settings = settings or get_settings()
    size = max(1, batch_size or settings.llm_batch_size)
    calls = math.ceil(len(roles) / size)
    schema_tokens = estimate_tokens(json.dumps(MappingAnswer.model_json_schema()))  # sent with every call
    input_tokens = calls * schema_tokens
    for start in range(0, len(roles), size):
        batch = list(roles[start : start + size])
        messages = build_mapping_messages(batch, candidates_per_role)
        input_tokens += sum(estimate_tokens(m.content) for m in messages)
        missing = sum(1 for r in batch if not r.candidates)
        input_tokens += estimate_tokens("x" * (missing * candidates_per_role * TYPICAL_CANDIDATE_CHARS))
    output_tokens = len(roles) * OUTPUT_TOKENS_PER_ROLE + calls * 10
    read = estimate_reading_cost(roles, readings or settings.llm_readings)
    usd = cost_usd(
        provider, input_tokens + read.input_tokens, output_tokens + read.output_tokens, settings, batch_api=batch_api
    )
    return CostEstimate(
        calls=calls + read.calls,
        input_tokens=input_tokens + read.input_tokens,
        output_tokens=output_tokens + read.output_tokens,
        usd=usd,
        reading_roles=read.roles,
    )


def estimate_reading_cost(roles: Sequence[RoleRequest], mode: str) -> CostEstimate:
    """Reading calls and tokens for ``roles`` (see estimate_mapping_cost); ``roles`` = roles read."""
    if mode == "off" or not roles:
        return CostEstimate(0, 0, 0, 0.0)
    known = [r for r in roles if r.candidates]
    unknown = [r for r in roles if not r.candidates]
    read = [r for r in known if mode == "all" or weak_reason(r)]
    share = 1.0 if mode == "all" else TYPICAL_WEAK_SHARE
    read += unknown[:: max(1, round(1 / share))] if share > 0 else []
    if not read:
        return CostEstimate(0, 0, 0, 0.0)
    calls = math.ceil(len(read) / READING_BATCH_SIZE)
    input_tokens = calls * estimate_tokens(json.dumps(ReadingAnswer.model_json_schema()))
    for start in range(0, len(read), READING_BATCH_SIZE):
        messages = build_reading_messages(read[start : start + READING_BATCH_SIZE])
        input_tokens += sum(estimate_tokens(m.content) for m in messages)
    output_tokens = len(read) * READING_OUTPUT_TOKENS_PER_ROLE + calls * 10
    return CostEstimate(calls, input_tokens, output_tokens, 0.0, roles=len(read))
