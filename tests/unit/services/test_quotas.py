"""Quotas count a user's photos in the session and refuse with raw numbers (the presenters
format them for the reader)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Classification
from mirada.services import projects, quotas
from mirada.services.quotas import QuotaExceeded
from tests.unit.services.owners import a_user


def _classified(session: Session, user_id: int, size: int) -> None:
    session.add(
        Classification(
            user_id=user_id,
            content_type="image/png",
            image_key=f"k{size}",
            thumbnail_key=f"t{size}",
            width=1,
            height=1,
            size_bytes=size,
            model_name="m",
            model_version="1",
            top_label="cat",
            top_score=0.5,
            predictions=[],
        )
    )


def test_usage_counts_what_the_session_holds(session: Session, service_settings: Settings) -> None:
    ann, bob = a_user(session), a_user(session, "bob@example.org")
    _classified(session, ann.id, 1000)
    _classified(session, ann.id, 2000)
    session.flush()  # not committed: the same transaction sees it
    assert quotas.usage(session=session, user_id=ann.id) == quotas.Usage(photos=2, bytes=3000)
    both = quotas.usage_by_user(session=session, user_ids=[ann.id, bob.id])
    assert both == {ann.id: quotas.Usage(2, 3000), bob.id: quotas.Usage(0, 0)}
    standing = quotas.standing(session=session, user=ann, settings=service_settings)
    assert standing.limits.photos == service_settings.user_max_photos


def test_over_the_photo_limit_is_refused_with_the_numbers(
    session: Session, service_settings: Settings
) -> None:
    user = a_user(session, photo_limit=2)
    _classified(session, user.id, 10)
    with pytest.raises(QuotaExceeded) as refused:
        quotas.check_room(
            session=session, user_id=user.id, settings=service_settings, photos=2, size=1
        )
    assert (refused.value.code, refused.value.params) == ("photo_limit", {"limit": 2, "used": 1})
    assert refused.value.status == 413
    quotas.check_room(session=session, user_id=user.id, settings=service_settings, photos=1, size=1)


def test_over_the_storage_limit_is_refused_in_bytes(
    session: Session, service_settings: Settings
) -> None:
    user = a_user(session, storage_limit_bytes=5_000_000)
    projects.create_project(session=session, user=user, name="Birds")
    _classified(session, user.id, 4_000_000)
    with pytest.raises(QuotaExceeded) as refused:
        quotas.check_room(
            session=session,
            user_id=user.id,
            settings=service_settings,
            photos=1,
            size=1_500_000,
            lock=True,
        )
    assert refused.value.code == "storage_limit"
    assert refused.value.params == {"limit": 5_000_000, "used": 4_000_000}
