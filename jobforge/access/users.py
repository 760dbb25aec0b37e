"""Users of the store: looking them up by name, and the first user of a new store becoming its admin.

Names are people's names or (with OIDC) e-mail addresses. Two spellings that differ only in case or
spacing are the same user (:func:`name_key`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobforge.access.permissions import UserRole
from jobforge.db.models import AppUser
from jobforge.errors import JobForgeError
from jobforge.review import audit

MAX_NAME_LENGTH = 200


class UserError(JobForgeError, ValueError):
    """A user cannot be added, changed or removed; the message says why."""


def clean_name(name: str | None) -> str:
    """The name with its spacing tidied; :class:`UserError` when empty or too long."""
    clean = " ".join((name or "").split())
    if not clean:
        raise UserError("Give the user a name.")
    if len(clean) > MAX_NAME_LENGTH:
        raise UserError(f"A user name can have at most {MAX_NAME_LENGTH} characters.")
    return clean


def name_key(name: str | None) -> str:
    """What identifies a user: the name with spacing tidied and case folded ("Ada  LOVELACE" -> "ada lovelace")."""
    return " ".join((name or "").split()).casefold()


def find_user(session: Session, name: str | None) -> AppUser | None:
    key = name_key(name)
    return session.scalar(select(AppUser).where(AppUser.name_key == key)) if key else None


def user_count(session: Session) -> int:
    return int(session.scalar(select(func.count(AppUser.id))) or 0)


def list_users(session: Session) -> Sequence[AppUser]:
    """Every user, admins first, then by name."""
    order = {UserRole.ADMIN.value: 0, UserRole.ANALYST.value: 1, UserRole.VIEWER.value: 2}
    users = session.scalars(select(AppUser)).all()
    return sorted(users, key=lambda u: (order.get(u.role, 3), u.name_key))


def admin_names(session: Session, limit: int = 3) -> list[str]:
    """Who can grant access, for messages."""
    return list(
        session.scalars(
            select(AppUser.name).where(AppUser.role == UserRole.ADMIN.value).order_by(AppUser.name_key).limit(limit)
        )
    )


def create_user(session: Session, name: str, role: UserRole, by: str | None) -> AppUser:
    """Insert a user (no permission check: callers check). :class:`UserError` when the name is taken."""
    clean = clean_name(name)
    existing = find_user(session, clean)
    if existing is not None:
        raise UserError(f"'{existing.name}' is already a user ({existing.role}).")
    user = AppUser(name=clean, name_key=name_key(clean), role=UserRole(role).value, created_by=by)
    session.add(user)
    session.flush()
    return user


def ensure_first_admin(session: Session, name: str) -> AppUser | None:
    """In a store without users, make ``name`` its admin (audited; the caller commits).

    Returns the new admin, or None when the store already has users (nothing changes). This is how
    a single-user store needs no set-up: whoever uses it first runs it.
    """
    if user_count(session) > 0 or not name_key(name):
        return None
    user = create_user(session, name, UserRole.ADMIN, by=None)
    audit.record(session, user.name, "first_admin", "user", user.id, None, after={"name": user.name, "role": "admin"})
    return user
