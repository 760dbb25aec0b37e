"""The mapping service: a project's roles -> candidates -> proposals stored in the mapping table.

Order of evidence: precedent (an analyst already decided this normalised title, in any project)
first, then the selector (an LLM or the offline selector) over the role's 20 retrieval candidates.
Work is committed batch by batch, so a job that dies resumes where it stopped (see ``job_id``).
Mappings an analyst confirmed or overrode are never touched.

With ``batch_api=True`` the roles go to the provider's batch API (half price, results within
hours) as one submission; the agent keeps the batch id in ``llm_batch``, so a restarted job polls
the same batch instead of paying again.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from jobforge.codebooks.decided import decided_index
from jobforge.codebooks.vote import DecidedIndex, add_voted
from jobforge.config import Settings, get_settings
from jobforge.db.engine import write_transaction
from jobforge.db.models import Job, LlmBatch, Mapping, MappingStatus, Project, Role, utcnow
from jobforge.jobs.queue import hold_lease
from jobforge.llm.store import OwnTransactions
from jobforge.llm.tokens import CostEstimate  # precedent roles count as no cost
from jobforge.llm.usage import UsageRecorder
from jobforge.mapping.agent import RoleMappingAgent, estimate_mapping_cost
from jobforge.mapping.factory import (
    CANDIDATES_PER_ROLE,
    ProviderChoice,
    ProviderUnavailable,
    make_selector,
    resolve_provider,
)
from jobforge.mapping.precedent import find_precedents, precedent_result
from jobforge.mapping.readings import READING_BATCH_SIZE
from jobforge.mapping.selectors import RoleRequest, Selector
from jobforge.mapping.tiers import ConfidenceTier, MappingSource, RoleMappingResult

SCOPES = ("all", "unmapped", "low", "unconfirmed")
ROLE_CONTEXT_FIELDS = ("job_family", "job_function", "department", "level", "description", "unit_group")
# Used for cost estimates when the LLM agent is not installed (it counts its real prompts).
DEFAULT_INPUT_TOKENS_PER_ROLE = 1300
DEFAULT_OUTPUT_TOKENS_PER_ROLE = 60

# Roles whose prompts are counted for an estimate; bigger projects are estimated on an even sample.
ESTIMATE_SAMPLE_ROLES = 1200

# The start of the progress message while a provider batch runs (the CLI shows it once).
WAITING_FOR_BATCH = "Waiting for the provider's batch"

Progress = Callable[[int, int, str], None]
Select = Callable[[list[RoleRequest]], list[RoleMappingResult]]


@dataclass
class MappingRunSummary:
    mapped: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_tier: dict[str, int] = field(default_factory=dict)
    skipped_confirmed: int = 0  # analyst-owned roles left untouched
    notes: list[str] = field(default_factory=list)
    provider: str = ""  # the provider that ran (after "auto" was resolved)
    total: int = 0  # roles in scope for this run (including those done before a resume)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------------------------


def _scope_filter(scope: str) -> Any:
    not_owned = or_(Mapping.id.is_(None), Mapping.status.not_in(MappingStatus.ANALYST_OWNED))
    if scope == "unmapped":
        return Mapping.id.is_(None)
    if scope == "low":
        return and_(Mapping.tier == ConfidenceTier.LOW.value, Mapping.status.not_in(MappingStatus.ANALYST_OWNED))
    if scope == "unconfirmed":
        # Roles nobody reviewed yet: never confirmed, overridden or flagged "needs info" ones.
        return or_(Mapping.id.is_(None), Mapping.status == MappingStatus.PROPOSED)
    if scope == "all":
        # Every role an analyst does not own ("needs info" roles get a fresh proposal, keep the flag).
        return not_owned
    raise ValueError(f"Unknown scope '{scope}': choose one of {', '.join(SCOPES)}.")


def _in_scope(*columns: Any, project_id: int, scope: str, after_role_id: int = 0) -> Any:
    """SELECT ``columns`` of the project's roles in ``scope`` (ascending id)."""
    return (
        select(*columns)
        .select_from(Role)
        .outerjoin(Mapping, Mapping.role_id == Role.id)
        .where(Role.project_id == project_id, Role.id > after_role_id, _scope_filter(scope))
        .order_by(Role.id)
    )


