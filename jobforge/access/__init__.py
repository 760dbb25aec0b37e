"""Who may do what: users, their role in the store (admin / analyst / viewer) and project membership.

Services that change or reveal a project's data call :func:`require` before acting; the pages and
the CLI call the same services, so a check holds everywhere. ``require`` raises
:class:`PermissionDenied` (a ``JobForgeError``) with a message for the user.

Permissions (what each role gets is decided in :mod:`jobforge.access` itself):

- ``RELEASE_MANAGE`` load, sync or activate an O*NET release (admin)
- ``CODEBOOK_IMPORT`` import a codebook (analyst, admin); ``CODEBOOK_MANAGE`` disable/delete (admin)
- ``DELETE`` delete an upload, a role or a project; archive a project (admin)
- ``USERS_MANAGE`` add users, give roles, project membership (admin)
- ``SECOND_OPINION_SAMPLE`` draw a sample for blind re-coding (admin)
- ``PROJECT_CREATE`` create a project (analyst, admin)
- ``PROJECT_WRITE`` upload, map, review, impute, override in a project (analyst member, admin)
- ``PROJECT_READ`` see and export a project (any member, admin)

This module is the contract other areas code against; the access engineer fills in the checks.
Until then every check passes and every project is visible.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from jobforge.errors import JobForgeError


class Permission(StrEnum):
    RELEASE_MANAGE = "release.manage"
    CODEBOOK_IMPORT = "codebook.import"
    CODEBOOK_MANAGE = "codebook.manage"
    DELETE = "delete"
    USERS_MANAGE = "users.manage"
    SECOND_OPINION_SAMPLE = "second_opinion.sample"
    PROJECT_CREATE = "project.create"
    PROJECT_WRITE = "project.write"
    PROJECT_READ = "project.read"


class PermissionDenied(JobForgeError, PermissionError):
    """The user may not do this; the message names the permission and who can grant it."""


def require(session: Session, user: str, permission: Permission, project_id: int | None = None) -> None:
    """Raise PermissionDenied unless ``user`` holds ``permission`` (in ``project_id`` when given)."""


def visible_project_ids(session: Session, user: str) -> set[int] | None:
    """Ids of the projects ``user`` may see; None means every project (an admin, or no access set-up)."""
    return None
