"""Engine options that keep database faults short: timeouts, a bounded ping and SQLite pragmas.

PostgreSQL: ``connect_timeout``, server-side ``statement_timeout`` and ``lock_timeout``,
a bounded wait for a pooled connection, and a client-side deadline on every wait for
the server (a frozen server never enforces its own timeouts: the kernel still accepts
the bytes). SQLite: WAL, ``synchronous=NORMAL``, a busy timeout and foreign keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine, make_url

from mirada.config import Settings

PING_DEADLINE_S = 2.0  # a pooled connection that cannot answer ";" this fast is dropped


def engine_options(settings: Settings) -> dict[str, Any]:
    """``create_engine`` options for the configured database."""
    if make_url(settings.sqlalchemy_url).get_backend_name() == "sqlite":
        return {"pool_pre_ping": True}  # the busy timeout is a pragma, below
    server_options = (
        f"-c statement_timeout={int(settings.db_statement_timeout_s * 1000)}"
        f" -c lock_timeout={int(settings.db_lock_timeout_s * 1000)}"
    )
    return {
        "pool_pre_ping": False,  # the checkout ping below has a deadline; SQLAlchemy's has none
        "pool_timeout": settings.db_pool_timeout_s,
        "connect_args": {
            "connect_timeout": settings.db_connect_timeout_s,
            "options": server_options,
        },
    }


def install_fault_limits(engine: Engine, settings: Settings) -> None:
    """Hook the deadlines (PostgreSQL) or the pragmas and nested savepoints (SQLite) into
    ``engine``."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", partial(_sqlite_pragmas, settings.db_lock_timeout_s))
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        return
    if engine.dialect.name == "postgresql":
        # The server stops a statement after statement_timeout; the client waits a little longer.
        deadline = settings.db_statement_timeout_s + 1.0
        connection_class = _deadline_connection_class()
        event.listen(engine, "do_connect", partial(_connect, connection_class, deadline))
        event.listen(engine, "checkout", partial(_ping, engine))


@contextmanager
def without_time_limits(connection: Connection) -> Iterator[None]:
    """No statement, lock or client-side deadline on ``connection`` for a while (migrations)."""
    if connection.dialect.name != "postgresql":
        yield
        return
    dbapi_connection: Any = connection.connection.dbapi_connection
    deadline = dbapi_connection.deadline_s
    connection.exec_driver_sql("SET statement_timeout = 0")
    connection.exec_driver_sql("SET lock_timeout = 0")
    connection.commit()  # session settings; the migrations begin their own transaction
    dbapi_connection.deadline_s = None
    try:
        yield
    finally:
        dbapi_connection.deadline_s = deadline
        connection.exec_driver_sql("RESET statement_timeout")  # back to the connection's own
        connection.exec_driver_sql("RESET lock_timeout")
        connection.commit()


def _sqlite_pragmas(busy_timeout_s: float, dbapi_connection: Any, _record: Any) -> None:
    """Readers beside one writer (WAL), fewer fsyncs, waits on locks, enforced foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")  # and so ON DELETE CASCADE
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Connection, _name: str | None) -> None:
    """Open the transaction before a savepoint when nothing was written yet.

    Python's sqlite3 driver begins a transaction only before a write. A SAVEPOINT outside
    a transaction becomes the transaction itself, and releasing it commits: the door's
    rollback would no longer undo it. An explicit BEGIN first keeps the savepoint nested.
    """
    driver: Any = connection.connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN")


def _connect(
    connection_class: Any, deadline_s: float, _dialect: Any, _record: Any, cargs: Any, cparams: Any
) -> Any:
    connection = connection_class.connect(*cargs, **cparams)
    connection.deadline_s = deadline_s
    return connection


def _ping(engine: Engine, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Before a pooled connection is used: one round trip, within PING_DEADLINE_S."""
    normal = dbapi_connection.deadline_s
    dbapi_connection.deadline_s = PING_DEADLINE_S
    try:
        engine.dialect.do_ping(dbapi_connection)
    except engine.dialect.loaded_dbapi.Error as error:
        # The pool drops this connection and opens a new one (bounded by connect_timeout).
        raise exc.DisconnectionError(str(error)) from error
    finally:
        dbapi_connection.deadline_s = normal


def _deadline_connection_class() -> type:
    """A psycopg connection that gives up on a server silent past its deadline."""
    import psycopg
    from psycopg.connection import _WAIT_INTERVAL
    from psycopg.errors import _WaitTimeout

    class DeadlineConnection(psycopg.Connection):
        deadline_s: float | None = None

        def wait(
            self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None
        ) -> Any:
            """Psycopg's wait for the server, bounded by ``deadline_s`` unless told otherwise."""
            limit = self.deadline_s if timeout is None else timeout
            try:
                return super().wait(gen, interval, limit)
            except _WaitTimeout:
                self.pgconn.finish()  # its state is unknown: never reuse it
                raise psycopg.OperationalError(
                    f"the database did not answer within {limit} s"
                ) from None

    return DeadlineConnection