def roles_in_scope(session: Session, project_id: int, scope: str, after_role_id: int = 0) -> list[int]:
    """Ids (ascending) of the project's roles a run with ``scope`` would map."""
    return list(session.scalars(_in_scope(Role.id, project_id=project_id, scope=scope, after_role_id=after_role_id)))


def _analyst_owned_count(session: Session, project_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Mapping)
        .join(Role, Mapping.role_id == Role.id)
        .where(Role.project_id == project_id, Mapping.status.in_(MappingStatus.ANALYST_OWNED))
    )
    return session.scalar(query) or 0


def role_context(role: Role) -> dict[str, str]:
    """The context a selector sees: the role's context columns plus any further context."""
    context = {name: str(value) for name, value in (role.context or {}).items() if value not in (None, "")}
    for name in ROLE_CONTEXT_FIELDS:
        value = getattr(role, name)
        if value not in (None, ""):
            context[name] = str(value)
    return context


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


@dataclass
class _ResumeState:
    """What a job already did, kept in ``job.result`` and committed with each batch."""

    cursor: int = 0  # highest role id already mapped by this job (roles go in id order)
    done: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, job: Job | None) -> _ResumeState:
        result = (job.result or {}) if job is not None else {}
        return cls(
            cursor=int(result.get("cursor", 0)),
            done=int(result.get("done", 0)),
            summary=dict(result.get("summary", {})),
        )


def map_roles(
    session: Session,
    project_id: int,
    provider: str = "auto",
    scope: str = "unmapped",
    batch_size: int | None = None,
    progress: Progress | None = None,
    job_id: int | None = None,
    selector: Selector | None = None,
    batch_api: bool = False,
    use_decisions: bool = True,
    user: str | None = None,
    lease: str | None = None,
) -> MappingRunSummary:
    """Map the project's roles in ``scope`` and store the proposals; returns what was done.

    ``batch_size``: roles per LLM call (default the ``llm_batch_size`` setting), or roles per
    committed batch offline (default ``map_offline_batch_size``). With an LLM, a committed batch
    holds ``llm_concurrency`` calls' worth of roles so the calls can run side by side.
    ``progress(done, total, message)`` is called after every committed batch.
    ``job_id``: the job this run belongs to; its progress and a resume cursor are committed with
    each batch, so running again with the same job maps only the roles it has not mapped yet.
    ``selector`` replaces the provider's selector (evaluation and tests); ``provider`` is then
    only a label.
    ``batch_api``: send the roles in scope (those without precedent) to the provider's batch API as
    one submission and wait for it, reporting progress while it runs; then store the results like a
    direct run. Resumable with ``job_id``: the batch id is kept, a re-run polls the same batch.
    ``use_decisions``: the nearest decided titles (decisions, enabled codebooks) vote (see
    :mod:`jobforge.codebooks.vote`); False leaves them out. ``user``: only decisions of projects
    this user may see vote (None: every project's, as for a run without a user).
    ``lease``: the job's lease token from its claim (default: the job's current one); every batch
    write checks it first and raises ``JobCancelled`` (writing nothing) once another worker holds it.
    Raises ``ProviderUnavailable`` when an explicitly named provider cannot be used, or when
    ``batch_api`` is asked for and the provider is (or "auto" resolves to) offline.
    """
    settings = get_settings()
    _scope_filter(scope)  # validate before anything runs
    if session.get(Project, project_id) is None:
        raise LookupError(f"No project with id {project_id}.")
    choice = _provider_choice(provider, selector, batch_api, settings)
    job = session.get(Job, job_id, populate_existing=True) if job_id is not None else None
    state = _ResumeState.of(job)
    summary = _summary_from(state.summary, choice)
    summary.skipped_confirmed = _analyst_owned_count(session, project_id)
    role_ids = roles_in_scope(session, project_id, scope, after_role_id=state.cursor)
    summary.total = total = state.done + len(role_ids)
    lease = lease if lease is not None or job is None else job.lease
    run = _Run(session, job, lease, state, summary, total, progress)
    if not role_ids:
        run.report("Nothing to map.")
        return summary

    from jobforge.retrieval.index import get_candidate_index

    index = get_candidate_index(session)
    decided = decided_index(session, project_id, user=user) if use_decisions else None
    if selector is None:
        selector = make_selector(
            choice.provider, session, settings, usage=_usage_recorder(session, choice, job_id), batch_size=batch_size
        )
    run.release_id = index.release_id
    proposals: dict[int, RoleMappingResult] | None = None
    if batch_api:  # every role in scope in one provider batch; its results are then stored chunk by chunk
        role_ids, proposals = _propose_by_batch_api(run, project_id, scope, index, selector, choice, decided)
    chunk = _chunk_size(choice, batch_size, settings)
    for start in range(0, len(role_ids), chunk):
        ids = role_ids[start : start + chunk]
        roles = list(session.scalars(select(Role).where(Role.id.in_(ids)).order_by(Role.id)))
        results = (
            proposals
            if proposals is not None
            else _propose(session, roles, index, _no_open_read(session, selector.select), decided)
        )
        run.store_chunk(ids, roles, results)
        if settings.map_batch_delay > 0:
            time.sleep(settings.map_batch_delay)
    _note_fallbacks(summary)
    return summary


