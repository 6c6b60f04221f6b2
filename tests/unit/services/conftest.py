"""Services run without a Flask app: a plain SQLAlchemy session on a fresh database.

Each test gets its own SQLite file (and, with the ``backend`` parameter, PostgreSQL),
the tables made from the models, and a session the test commits or rolls back itself,
as a door would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mirada.config import Settings
from mirada.db import Base
from mirada.db.engine import install_fault_limits
from mirada.storage.local import LocalBlobStore


@pytest.fixture()
def engine(tmp_path: Path, service_settings: Settings) -> Iterator[Engine]:
    """A SQLite file with every table, set up as the app sets up its own (pragmas, savepoints)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'services.db'}")
    install_fault_limits(engine, service_settings)
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
