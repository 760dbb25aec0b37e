"""What can be asked for (:class:`Permission`), who gets it by role, and the refusal (:class:`PermissionDenied`)."""

from __future__ import annotations

from enum import StrEnum

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


class UserRole(StrEnum):
    """A user's access role in the store."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


# What each role may do. Project permissions also need membership of the project (admins excepted).
GRANTS: dict[UserRole, frozenset[Permission]] = {
    UserRole.ADMIN: frozenset(Permission),
    UserRole.ANALYST: frozenset(
        {Permission.PROJECT_CREATE, Permission.CODEBOOK_IMPORT, Permission.PROJECT_WRITE, Permission.PROJECT_READ}
    ),
    UserRole.VIEWER: frozenset({Permission.PROJECT_READ}),
}

# For messages: "<name> may not <what>".
WHAT: dict[Permission, str] = {
    Permission.RELEASE_MANAGE: "load, sync or activate O*NET releases",
    Permission.CODEBOOK_IMPORT: "import codebooks",
    Permission.CODEBOOK_MANAGE: "disable or delete codebooks",
    Permission.DELETE: "delete uploads, roles or projects",
    Permission.USERS_MANAGE: "add users, change roles or project members",
    Permission.SECOND_OPINION_SAMPLE: "draw samples for a second opinion",
    Permission.PROJECT_CREATE: "create projects",
    Permission.PROJECT_WRITE: "upload, map, review or change attributes",
    Permission.PROJECT_READ: "see or export projects",
}


def role_of(text: str) -> UserRole:
    """``"Analyst"`` -> UserRole.ANALYST; ValueError naming the roles otherwise."""
    try:
        return UserRole((text or "").strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in UserRole)
        raise ValueError(f"'{text}' is not a role: use one of {roles}.") from None