def _propose_by_batch_api(
    run: _Run,
    project_id: int,
    scope: str,
    index: Any,
    selector: Selector,
    choice: ProviderChoice,
    decided: DecidedIndex | None,
) -> tuple[list[int], dict[int, RoleMappingResult]]:
    """Every role in scope sent as one provider batch (or its batch resumed): (role ids, proposals)."""
    session, state = run.session, run.state
    roles = list(session.scalars(_in_scope(Role, project_id=project_id, scope=scope, after_role_id=state.cursor)))
    run.report(f"Sending {len(roles):,} roles to the {choice.provider} batch API (or resuming its batch)")
    select_batch = _batch_api_select(session, selector, choice, run.job, state, run.summary, run.total, run.progress)
    return [role.id for role in roles], _propose(session, roles, index, select_batch, decided)


def _provider_choice(provider: str, selector: Selector | None, batch_api: bool, settings: Settings) -> ProviderChoice:
    """The provider a run uses (a given ``selector`` is only labelled with ``provider``)."""
    choice = ProviderChoice(provider) if selector is not None else resolve_provider(provider, settings)
    if batch_api and not choice.is_llm:
        raise ProviderUnavailable(
            f"The batch API needs an LLM provider (anthropic or openai), not '{choice.provider}'"
            + (f" ({choice.note})" if choice.note else ".")
        )
    return choice


@dataclass
class _Run:
    """One mapping run's job, lease and running totals: what every stored chunk updates."""

    session: Session
    job: Job | None
    lease: str | None
    state: _ResumeState
    summary: MappingRunSummary
    total: int
    progress: Progress | None
    release_id: int | None = None  # the O*NET release the proposals come from, once the index is built

    def report(self, message: str) -> None:
        """Commit ``message`` as the job's progress and tell the caller."""
        _save_job_state(self.session, self.job, self.state, self.summary, self.total, message)
        self.session.commit()
        if self.progress:
            self.progress(self.state.done, self.total, message)

    def store_chunk(self, ids: list[int], roles: list[Role], results: dict[int, RoleMappingResult]) -> None:
        """Store one chunk's proposals with the job's cursor, in one short transaction fenced by the lease."""
        session, summary = self.session, self.summary
        session.commit()  # end the read: the write below is a transaction of its own
        with write_transaction(session):
            if self.job is not None:
                hold_lease(session, self.job.id, self.lease)
            written, raced = _store(session, roles, results, self.release_id)
            for result in written:
                summary.mapped += 1
                summary.by_source[str(result.source)] = summary.by_source.get(str(result.source), 0) + 1
                summary.by_tier[str(result.confidence)] = summary.by_tier.get(str(result.confidence), 0) + 1
            summary.skipped_confirmed += raced
            self.state.cursor, self.state.done = ids[-1], self.state.done + len(ids)
            message = f"Mapped {self.state.done:,} of {self.total:,} roles"
            _save_job_state(session, self.job, self.state, summary, self.total, message)
        if self.progress:
            self.progress(self.state.done, self.total, message)


def _note_fallbacks(summary: MappingRunSummary) -> None:
    fallbacks = summary.by_source.get(MappingSource.FALLBACK.value, 0)
    if fallbacks:
        summary.notes.append(
            f"{fallbacks:,} role(s) fell back to the best retrieval candidate with tier LOW; the rationale says why. "
            "Re-run with scope 'low' to try them again."
        )


def _summary_from(saved: dict[str, Any], choice: ProviderChoice) -> MappingRunSummary:
    summary = MappingRunSummary(
        mapped=int(saved.get("mapped", 0)),
        by_source=dict(saved.get("by_source", {})),
        by_tier=dict(saved.get("by_tier", {})),
        notes=list(saved.get("notes", [])),
        provider=choice.provider,
    )
    if choice.note and choice.note not in summary.notes:
        summary.notes.append(choice.note)
    return summary


