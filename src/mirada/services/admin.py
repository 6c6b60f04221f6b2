"""What administrators do to other accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mirada.db import User
from mirada.db.base import MAX_ID
from mirada.services import accounts, sessions
from mirada.services.errors import NotFound, ServiceError

PAGE_SIZE = 25


@dataclass(frozen=True)
class UserPage:
    """One page of the user list."""

    users: list[User]
    page: int
    pages: int
    total: int


def list_users(
    *, session: Session, search: str = "", page: int = 1, per_page: int = PAGE_SIZE
) -> UserPage:
    """Users whose email or name contains ``search``, newest first, one page at a time."""
    query = select(User)
    search = search.replace("\x00", "").strip()[:254]  # PostgreSQL text cannot hold NUL
    if search:
        pattern = (
            "%" + search.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
        query = query.where(
            or_(
                User.email.like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    users = session.scalars(
        query.order_by(User.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return UserPage(users=list(users), page=page, pages=pages, total=total)


def get_user(*, session: Session, user_id: int) -> User:
    """A user by id, or NotFound."""
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound("user_not_found")
    return user


def get_user_by_email(*, session: Session, email: str) -> User:
    """A user by email address, whatever its case, or NotFound."""
    user = accounts.find_by_email(session=session, email=email)
    if user is None:
        raise NotFound("user_not_found")
    return user


def _check_change(*, session: Session, actor: User | None, target: User, keeps_admin: bool) -> None:
    """The rules every door follows; ``actor`` is None for someone at the server's shell."""
    if actor is not None and actor.id == target.id:
        raise ServiceError("cannot_change_self")
    if keeps_admin or not (target.is_admin and target.is_active):
        return
    others = session.scalar(
        select(func.count(User.id)).where(
            User.is_admin.is_(True), User.is_active.is_(True), User.id != target.id
        )
    )
    if not others:
        raise ServiceError("last_admin")


def set_active(*, session: Session, actor: User | None, target: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    _check_change(session=session, actor=actor, target=target, keeps_admin=active)
    target.is_active = active
    if not active:
        sessions.end_user_sessions(session=session, user=target)


def set_admin(*, session: Session, actor: User | None, target: User, admin: bool) -> None:
    """Promote a user to administrator or demote one."""
    _check_change(session=session, actor=actor, target=target, keeps_admin=admin)
    target.is_admin = admin


# What an administrator can do to an account: the flag each change sets, and to what.
_CHANGES = {
    "disable": ("is_active", False),
    "enable": ("is_active", True),
    "promote": ("is_admin", True),
    "demote": ("is_admin", False),
}
CHANGES = tuple(_CHANGES)


def change_account(*, session: Session, actor: User | None, target: User, change: str) -> bool:
    """Apply ``change`` (one of ``CHANGES``) to ``target``, by the same rules as
    ``set_active`` and ``set_admin``; returns whether the account already was so."""
    flag, value = _CHANGES[change]
    already = bool(getattr(target, flag)) == value
    if flag == "is_active":
        set_active(session=session, actor=actor, target=target, active=value)
    else:
        set_admin(session=session, actor=actor, target=target, admin=value)
    return already


MAX_PHOTO_LIMIT = 2**31 - 1
MAX_STORAGE_LIMIT_BYTES = 2**62


def set_limits(*, target: User, photos: int | None, storage_bytes: int | None) -> None:
    """Give a user their own limits; None goes back to the defaults from the settings."""
    if photos is not None and not 0 < photos <= MAX_PHOTO_LIMIT:
        raise ServiceError("photo_limit_invalid")
    if storage_bytes is not None and not 0 < storage_bytes <= MAX_STORAGE_LIMIT_BYTES:
        raise ServiceError("storage_limit_invalid")
    target.photo_limit = photos
    target.storage_limit_bytes = storage_bytes
