"""On SQLite a savepoint opened before any write stays inside the door's transaction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mirada.db import User


def _user(email: str) -> User:
    return User(email=email, password_hash="x", display_name=email.split("@")[0])


def test_a_rollback_undoes_a_savepoint_opened_before_any_write(engine: Engine) -> None:
    with Session(engine) as session:
        with session.begin_nested():
            session.add(_user("first@example.org"))
        session.rollback()
    with Session(engine) as session:
        assert session.scalar(select(func.count(User.id))) == 0


def test_a_commit_keeps_what_the_savepoint_wrote(engine: Engine) -> None:
    with Session(engine) as session:
        with session.begin_nested():
            session.add(_user("kept@example.org"))
        session.commit()
    with Session(engine) as session:
        assert session.scalar(select(func.count(User.id))) == 1