def _save_job_state(
    session: Session, job: Job | None, state: _ResumeState, summary: MappingRunSummary, total: int, message: str
) -> None:
    if job is None:
        return
    job.progress_done = state.done
    job.progress_total = total
    job.message = message
    # A new dict (not an in-place change) so the JSON column is written.
    job.result = {"cursor": state.cursor, "done": state.done, "summary": summary.to_dict()}


def _chunk_size(choice: ProviderChoice, batch_size: int | None, settings: Settings) -> int:
    if choice.is_llm:
        return max(1, batch_size or settings.llm_batch_size) * max(1, settings.llm_concurrency)
    return max(1, batch_size or settings.map_offline_batch_size)


def _usage_recorder(session: Session, choice: ProviderChoice, job_id: int | None) -> Any:
    if not choice.is_llm:
        return None
    # The engine, not this session: calls may run in threads and record as they finish.
    return UsageRecorder(OwnTransactions(session.get_bind()), job_id=job_id, purpose="mapping")


def _batch_api_select(
    session: Session,
    selector: Any,
    choice: ProviderChoice,
    job: Job | None,
    state: _ResumeState,
    summary: MappingRunSummary,
    total: int,
    progress: Progress | None,
) -> Select:
    """The agent's batch-API path as a select function, reporting the batch id while it polls."""
    if not isinstance(selector, RoleMappingAgent):
        raise ProviderUnavailable(f"The {choice.provider} selector cannot use the batch API.")
    engine = session.get_bind()
    job_id = job.id if job is not None else None

    def wait(seconds: float) -> None:
        # Called by the agent between status checks: the submission is committed in llm_batch by now.
        batch_id = session.scalar(
            select(LlmBatch.batch_id)
            .where(
                LlmBatch.job_id.is_(None) if job_id is None else LlmBatch.job_id == job_id,
                LlmBatch.provider == choice.provider,
                LlmBatch.finished_at.is_(None),
            )
            .order_by(LlmBatch.id.desc())
            .limit(1)
        )
        message = f"{WAITING_FOR_BATCH} {batch_id} ({choice.provider}); results can take up to 24 hours"
        _save_job_state(session, job, state, summary, total, message)
        session.commit()
        if progress:
            progress(state.done, total, message)  # a job's report raises here when it is cancelled
        time.sleep(seconds)

    def select_batch(requests: list[RoleRequest]) -> list[RoleMappingResult]:
        session.commit()  # close the read transaction: the batch may run for hours
        # The engine, not this session: the batch id is committed the moment it is submitted.
        return selector.select_with_batch_api(requests, OwnTransactions(engine), job_id=job_id, sleep=wait)

    return select_batch


def _no_open_read(session: Session, select_roles: Select) -> Select:
    """``select_roles`` run with no transaction open: an LLM call can take minutes (with retries)."""

    def select(requests: list[RoleRequest]) -> list[RoleMappingResult]:
        session.commit()  # ends the read transaction of candidates and precedents; nothing to write
        return select_roles(requests)

    return select


def _propose(
    session: Session, roles: list[Role], index: Any, select_roles: Select, decided: DecidedIndex | None = None
) -> dict[int, RoleMappingResult]:
    requests = []
    votes = decided.votes([role.title for role in roles]) if decided is not None else [None] * len(roles)
    for role, vote in zip(roles, votes, strict=True):
        context = role_context(role)
        candidates = index.candidates(role.title, k=CANDIDATES_PER_ROLE, context=context)
        # The decided titles' codes join the candidates, so a selector can pick one retrieval missed.
        candidates = add_voted(candidates, vote, index.occupation)
        language = index.language_of(role.title)
        code = "" if language.english else language.code
        requests.append(RoleRequest(role.id, role.title, role.title_key, context, candidates, code, vote))
    results: dict[int, RoleMappingResult] = {}
    precedents = find_precedents(session, [request.title_key for request in requests])
    to_select: list[RoleRequest] = []
    for request in requests:
        precedent = precedents.get(request.title_key)
        result = precedent_result(request, precedent, index.occupation) if precedent else None
        if result is None:
            to_select.append(request)
        else:
            results[int(request.role_id)] = result
    if to_select:
        selected = select_roles(to_select)
        by_id = {str(result.role_id): result for result in selected if result.role_id is not None}
        for position, request in enumerate(to_select):
            result = by_id.get(str(request.role_id))
            if result is None and position < len(selected) and selected[position].role_id is None:
                result = selected[position]  # a selector that answers by position only
            results[int(request.role_id)] = result or _missing_result(request)
    return results


