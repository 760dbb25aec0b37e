"""Who may do what: users, their role in the store (admin / analyst / viewer) and project membership.

Services that change or reveal a project's data call :func:`require` before acting; the pages and
the CLI call the same services, so a check holds everywhere. ``require`` raises
:class:`PermissionDenied` (a ``JobForgeError``) with a message for the user.

Permissions (what each role gets is in :data:`jobforge.access.permissions.GRANTS`):

- ``RELEASE_MANAGE`` load, sync or activate an O*NET release (admin)
- ``CODEBOOK_IMPORT`` import a codebook (analyst, admin); ``CODEBOOK_MANAGE`` disable/delete (admin)
- ``DELETE`` delete an upload, a role or a project; archive a project (admin)
- ``USERS_MANAGE`` add users, give roles, project membership (admin)
- ``SECOND_OPINION_SAMPLE`` draw a sample for blind re-coding (admin)
- ``PROJECT_CREATE`` create a project (analyst, admin)
- ``PROJECT_WRITE`` upload, map, review, impute, override in a project (analyst member, admin)
- ``PROJECT_READ`` see and export a project (any member, admin)

The first user of a store is its admin; while it has only that one user every check passes (a
single-user store needs no set-up). Modules: :mod:`.users` (who), :mod:`.membership` (which
projects), :mod:`.checks` (the rules), :mod:`.manage` (admins changing users and members).
"""

from __future__ import annotations

from jobforge.access.checks import access_is_open, allowed, require, visible_project_ids
from jobforge.access.permissions import Permission, PermissionDenied, UserRole

__all__ = [
    "Permission",
    "PermissionDenied",
    "UserRole",
    "access_is_open",
    "allowed",
    "require",
    "visible_project_ids",
]
