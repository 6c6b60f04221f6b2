"""Services run without a Flask app: a plain SQLAlchemy session on a fresh database.

Each test gets its own SQLite file (and, with the ``backend`` parameter, PostgreSQL),
the tables made from the models, and a session the test commits or rolls back itself,
as a door would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mirada.config import Settings
from mirada.db import Base
from mirada.storage.local import LocalBlobStore


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file with every table, foreign keys enforced as in the app."""
    engine = create_engine(f"sqlite:///{tmp_path / 'services.db'}")

    @event.listens_for(engine, "connect")
    def _foreign_keys(connection, _record):  # type: ignore[no-untyped-def]
        connection.execute("PRAGMA foreign_keys=ON")

    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    """A session outside any Flask app; what the test does not commit is rolled back."""
    with sessionmaker(engine, expire_on_commit=False)() as session:
        yield session
        session.rollback()


@pytest.fixture()
def service_settings(tmp_path: Path) -> Settings:
    """Settings for services under test: a data folder of their own, test mode."""
    return Settings(env="testing", data_dir=tmp_path / "data", secret_key="x" * 32)


@pytest.fixture()
def blobs(service_settings: Settings) -> LocalBlobStore:
    """A blob store in the test's own data folder."""
    return LocalBlobStore(service_settings.resolved_data_dir / "blobs")