def _missing_result(request: RoleRequest) -> RoleMappingResult:
    """A selector dropped this role: never lose it, propose the best candidate with LOW."""
    best = request.candidates[0] if request.candidates else None
    return RoleMappingResult(
        source_role=request.title,
        onet_code=best.code if best else None,
        onet_title=best.title if best else None,
        confidence=ConfidenceTier.LOW,
        reasoning="Fallback match – the selector returned no answer for this role."
        if best
        else "Not codable: no candidate occupation was found for this title.",
        source=MappingSource.FALLBACK,
        role_id=request.role_id,
        candidates=[candidate.to_dict() for candidate in request.candidates],
    )


def _store(
    session: Session, roles: list[Role], results: dict[int, RoleMappingResult], release_id: int | None
) -> tuple[list[RoleMappingResult], int]:
    """Upsert the proposals; returns those written and how many roles an analyst took meanwhile.

    Bulk statements (one INSERT, one executemany UPDATE per batch): row-by-row ORM flushes cost
    more than retrieval itself on large projects.
    """
    ids = [role.id for role in roles]
    # Re-read under a row lock (Postgres; SQLite holds the write lock since BEGIN IMMEDIATE): an
    # analyst may have confirmed a role while it was mapped.
    existing = {
        role_id: (mapping_id, status)
        for mapping_id, role_id, status in session.execute(
            select(Mapping.id, Mapping.role_id, Mapping.status).where(Mapping.role_id.in_(ids)).with_for_update()
        )
    }
    written: list[RoleMappingResult] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    raced = 0
    now = utcnow()
    for role in roles:
        result = results[role.id]
        mapping_id, status = existing.get(role.id, (None, None))
        if status in MappingStatus.ANALYST_OWNED:
            raced += 1
            continue
        values = _values(result, release_id, now)
        if mapping_id is None:
            inserts.append({**values, "role_id": role.id, "status": MappingStatus.PROPOSED, "created_at": now})
        else:
            # "needs info" is the analyst's flag: a fresh proposal keeps it (and their note).
            keep = status == MappingStatus.NEEDS_INFO
            updates.append({**values, "id": mapping_id, "status": status if keep else MappingStatus.PROPOSED})
        written.append(result)
    if inserts:
        session.execute(insert(Mapping), inserts)
    if updates:
        # The status is checked again in the UPDATE itself: a decision is never overwritten.
        not_owned = and_(
            Mapping.id == bindparam("mapping_id"), *(Mapping.status != owned for owned in MappingStatus.ANALYST_OWNED)
        )
        statement = update(Mapping).where(not_owned).values(version=Mapping.version + 1)
        rows = [{"mapping_id": mapping_id, **values} for values in updates for mapping_id in [values.pop("id")]]
        session.connection().execute(statement, rows)
    # Mapping objects this session loaded earlier (role.mapping) must not hide the new values.
    for role in roles:
        session.expire(role, ["mapping"])
    return written, raced


def _values(result: RoleMappingResult, release_id: int | None, now: Any) -> dict[str, Any]:
    tier = result.confidence
    return {
        "onet_code": result.onet_code,
        "onet_title": result.onet_title,
        "tier": tier.value,
        "score": tier.to_score(),
        "calibrated_score": result.calibrated_score,
        "llm_tier": result.llm_tier.value if result.llm_tier else None,
        "rationale": result.reasoning or "",
        "source": str(result.source),
        "candidates": [dict(candidate) for candidate in result.candidates],
        "release_id": release_id,
        "model_used": result.model_used,
        # What was proposed, kept beside any later analyst decision (the calibration view uses it).
        "proposed_code": result.onet_code,
        "proposed_tier": tier.value,
        # Set also when the new proposal equals the old one: it was re-checked now.
        "updated_at": now,
    }


# ---------------------------------------------------------------------------------------------
# Cost
# ---------------------------------------------------------------------------------------------


