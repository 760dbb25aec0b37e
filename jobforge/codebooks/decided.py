"""The store's decided titles, read for the vote: analysts' decisions and enabled codebook entries.

``JOBFORGE_LEARNING_SCOPE`` = "store" (default): decisions of every project teach every project;
"project": only the project's own decisions (then no rationale names another project, analyst or
title). Enabled codebooks are the store's and teach every project either way. Decisions taken in
bulk (confirm all HIGH) weigh half: nobody looked at those roles one by one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.codebooks.vote import DecidedIndex, DecidedTitle
from jobforge.config import get_settings
from jobforge.db.models import Codebook, CodebookEntry, Mapping, MappingStatus, Project, Role
from jobforge.errors import JobForgeError

LEARNING_SCOPES = ("store", "project")
BULK_WEIGHT = 0.5


class LearningScopeError(JobForgeError, ValueError):
    pass


def learning_scope() -> str:
    scope = (get_settings().learning_scope or "store").strip().lower()
    if scope not in LEARNING_SCOPES:
        raise LearningScopeError(f"JOBFORGE_LEARNING_SCOPE is '{scope}': choose one of {', '.join(LEARNING_SCOPES)}.")
    return scope


def decided_titles(
    session: Session,
    project_id: int | None = None,
    decisions: bool = True,
    codebooks: bool = True,
    visible: set[int] | None = None,
) -> list[DecidedTitle]:
    """Decisions (of ``project_id`` only under the "project" scope; of the ``visible`` project ids
    only when given, so nobody learns titles of a project they may not see) and enabled codebook
    entries."""
    found: list[DecidedTitle] = []
    if decisions:
        query = (
            select(
                Role.title,
                Mapping.onet_code,
                Mapping.status,
                Project.name,
                Mapping.confirmed_by,
                Mapping.confirmed_at,
                Role.project_id,
                Mapping.decided_in_bulk,
            )
            .join(Role, Mapping.role_id == Role.id)
            .join(Project, Role.project_id == Project.id)
            .where(Mapping.status.in_(MappingStatus.ANALYST_OWNED), Mapping.onet_code.is_not(None))
        )
        if learning_scope() == "project" and project_id is not None:
            query = query.where(Role.project_id == project_id)
        if visible is not None:
            query = query.where(Role.project_id.in_(sorted(visible | ({project_id} if project_id else set()))))
        for title, code, status, project, by, at, pid, bulk in session.execute(query):
            weight = BULK_WEIGHT if bulk else 1.0
            found.append(DecidedTitle(title, (code,), status, project, by, at, pid, weight))
    if codebooks:
        query = (
            select(CodebookEntry.title, CodebookEntry.codes, Codebook.name, Codebook.imported_by, Codebook.imported_at)
            .join(Codebook, Codebook.id == CodebookEntry.codebook_id)
            .where(Codebook.enabled.is_(True))
        )
        for title, codes, name, by, at in session.execute(query):
            found.append(DecidedTitle(title, tuple(codes or ()), "codebook", name, by, at))
    return found


def decided_index(
    session: Session,
    project_id: int | None = None,
    decisions: bool = True,
    codebooks: bool = True,
    user: str | None = None,
) -> DecidedIndex | None:
    """The vote's index over :func:`decided_titles` as ``user`` may see them (None: every project);
    None when there is no decided title."""
    from jobforge.access import visible_project_ids

    visible = visible_project_ids(session, user) if user else None
    titles = decided_titles(session, project_id, decisions, codebooks, visible)
    return DecidedIndex(titles) if titles else None
