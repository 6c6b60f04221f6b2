"""What administrators do to accounts, on a plain SQLAlchemy session (no Flask app)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from mirada.db import User
from mirada.services import admin, sessions
from mirada.services.errors import NotFound, ServiceError


def add(session: Session, email: str, *, is_admin: bool = False, name: str = "") -> User:
    user = User(email=email, password_hash="x", is_admin=is_admin, display_name=name)
    session.add(user)
    session.flush()
    return user


def test_the_last_active_administrator_stays(session: Session) -> None:
    root, other = add(session, "root@example.org", is_admin=True), add(session, "u@example.org")

    for change in (
        lambda: admin.set_admin(session=session, actor=None, target=root, admin=False),
        lambda: admin.set_active(session=session, actor=None, target=root, active=False),
    ):
        with pytest.raises(ServiceError) as refused:
            change()
        assert refused.value.code == "last_admin"
    assert root.is_admin and root.is_active

    admin.set_admin(session=session, actor=root, target=other, admin=True)
    admin.set_admin(session=session, actor=None, target=root, admin=False)
    assert other.is_admin and not root.is_admin


def test_an_administrator_cannot_change_their_own_account(session: Session) -> None:
    root = add(session, "root@example.org", is_admin=True)
    add(session, "second@example.org", is_admin=True)

    with pytest.raises(ServiceError) as refused:
        admin.set_active(session=session, actor=root, target=root, active=False)

    assert refused.value.code == "cannot_change_self" and root.is_active


def test_disabling_ends_every_session(session: Session) -> None:
    user = add(session, "u@example.org")
    for _ in range(2):
        sessions.start_session(
            session=session, user=user, remember=False, lifetime=timedelta(hours=1)
        )

    admin.set_active(session=session, actor=None, target=user, active=False)

    assert not user.is_active
    assert sessions.count_sessions(session=session, user=user) == 0


def test_users_are_found_by_id_or_address_and_listed_by_search(session: Session) -> None:
    users = [add(session, f"user{i}@example.org", name=f"Name {i}") for i in range(5)]
    add(session, "odd_one@example.org", name="100% real")

    assert admin.get_user(session=session, user_id=users[0].id) is users[0]
    assert admin.get_user_by_email(session=session, email="USER1@example.org") is users[1]
    for missing in (
        lambda: admin.get_user(session=session, user_id=10**30),
        lambda: admin.get_user_by_email(session=session, email="nobody@example.org"),
    ):
        with pytest.raises(NotFound):
            missing()
    page = admin.list_users(session=session, search="user", page=2, per_page=2)
    assert (page.total, page.pages, page.page) == (5, 3, 2)
    assert [u.email for u in page.users] == ["user2@example.org", "user1@example.org"]
    assert [u.email for u in admin.list_users(session=session, search="%").users] == [
        "odd_one@example.org"
    ]
    assert admin.list_users(session=session, search="_").total == 1


def test_limits_are_positive_or_the_default(session: Session) -> None:
    user = add(session, "u@example.org")
    admin.set_limits(target=user, photos=10, storage_bytes=5_000_000)

    with pytest.raises(ServiceError) as refused:
        admin.set_limits(target=user, photos=0, storage_bytes=None)

    assert refused.value.code == "photo_limit_invalid"
    assert (user.photo_limit, user.storage_limit_bytes) == (10, 5_000_000)
    admin.set_limits(target=user, photos=None, storage_bytes=None)
    assert (user.photo_limit, user.storage_limit_bytes) == (None, None)


def test_a_named_change_says_whether_the_account_already_was_so(session: Session) -> None:
    add(session, "root@example.org", is_admin=True)
    user = add(session, "u@example.org")

    assert admin.change_account(session=session, actor=None, target=user, change="promote") is False
    assert admin.change_account(session=session, actor=None, target=user, change="promote") is True
    assert admin.change_account(session=session, actor=None, target=user, change="disable") is False
    assert user.is_admin and not user.is_active
    assert set(admin.CHANGES) == {"disable", "enable", "promote", "demote"}
