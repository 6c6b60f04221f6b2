"""Sign-up, sign-in, password changes, profile and deletion on a plain SQLAlchemy session:
no Flask app, no request; the test commits as a door would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mirada.db import AuthThrottle, PasswordResetToken, User, UserSession
from mirada.db.base import utcnow
from mirada.services import accounts, passwords, sessions
from mirada.services.errors import Conflict, ServiceError, TooManyAttempts

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
LIMITS = accounts.SignInLimits(per_account=2, per_address=3, window=timedelta(minutes=15))


def rows(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def sign_in(session: Session, email: str, password: str, device: str | None = None) -> User:
    return accounts.authenticate(
        session=session,
        email=email,
        password=password,
        address="192.0.2.1",
        known_device=lambda _email: device,
        limits=LIMITS,
    )


@pytest.fixture()
def ann(session: Session) -> User:
    user = accounts.register(session=session, email=" Ann@Example.ORG ", password=PASSWORD)
    session.commit()
    return user


def test_register_stores_the_normalized_address_and_a_hash(session: Session, ann: User) -> None:
    assert ann.email == "ann@example.org"
    assert passwords.verify_password(ann.password_hash, PASSWORD)
    assert accounts.find_by_email(session=session, email="ANN@example.org") is ann
    assert accounts.count_users(session=session) == 1


@pytest.mark.parametrize(
    ("fields", "code", "params"),
    [
        ({"email": "not an address"}, "invalid_email", {}),
        ({"password": "short"}, "password_too_short", {"n": passwords.MIN_LENGTH}),
        ({"display_name": "x" * 81}, "display_name_too_long", {"n": 80}),
        ({"display_name": "bell\x07"}, "display_name_invalid", {}),
        ({"locale": "fr"}, "invalid_locale", {}),
        ({"timezone": "Mars/Olympus_Mons"}, "invalid_timezone", {}),
    ],
)
def test_register_refuses_with_a_code_and_writes_nothing(
    session: Session, fields: dict[str, str], code: str, params: dict[str, int]
) -> None:
    values = {"email": "bob@example.org", "password": PASSWORD, **fields}
    with pytest.raises(ServiceError) as refused:
        accounts.register(session=session, **values)

    assert (refused.value.code, refused.value.params) == (code, params)
    assert not session.new and rows(session, User) == 0


def test_an_address_is_registered_once_whatever_its_case(session: Session, ann: User) -> None:
    with pytest.raises(Conflict) as refused:
        accounts.register(session=session, email="ANN@example.org", password=PASSWORD)

    assert refused.value.code == "email_taken"


def test_a_colliding_insert_is_refused_and_the_transaction_goes_on(
    session: Session, ann: User
) -> None:
    """Two requests registering one address at once: the second one's insert fails in its
    savepoint, and what its transaction did before stays (the door may still commit)."""
    other = User(email="bob@example.org", password_hash="x")
    session.add(other)
    session.flush()  # written in this transaction, not committed
    twin = User(email="ann@example.org", password_hash="x")

    with pytest.raises(Conflict):
        accounts.add_user(session=session, user=twin)
    session.commit()

    assert {u.email for u in session.scalars(select(User))} == {ann.email, other.email}


def test_the_right_password_signs_in_and_forgets_the_failures(session: Session, ann: User) -> None:
    with pytest.raises(ServiceError) as wrong:
        sign_in(session, "ann@example.org", "wrong password")
    assert wrong.value.code == "bad_credentials"
    session.commit()  # the door commits the refused attempt
    assert session.get(AuthThrottle, "acct:ann@example.org").failures == 1  # type: ignore[union-attr]

    assert sign_in(session, "ANN@example.org", PASSWORD) is ann

    assert session.get(AuthThrottle, "acct:ann@example.org") is None
    assert session.get(AuthThrottle, "ip:192.0.2.1").failures == 1  # type: ignore[union-attr]


def test_the_attempt_is_committed_before_the_password_is_checked(
    session: Session, engine: Engine, ann: User
) -> None:
    """The door's checkpoint runs once the attempt is counted: another connection sees the
    count while the slow hash check has not even begun."""
    seen: list[int] = []

    def commit_and_look() -> None:
        session.commit()
        with Session(engine) as other:
            row = other.get(AuthThrottle, "acct:ann@example.org")
            seen.append(row.failures if row is not None else 0)

    with pytest.raises(ServiceError):
        accounts.authenticate(
            session=session,
            email="ann@example.org",
            password="not the password",
            address="192.0.2.1",
            known_device=lambda _email: None,
            limits=LIMITS,
            checkpoint=commit_and_look,
        )
    assert seen == [1]


def test_too_many_failures_are_refused_with_the_minutes_to_wait(
    session: Session, ann: User
) -> None:
    for _ in range(LIMITS.per_account):
        with pytest.raises(ServiceError):
            sign_in(session, ann.email, "wrong password")

    with pytest.raises(TooManyAttempts) as throttled:
        sign_in(session, ann.email, PASSWORD)

    assert throttled.value.code == "too_many_attempts"
    assert 0 < throttled.value.retry_after_s <= 15 * 60
    assert throttled.value.params == {"n": -(-throttled.value.retry_after_s // 60)}
    assert sign_in(session, ann.email, PASSWORD, device="known") is ann  # its own counter


def test_an_unknown_address_or_a_disabled_account_is_refused(session: Session, ann: User) -> None:
    with pytest.raises(ServiceError) as nobody:
        sign_in(session, "nobody@example.org", PASSWORD)
    ann.is_active = False
    with pytest.raises(ServiceError) as disabled:
        sign_in(session, ann.email, PASSWORD)

    assert (nobody.value.code, disabled.value.code) == ("bad_credentials", "account_disabled")


def test_changing_the_password_ends_the_other_sessions_and_spends_reset_links(
    session: Session, ann: User
) -> None:
    hour = timedelta(hours=1)
    kept = sessions.start_session(session=session, user=ann, remember=False, lifetime=hour)
    sessions.start_session(session=session, user=ann, remember=False, lifetime=hour)
    link = PasswordResetToken(
        user_id=ann.id, token_hash="h" * 64, created_at=utcnow(), expires_at=utcnow() + hour
    )
    session.add(link)
    session.commit()

    with pytest.raises(ServiceError) as wrong:
        accounts.change_password(
            session=session,
            user=ann,
            current_password="not it",
            new_password=NEW_PASSWORD,
            keep_session=kept,
            limits=LIMITS,
        )
    assert wrong.value.code == "bad_current_password"
    accounts.change_password(
        session=session,
        user=ann,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        keep_session=kept,
        limits=LIMITS,
    )
    session.commit()

    assert passwords.verify_password(ann.password_hash, NEW_PASSWORD)
    assert sessions.count_sessions(session=session, user=ann) == 1
    session.refresh(link)
    assert link.used_at is not None
    assert session.get(AuthThrottle, f"reauth:{ann.id}") is None


def test_a_refused_profile_changes_nothing(session: Session, ann: User) -> None:
    accounts.update_profile(user=ann, display_name="  Ann   Lee ", locale="es", timezone="UTC")
    assert (ann.display_name, ann.locale, ann.timezone) == ("Ann Lee", "es", "UTC")

    with pytest.raises(ServiceError) as refused:
        accounts.update_profile(user=ann, display_name="Bob", locale="en", timezone="Nowhere/X")

    assert refused.value.code == "invalid_timezone"
    assert (ann.display_name, ann.locale, ann.timezone) == ("Ann Lee", "es", "UTC")


def test_a_new_account_adopts_the_browser_time_zone_once(session: Session, ann: User) -> None:
    accounts.adopt_timezone(user=ann, timezone="Not/AZone")
    assert ann.timezone is None
    accounts.adopt_timezone(user=ann, timezone="Europe/Madrid")
    accounts.adopt_timezone(user=ann, timezone="Asia/Tokyo")
    assert ann.timezone == "Europe/Madrid"


def test_deleting_the_account_removes_its_rows_and_names_its_files(
    session: Session, ann: User
) -> None:
    sessions.start_session(session=session, user=ann, remember=False, lifetime=timedelta(hours=1))
    session.commit()
    ann_id = ann.id

    with pytest.raises(ServiceError):
        accounts.delete_account(session=session, user=ann, password="wrong", limits=LIMITS)
    assert rows(session, User) == 1
    prefix = accounts.delete_account(session=session, user=ann, password=PASSWORD, limits=LIMITS)
    session.commit()

    assert prefix == f"users/{ann_id}"
    assert rows(session, User) == 0
    assert rows(session, UserSession) == 0
