"""Completing a project's attributes: inherit, look up in O*NET, impute with an LLM.

``impute_project`` walks the project's roles in batches, committing each batch, and fills each
empty cell from the strongest step that has a value (see :mod:`jobforge.imputation.attributes` for
the precedence rules). It is idempotent: a re-run refreshes HIERARCHY and ONET values, only asks the
LLM about cells that are still empty, and never touches SOURCE or ANALYST values, so an interrupted
job simply runs again.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from jobforge.config import Settings, get_settings
from jobforge.db.engine import write_transaction
from jobforge.db.models import MappingStatus, Role, RoleAttribute, SourceType
from jobforge.errors import JobForgeError
from jobforge.imputation.attributes import (
    attributes_by_role,
    can_replace,
    has_value,
    insert_rows,
    is_protected,
    project_attribute_names,
    project_role_ids,
    write_value,
)
from jobforge.imputation.hierarchy import HierarchyInheritance
from jobforge.imputation.llm_imputation import (
    AttributeImputationService,
    ImputationOutcome,
    LLMImputedAttribute,
)
from jobforge.imputation.profile import OnetProfile, OnetProfiles, profile_fields_for
from jobforge.imputation.row_values import count_uploads, uncounted_uploads
from jobforge.jobs.queue import hold_lease
from jobforge.llm.base import LLMClient, LLMError, RunAborted, Usage, is_fatal
from jobforge.llm.store import CallersSession
from jobforge.llm.usage import UsageRecorder
from jobforge.onet.repository import active_release
from jobforge.redaction import scrub

__all__ = [
    "STEPS",
    "AttributeImputationService",
    "ImputationSummary",
    "LLMImputedAttribute",
    "ProviderUnavailable",
    "impute_project",
    "resolve_llm",
]

STEPS = ("hierarchy", "onet", "llm")
PIPELINE_USER = "imputation"  # updated_by of computed values
EMPTY = "EMPTY"
Progress = Callable[[int, int, str], None]
MAX_ERRORS = 20  # per-role errors kept in a run's summary (all are counted)
_log = logging.getLogger(__name__)


@dataclass
class ImputationSummary:
    """What a run left behind: values by source type over all cells, and what this run wrote."""

    project_id: int
    roles: int = 0
    attributes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # source type (or EMPTY) -> cells now
    written: dict[str, int] = field(default_factory=dict)  # source type -> cells this run set or changed
    cleared: int = 0  # computed values withdrawn because their evidence is gone
    llm_calls: int = 0
    llm_provider: str | None = None
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS per-role LLM failures (cells left empty)
    error_count: int = 0  # all per-role LLM failures
    notes: list[str] = field(default_factory=list)  # skipped steps, ignored answers, clamped confidences

    @property
    def cells(self) -> int:
        return self.roles * len(self.attributes)

    @property
    def message(self) -> str:
        """One line for the job list: what this run filled and what is still empty."""
        filled = ", ".join(f"{count:,} {source}" for source, count in self.written.items() if count) or "nothing new"
        empty = self.counts.get("EMPTY", 0)
        return f"{self.roles:,} roles × {len(self.attributes)} attributes: filled {filled}; {empty:,} cells still empty"

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "project_id": self.project_id,
            "roles": self.roles,
            "attributes": self.attributes,
            "counts": self.counts,
            "written": self.written,
            "cleared": self.cleared,
            "llm_calls": self.llm_calls,
            "llm_provider": self.llm_provider,
            "errors": self.errors,
            "error_count": self.error_count,
            "notes": self.notes,
        }

    def add_error(self, error: str) -> None:
        """Count a per-role failure; only the first MAX_ERRORS are kept (a job's result stays small)."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)


class ProviderUnavailable(JobForgeError, RuntimeError):
    """The LLM provider that was asked for by name cannot be used; the message says why."""


def resolve_llm(provider: str, settings: Settings) -> tuple[LLMClient | None, str | None]:
    """The client to impute with, or None and a note saying why the LLM step is skipped.

    "auto" (which defers to the ``provider`` setting when that names one) picks the first
    available provider and skips the step with a note when there is none; a provider asked for by
    name that cannot be used raises :class:`ProviderUnavailable` before any work is done.
    """
    name = (provider or "auto").strip().lower()
    if name == "auto" and settings.provider not in ("", "auto"):
        name = settings.provider.strip().lower()
    if name in ("offline", "none"):
        return None, "LLM step skipped: the provider is set to offline."
    from jobforge.llm.factory import PROVIDERS, available_providers, make_client

    if name == "auto":
        availability = available_providers(settings)
        usable = [candidate for candidate, state in availability.items() if state.available]
        if not usable:
            reasons = "; ".join(f"{candidate}: {state.reason}" for candidate, state in availability.items())
            return None, f"LLM step skipped: no LLM provider is available ({reasons})."
        name = usable[0]
    if name not in PROVIDERS:
        raise ProviderUnavailable(
            f"Unknown provider {provider!r}: choose auto, offline or one of {', '.join(PROVIDERS)}."
        )
    client = make_client(name, settings)
    state = client.is_available()
    if not state.available:
        raise ProviderUnavailable(f"The {name} provider cannot be used: {state.reason}.")
    return client, None


class _UsageLog:
    """Collects the usage of calls made in worker threads; recorded from the session's thread.

    Rows go into the run's session (``UsageRecorder`` with a Session target), so they are
    committed with the batch whose values they paid for.
    """

    def __init__(self) -> None:
        self.pending: list[Usage] = []

    def __call__(self, usage: Usage) -> None:
        self.pending.append(usage)  # list.append is atomic under the GIL

    def flush(self, session: Session, job_id: int | None) -> None:
        usages, self.pending = self.pending, []
        recorder = UsageRecorder(CallersSession(session), job_id=job_id, purpose="imputation")
        for usage in usages:
            recorder.record(usage)


def mapped_occupation(role: Role) -> tuple[str, str | None, bool] | None:
    """(code, title, from_proposal): the confirmed mapping first, else the proposal.

    A mapping an analyst marked "needs info" is not used: they doubt it.
    """
    mapping = role.mapping
    if mapping is None or not mapping.onet_code:
        return None
    if mapping.status in MappingStatus.ANALYST_OWNED:
        return mapping.onet_code, mapping.onet_title, False
    if mapping.status == MappingStatus.PROPOSED:
        return mapping.onet_code, mapping.onet_title, True
    return None


class _Run:
    """One pass over a project; state shared by its batches."""

    def __init__(
        self,
        session: Session,
        project_id: int,
        steps: Sequence[str],
        settings: Settings,
        llm: LLMClient | None,
        job_id: int | None,
        summary: ImputationSummary,
        lease: str | None = None,
    ) -> None:
        self.session = session
        self.lease = lease
        self.project_id = project_id
        self.steps = set(steps)
        self.settings = settings
        self.job_id = job_id
        self.summary = summary
        self.names = summary.attributes
        self.written: Counter[str] = Counter()
        self.hierarchy = (
            HierarchyInheritance(
                session,
                project_id,
                settings.imputation_group_columns,
                settings.imputation_agreement,
                settings.imputation_min_agreeing,
            )
            if "hierarchy" in self.steps
            else None
        )
        self.profile_fields = profile_fields_for(self.names, settings.imputation_attribute_rules)
        release = active_release(session) if "onet" in self.steps else None
        self.release_id = release.id if release is not None else None
        if "onet" in self.steps and release is None:
            summary.notes.append("O*NET step skipped: no O*NET release is loaded.")
        self.profiles = (
            OnetProfiles(session, self.release_id, settings.imputation_top_n, fields=set(self.profile_fields.values()))
            if self.release_id is not None
            else None
        )
        self.usage_log = _UsageLog()
        self.stop = threading.Event()  # set at the first fault that concerns the whole run
        self.new_rows: list[RoleAttribute] = []
        self.imputer = AttributeImputationService(llm, record_usage=self.usage_log) if llm is not None else None

    # -- steps --------------------------------------------------------------------------------

    def profile(self, code: str) -> OnetProfile:
        assert self.profiles is not None
        return self.profiles.get(code)

    def write(self, role: Role, name: str, cells: dict[str, RoleAttribute], **values: Any) -> None:
        current = cells.get(name)
        current_value = current.value if current is not None else None
        attribute, changed = write_value(self.session, role.id, name, current, add=False, **values)
        if current is not None and attribute.value != current_value:
            attribute.version = (attribute.version or 1) + 1  # an analyst's screen showing the old value is stale
        if current is None:
            self.new_rows.append(attribute)  # inserted in bulk by insert_new
        cells[name] = attribute
        if changed and values.get("source_type"):
            self.written[values["source_type"]] += 1

    def clear(self, role: Role, name: str, cells: dict[str, RoleAttribute], reason: str) -> None:
        previous = cells[name]
        self.write(
            role,
            name,
            cells,
            value=None,
            source_type=None,
            details={"cleared": reason, "previous_source": previous.source_type, "previous_value": previous.value},
            updated_by=PIPELINE_USER,
        )
        self.summary.cleared += 1

    def inherit(self, role: Role, name: str, cells: dict[str, RoleAttribute]) -> None:
        assert self.hierarchy is not None
        current = cells.get(name)
        found = self.hierarchy.inherit(role, name)
        if found is not None:
            if can_replace(current, SourceType.HIERARCHY):
                self.write(
                    role,
                    name,
                    cells,
                    value=found.value,
                    source_type=SourceType.HIERARCHY,
                    confidence=round(found.agreement, 4),
                    rationale=found.rationale(),
                    donor=found.donor,
                    details=found.details(),
                    updated_by=PIPELINE_USER,
                )
        elif has_value(current) and current.source_type == SourceType.HIERARCHY:
            self.clear(role, name, cells, "the role's groups no longer agree on a value")

    def from_onet(self, role: Role, name: str, cells: dict[str, RoleAttribute]) -> None:
        current = cells.get(name)
        profile_field = self.profile_fields.get(name)
        occupation = mapped_occupation(role)
        value = None
        if profile_field and occupation and self.release_id is not None:
            code, _title, from_proposal = occupation
            profile = self.profile(code)
            value = profile.value_for(profile_field)
        if value is not None:
            if can_replace(current, SourceType.ONET):
                source_code = profile.source_code(profile_field)
                details = profile.field_details(profile_field)
                details["from_proposal"] = from_proposal
                label = profile_field.replace("_", " ")
                rationale = f"O*NET {profile.code} {profile.title or ''}: {label}".strip()
                if source_code != profile.code:
                    rationale += f", taken from the nearest rated relative {source_code}"
                if from_proposal:
                    rationale += " (from the proposed mapping, not yet confirmed)"
                self.write(
                    role,
                    name,
                    cells,
                    value=value,
                    source_type=SourceType.ONET,
                    rationale=rationale + ".",
                    donor=source_code,
                    details=details,
                    updated_by=PIPELINE_USER,
                )
        elif has_value(current) and current.source_type == SourceType.ONET:
            self.clear(role, name, cells, "the role's occupation no longer gives a value")

    # -- LLM ------------------------------------------------------------------------------------

    def llm_request(self, role: Role, cells: dict[str, RoleAttribute]) -> dict[str, Any] | None:
        missing = [name for name in self.names if not has_value(cells.get(name))]
        if not missing:
            return None
        known = {name: str(cells[name].value) for name in self.names if has_value(cells.get(name))}
        occupation = mapped_occupation(role)
        return {
            "job_title": role.title,
            "job_family": role.job_family,
            "job_function": role.job_function,
            "unit_group": role.unit_group,
            "known_attributes": known,
            "missing_attributes": missing,
            "occupation": (
                {"code": occupation[0], "title": occupation[1], "confirmed": not occupation[2]} if occupation else None
            ),
        }

    def call_llm(self, request: dict[str, Any]) -> ImputationOutcome | Exception | None:
        """The call's outcome or error; None when the run stopped before this call was made."""
        assert self.imputer is not None
        if self.stop.is_set():
            return None
        try:
            return self.imputer.impute(**request)
        except LLMError as exc:
            if is_fatal(exc):
                self.stop.set()  # calls not yet started are not made
            return exc
        except Exception as exc:  # an SDK or network failure the client did not wrap: keep the run going
            _log.warning("imputation call failed: %r", exc)
            return exc

    def apply_llm(self, role: Role, missing: Sequence[str], result: ImputationOutcome | Exception) -> None:
        # Reload the role's cells: an analyst may have typed a value while the model was thinking.
        cells = attributes_by_role(self.session, [role.id], refresh=True, lock=True)[role.id]
        if isinstance(result, Exception):
            kind = getattr(result, "kind", type(result).__name__)
            reason = scrub(f"LLM call failed ({kind}): {result}")  # an SDK error may quote the key
            self.summary.add_error(f"{role.title}: {reason}")
            for name in missing:
                self._leave_empty(role, name, cells, reason, kind)
            return
        model = self.imputer.model_used if self.imputer else None
        for value in result.values:
            if not can_replace(cells.get(value.attribute_name), SourceType.LLM):
                continue
            details = dict(value.details)
            details["imputed_at"] = value.imputed_at.isoformat()
            if "note" in details:
                self.summary.notes.append(f"{role.title} / {value.attribute_name}: {details['note']}")
            self.write(
                role,
                value.attribute_name,
                cells,
                value=value.value,
                source_type=SourceType.LLM,
                confidence=value.confidence,
                rationale=value.rationale,
                model_used=value.model_used,
                details=details,
                updated_by=PIPELINE_USER,
            )
        for name, reason in result.unanswered.items():
            self._leave_empty(role, name, cells, reason, "unanswered", model)
        if result.ignored:
            self.summary.notes.append(
                f"{role.title}: ignored answers for attributes that were not asked: {', '.join(result.ignored)}"
            )

    def _leave_empty(
        self,
        role: Role,
        name: str,
        cells: dict[str, RoleAttribute],
        reason: str,
        kind: str,
        model: str | None = None,
    ) -> None:
        if has_value(cells.get(name)):
            return
        self.write(
            role,
            name,
            cells,
            value=None,
            source_type=None,
            model_used=model or (self.imputer.model_used if self.imputer else None),
            details={"llm_error": kind, "reason": reason},
            updated_by=PIPELINE_USER,
        )

    # -- batches --------------------------------------------------------------------------------

    def insert_new(self) -> None:
        rows, self.new_rows = self.new_rows, []
        insert_rows(self.session, rows)

    def hold_lease(self) -> None:
        """A job's batch writes only while its worker holds the job (JobCancelled otherwise)."""
        if self.job_id is not None:
            hold_lease(self.session, self.job_id, self.lease)

    def run_batch(self, role_ids: Sequence[int]) -> None:
        """Impute one batch in two short write transactions, with the LLM calls between them.

        Each transaction re-reads the cells under the write lock (BEGIN IMMEDIATE on SQLite, row
        locks on Postgres) before deciding, so a value an analyst saved meanwhile is never replaced.
        """
        with write_transaction(self.session):
            self.hold_lease()
            roles = self.session.scalars(
                select(Role).where(Role.id.in_(role_ids)).options(selectinload(Role.mapping)).order_by(Role.id)
            ).all()
            cells_by_role = attributes_by_role(self.session, role_ids, refresh=True, lock=True)
            for role in roles:
                cells = cells_by_role[role.id]
                for name in self.names:
                    if is_protected(cells.get(name)):
                        continue
                    if self.hierarchy is not None:
                        self.inherit(role, name, cells)
                    if "onet" in self.steps:
                        self.from_onet(role, name, cells)
            self.insert_new()
            requests = [(role, self.llm_request(role, cells_by_role[role.id])) for role in roles]
        # Committed before the (slow) calls: no write lock or row lock is held while the model
        # thinks, so analysts keep working meanwhile.
        requests = [(role, request) for role, request in requests if request is not None]
        if self.imputer is None or not requests:
            return
        workers = max(1, min(self.settings.llm_concurrency, len(requests)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda item: self.call_llm(item[1]), requests))
        self.summary.llm_calls += sum(1 for result in results if result is not None)
        fatal = next((result for result in results if is_fatal(result)), None)
        with write_transaction(self.session):
            self.hold_lease()
            for (role, request), result in zip(requests, results, strict=True):
                if result is not None and not is_fatal(result):
                    self.apply_llm(role, request["missing_attributes"], result)
            self.insert_new()
            self.usage_log.flush(self.session, self.job_id)
        if isinstance(fatal, LLMError):
            # What was answered and what was spent are kept; the rest stays empty for a re-run.
            raise RunAborted(fatal, self.imputer.llm.provider)


def count_by_source(session: Session, project_id: int, names: Sequence[str], roles: int) -> dict[str, int]:
    """Cells per source type over the project's attributes, plus EMPTY."""
    rows = session.execute(
        select(RoleAttribute.source_type, func.count())
        .join(Role, Role.id == RoleAttribute.role_id)
        .where(
            Role.project_id == project_id,
            RoleAttribute.name.in_(list(names) or [""]),
            RoleAttribute.value.is_not(None),
            func.trim(RoleAttribute.value) != "",
            RoleAttribute.source_type.is_not(None),
        )
        .group_by(RoleAttribute.source_type)
    ).all()
    counts = {source: 0 for source in SourceType.PRECEDENCE}
    for source, count in rows:
        counts[source] = counts.get(source, 0) + int(count)
    counts[EMPTY] = roles * len(names) - sum(counts.values())
    return counts


def impute_project(
    session: Session,
    project_id: int,
    provider: str = "auto",
    steps: Sequence[str] = STEPS,
    progress: Progress | None = None,
    job_id: int | None = None,
    llm: LLMClient | None = None,
    settings: Settings | None = None,
    batch_size: int | None = None,
    lease: str | None = None,
) -> ImputationSummary:
    """Fill the project's empty attribute cells, committing per batch of roles.

    ``lease``: the job's lease token from its claim; each batch write checks it first and raises
    ``JobCancelled`` (writing nothing) once another worker holds the job.

    ``steps`` picks from "hierarchy", "onet", "llm" (always applied in that order). ``llm`` is a
    ready client (tests, the app with its own key); otherwise ``provider`` ("auto" | "anthropic" |
    "openai" | "offline") chooses one, and without a usable one the LLM step is skipped with a note.
    """
    settings = settings or get_settings()
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"Unknown imputation steps: {', '.join(sorted(unknown))}; expected {', '.join(STEPS)}")
    uncounted = uncounted_uploads(session, project_id)
    if uncounted:  # uploads stored before row values were kept: count them once, from their files
        count_uploads(session, uncounted, PIPELINE_USER)
        session.commit()
    summary = ImputationSummary(project_id=project_id, attributes=project_attribute_names(session, project_id))
    role_ids = project_role_ids(session, project_id)
    summary.roles = len(role_ids)
    report = progress or (lambda _done, _total, _message: None)
    if not summary.attributes:
        summary.notes.append("The project has no attribute columns: nothing to impute.")
        report(0, 0, "nothing to impute")
        return summary

    if "llm" in steps:
        if llm is None:
            llm, note = resolve_llm(provider, settings)
            if note:
                summary.notes.append(note)
        if llm is not None:
            summary.llm_provider = f"{llm.provider} ({llm.model})"
    else:
        llm = None
    run = _Run(session, project_id, steps, settings, llm, job_id, summary, lease)

    size = max(1, batch_size or settings.imputation_batch_size)
    report(0, len(role_ids), "starting")
    for start in range(0, len(role_ids), size):
        batch = role_ids[start : start + size]
        run.run_batch(batch)
        session.commit()
        done = start + len(batch)
        report(done, len(role_ids), f"{done} of {len(role_ids)} roles")
    summary.written = {source: run.written.get(source, 0) for source in SourceType.PRECEDENCE if source in run.written}
    summary.counts = count_by_source(session, project_id, summary.attributes, summary.roles)
    return summary