def estimate_cost(
    session: Session,
    project_id: int,
    provider: str,
    scope: str = "unmapped",
    batch_size: int | None = None,
    batch_api: bool = False,
) -> CostEstimate:
    """LLM calls, tokens and USD a run would cost; zero for offline (and for precedent roles).

    "auto" is resolved as a run would resolve it. An explicitly named LLM provider is estimated
    even without a key, so the figure can be shown before a key is set. ``batch_api``: priced as
    the providers' batch APIs charge (half the list price).
    """
    settings = get_settings()
    name = (provider or settings.provider or "auto").lower()
    choice = resolve_provider(name, settings) if name == "auto" else ProviderChoice(name)
    _scope_filter(scope)
    if not choice.is_llm:
        return CostEstimate(0, 0, 0, 0.0, roles=0, provider=choice.provider, note=choice.note)
    keys = session.execute(_in_scope(Role.id, Role.title_key, project_id=project_id, scope=scope)).all()
    with_precedent = set(find_precedents(session, [key for _, key in keys]))
    role_ids = [role_id for role_id, key in keys if key not in with_precedent]
    per_call = max(1, batch_size or settings.llm_batch_size)
    if role_ids:
        # Counted on the agent's real prompts (with typical candidates, which are not retrieved here);
        # for big projects on an even sample, scaled up, so the page shows it without a wait.
        sample_ids = role_ids[:: math.ceil(len(role_ids) / ESTIMATE_SAMPLE_ROLES)]
        sample = [
            RoleRequest(role.id, role.title, role.title_key, role_context(role))
            for role in session.scalars(select(Role).where(Role.id.in_(sample_ids)).order_by(Role.id))
        ]
        figures = estimate_mapping_cost(
            sample, choice.provider, batch_size=per_call, settings=settings, batch_api=batch_api
        )
        if _has_decided_titles(session):
            # Each prompt may carry up to 5 similar decided titles (not searched for here: too slow
            # for a page that redraws); counted as typical ones so the estimate stays an upper bound.
            figures = _with_decided_examples(figures, len(sample), choice.provider, settings, batch_api)
        scale = len(role_ids) / len(sample)
        reading_roles = round(figures.reading_roles * scale)
        return CostEstimate(
            calls=math.ceil(len(role_ids) / per_call) + math.ceil(reading_roles / READING_BATCH_SIZE),
            input_tokens=round(figures.input_tokens * scale),
            output_tokens=round(figures.output_tokens * scale),
            usd=round(figures.usd * scale, 4),
            roles=len(role_ids),
            provider=choice.provider,
            note=choice.note,
            reading_roles=reading_roles,
        )
    input_tokens = len(role_ids) * DEFAULT_INPUT_TOKENS_PER_ROLE
    output_tokens = len(role_ids) * DEFAULT_OUTPUT_TOKENS_PER_ROLE
    price_in = getattr(settings, f"{choice.provider}_price_in")
    price_out = getattr(settings, f"{choice.provider}_price_out")
    usd = (input_tokens * price_in + output_tokens * price_out) / 1_000_000
    if batch_api:
        from jobforge.llm.tokens import BATCH_API_DISCOUNT

        usd *= BATCH_API_DISCOUNT
    return CostEstimate(
        calls=math.ceil(len(role_ids) / per_call),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        usd=round(usd, 4),
        roles=len(role_ids),
        provider=choice.provider,
        note=choice.note,
    )


# A typical "decided" block of a role's prompt: 5 similar decided titles with their codes.
TYPICAL_DECIDED = json.dumps([["Senior Business Operations Analyst", "13-1111.00"]] * 5, separators=(",", ":"))


def _has_decided_titles(session: Session) -> bool:
    from jobforge.db.models import Codebook

    decided = select(Mapping.id).where(Mapping.status.in_(MappingStatus.ANALYST_OWNED)).limit(1)
    books = select(Codebook.id).where(Codebook.enabled.is_(True)).limit(1)
    return session.scalar(decided) is not None or session.scalar(books) is not None


def _with_decided_examples(
    figures: CostEstimate, roles: int, provider: str, settings: Settings, batch_api: bool
) -> CostEstimate:
    from jobforge.llm.tokens import cost_usd, estimate_tokens

    extra = roles * estimate_tokens(f',"decided":{TYPICAL_DECIDED}')
    input_tokens = figures.input_tokens + extra
    usd = cost_usd(provider, input_tokens, figures.output_tokens, settings, batch_api=batch_api)
    return dataclasses.replace(figures, input_tokens=input_tokens, usd=usd)  # reading_roles etc. kept
