"""One transaction per command: what a command wrote is committed when it ends well and
rolled back when it fails. Services never commit; the door does, here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.orm import Session

from mirada.db.app_session import db

P = ParamSpec("P")
R = TypeVar("R")


def command_session() -> Session:
    """The command's database session (its app context's); ``@committed`` ends it.

    The commands hand it to the services; they never query with it themselves.
    """
    return db.session()


def committed(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command`` (inside an app context) as one transaction."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = command(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return run
