"""What administrators do to other accounts."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from mirada.db import User, db
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


def list_users(*, search: str = "", page: int = 1, per_page: int = PAGE_SIZE) -> UserPage:
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
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    users = db.session.scalars(
        query.order_by(User.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return UserPage(users=list(users), page=page, pages=pages, total=total)


def get_user(user_id: int) -> User:
    """A user by id, or NotFound."""
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound("user_not_found", _l("No such user."))
    return user


def get_user_by_email(email: str) -> User:
    """A user by email address, whatever its case, or NotFound."""
    user = accounts.find_by_email(email)
    if user is None:
        raise NotFound("user_not_found", _l("No such user."))
    return user


def _check_change(*, actor: User | None, target: User, keeps_admin: bool) -> None:
    """The rules every door follows; ``actor`` is None for someone at the server's shell."""
    if actor is not None and actor.id == target.id:
        raise ServiceError(
            "cannot_change_self",
            _l("You cannot change your own account here; ask another administrator."),
        )
    if keeps_admin or not (target.is_admin and target.is_active):
        return
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.is_admin.is_(True), User.is_active.is_(True), User.id != target.id
        )
    )
    if not others:
        raise ServiceError(
            "last_admin",
            _l("This is the last active administrator; make another one first."),
        )


def set_active(*, actor: User | None, target: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    _check_change(actor=actor, target=target, keeps_admin=active)
    target.is_active = active
    db.session.commit()
    if not active:
        sessions.end_user_sessions(user=target)


def set_admin(*, actor: User | None, target: User, admin: bool) -> None:
    """Promote a user to administrator or demote one."""
    _check_change(actor=actor, target=target, keeps_admin=admin)
    target.is_admin = admin
    db.session.commit()


MAX_PHOTO_LIMIT = 2**31 - 1
MAX_STORAGE_LIMIT_BYTES = 2**62


def set_limits(*, target: User, photos: int | None, storage_bytes: int | None) -> None:
    """Give a user their own limits; None goes back to the defaults from the settings."""
    if photos is not None and not 0 < photos <= MAX_PHOTO_LIMIT:
        raise ServiceError("photo_limit_invalid", _l("The photo limit must be a positive number."))
    if storage_bytes is not None and not 0 < storage_bytes <= MAX_STORAGE_LIMIT_BYTES:
        raise ServiceError(
            "storage_limit_invalid", _l("The storage limit must be a positive number.")
        )
    target.photo_limit = photos
    target.storage_limit_bytes = storage_bytes
    db.session.commit()
