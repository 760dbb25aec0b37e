"""The checks services make before they act: :func:`require`, :func:`allowed`, :func:`visible_project_ids`.

Rules, in order:

1. A store without users makes the first name that acts its admin (:func:`ensure_first_admin`).
2. While the store has only that one user, every check passes and every project is visible: a
   single-user store needs no set-up, and a team's access control starts when an admin adds the
   second user.
3. An admin may do everything, everywhere.
4. Otherwise the user's role must grant the permission (:data:`GRANTS`), and a check about a
   project also needs the user to be a member of it. A name that is not a user gets nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jobforge.access.membership import is_member, member_project_ids
from jobforge.access.permissions import GRANTS, WHAT, Permission, PermissionDenied, UserRole
from jobforge.access.users import admin_names, ensure_first_admin, find_user, name_key, user_count


def require(session: Session, user: str, permission: Permission, project_id: int | None = None) -> None:
    """Raise PermissionDenied unless ``user`` holds ``permission`` (in ``project_id`` when given).

    In a store without users, ``user`` becomes its admin first (written in the caller's transaction).
    """
    if name_key(user) and user_count(session) == 0:
        ensure_first_admin(session, user)
    refusal = _refusal(session, user, Permission(permission), project_id)
    if refusal is not None:
        raise PermissionDenied(refusal)


def allowed(session: Session, user: str, permission: Permission, project_id: int | None = None) -> bool:
    """Whether :func:`require` would pass, without side effects (for showing or hiding controls)."""
    return _refusal(session, user, Permission(permission), project_id) is None


def access_is_open(session: Session) -> bool:
    """True while the store has at most one user: every check passes (rule 2 above)."""
    return user_count(session) <= 1


def visible_project_ids(session: Session, user: str) -> set[int] | None:
    """Ids of the projects ``user`` may see; None means every project (an admin, or no access set-up)."""
    if access_is_open(session):
        return None
    found = find_user(session, user)
    if found is not None and found.role == UserRole.ADMIN:
        return None
    if found is None:
        return set()
    return member_project_ids(session, user)


def _refusal(session: Session, user: str, permission: Permission, project_id: int | None) -> str | None:
    """None when allowed, else the sentence that says why not and who can change it."""
    if not name_key(user):
        return "Sign in first: every change is recorded under your name."
    if access_is_open(session):
        return None
    found = find_user(session, user)
    if found is None:
        return (
            f"'{user}' is not a user of this JobForge store yet: {_ask_admin(session)} can add you "
            "(Admin → Users, or `python -m jobforge users add NAME --role analyst`)."
        )
    role = UserRole(found.role)
    if role == UserRole.ADMIN:
        return None
    if permission not in GRANTS[role]:
        needed = UserRole.ANALYST if permission in GRANTS[UserRole.ANALYST] else UserRole.ADMIN
        admin = _ask_admin(session)
        return f"{found.name} is {_a(role)} and may not {WHAT[permission]}: {admin} can make you {_a(needed)}."
    if project_id is not None and not is_member(session, found.name, project_id):
        # The project's name is not given: a non-member may not learn what the project is called.
        return f"{found.name} is not a member of this project: {_ask_admin(session)} can add you to it."
    return None


def _a(role: UserRole) -> str:
    return f"an {role.value}" if role.value[0] in "aeiou" else f"a {role.value}"


def _ask_admin(session: Session) -> str:
    names = admin_names(session)
    return f"an admin ({', '.join(names)})" if names else "an admin"
