"""What each user may keep: a number of photos and a number of bytes, checked before work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Classification, Example, Project, User
from mirada.services.errors import ServiceError


class QuotaExceeded(ServiceError):
    """An upload that would take the user over one of their limits; nothing of it was kept."""

    status = 413


@dataclass(frozen=True)
class Usage:
    """How many photos a user keeps (examples and classified photos) and their bytes."""

    photos: int
    bytes: int


@dataclass(frozen=True)
class Limits:
    """The most a user may keep."""

    photos: int
    bytes: int


@dataclass(frozen=True)
class Standing:
    """A user's usage beside their limits."""

    usage: Usage
    limits: Limits

    @property
    def bytes_share(self) -> float:
        """The share of the storage limit in use, 0 to 1."""
        return min(1.0, self.usage.bytes / self.limits.bytes)


def usage(*, session: Session, user_id: int) -> Usage:
    """What the user keeps now (one query over their examples and their history)."""
    kept = union_all(
        select(Example.size_bytes.label("size"))
        .join(Project, Project.id == Example.project_id)
        .where(Project.user_id == user_id),
        select(Classification.size_bytes.label("size")).where(Classification.user_id == user_id),
    ).subquery()
    photos, size = session.execute(
        select(func.count(), func.coalesce(func.sum(kept.c.size), 0)).select_from(kept)
    ).one()
    return Usage(photos=int(photos), bytes=int(size))


def usage_by_user(*, session: Session, user_ids: list[int]) -> dict[int, Usage]:
    """What each of ``user_ids`` keeps (two grouped queries, for a page of the user list)."""
    examples = session.execute(
        select(
            Project.user_id, func.count(Example.id), func.coalesce(func.sum(Example.size_bytes), 0)
        )
        .join(Project, Project.id == Example.project_id)
        .where(Project.user_id.in_(user_ids))
        .group_by(Project.user_id)
    ).all()
    history = session.execute(
        select(
            Classification.user_id,
            func.count(Classification.id),
            func.coalesce(func.sum(Classification.size_bytes), 0),
        )
        .where(Classification.user_id.in_(user_ids))
        .group_by(Classification.user_id)
    ).all()
    totals = {user_id: [0, 0] for user_id in user_ids}
    for user_id, count, size in [*examples, *history]:
        totals[user_id][0] += int(count)
        totals[user_id][1] += int(size)
    return {user_id: Usage(photos=c, bytes=b) for user_id, (c, b) in totals.items()}


def limits(*, user: User, settings: Settings) -> Limits:
    """The user's own limits, or the defaults from the settings."""
    return Limits(
        photos=user.photo_limit if user.photo_limit is not None else settings.user_max_photos,
        bytes=(
            user.storage_limit_bytes
            if user.storage_limit_bytes is not None
            else settings.user_storage_bytes
        ),
    )


def standing(*, session: Session, user: User, settings: Settings) -> Standing:
    """The user's usage and limits, for the account and admin pages."""
    return Standing(
        usage=usage(session=session, user_id=user.id), limits=limits(user=user, settings=settings)
    )


@dataclass(frozen=True)
class Incoming:
    """What an upload brings, announced before any of it is read: photos and bytes."""

    photos: int
    size: int


def check_room(
    *,
    session: Session,
    user_id: int,
    settings: Settings,
    photos: int,
    size: int,
    lock: bool = False,
) -> None:
    """Refuse (QuotaExceeded) when ``photos`` more photos of ``size`` bytes would not fit.

    With ``lock`` the user's row is locked first (PostgreSQL), so that concurrent
    uploads of one user are checked one after the other until the caller commits.
    """
    if lock:
        query = select(User).where(User.id == user_id).with_for_update()
        user = session.scalar(query)
    else:
        user = session.get(User, user_id)  # no query when the session holds it already
    if user is None:
        return
    allowed = limits(user=user, settings=settings)
    used = usage(session=session, user_id=user_id)
    if used.photos + photos > allowed.photos:
        raise QuotaExceeded("photo_limit", limit=allowed.photos, used=used.photos)
    if used.bytes + size > allowed.bytes:
        raise QuotaExceeded("storage_limit", limit=allowed.bytes, used=used.bytes)
