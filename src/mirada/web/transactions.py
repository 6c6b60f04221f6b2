"""One transaction per request: the view's writes are committed when it returns, rolled
back when it raises. Services never commit; the door does, here."""

from __future__ import annotations

from flask import Flask
from flask.typing import ResponseReturnValue

from mirada.db.app_session import db


class TransactionalFlask(Flask):
    """A Flask app whose views each run in one database transaction."""

    def dispatch_request(self) -> ResponseReturnValue:
        try:
            answer = super().dispatch_request()
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return answer
