"""One transaction per command: what a command wrote is committed when it ends well and
rolled back when it fails. Services never commit; the door does, here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from mirada.db import db

P = ParamSpec("P")
R = TypeVar("R")


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
