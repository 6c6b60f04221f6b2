"""Fixtures shared by the whole suite: apps on SQLite and PostgreSQL, a client, captured mail."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from skimage import data
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mirada.config import Settings
from mirada.db.app_session import db
from mirada.web import create_app
from tests.support.images import encode
from tests.support.mail import MailCatcher
from tests.support.web import WebClient

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_PATH = REPO_ROOT / "instance" / "models" / "efficientnet-lite0.onnx"
POSTGRES_ADMIN_URL = os.environ.get(
    "MIRADA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"mirada_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The ONNX backbone: ``MIRADA_MODEL_PATH`` when it names a file, else exported once."""
    configured = os.environ.get("MIRADA_MODEL_PATH")
    if configured and Path(configured).is_file():
        return Path(configured)
    if not DEFAULT_MODEL_PATH.is_file():
        from mirada.vision.export import export_backbone

        export_backbone(DEFAULT_MODEL_PATH)
    return DEFAULT_MODEL_PATH


@pytest.fixture(scope="session")
def cat_jpeg() -> bytes:
    """scikit-image's photo of Chelsea the cat, as JPEG bytes."""
    return encode(data.chelsea(), quality=90)


@pytest.fixture(scope="session")
def coffee_jpeg() -> bytes:
    """scikit-image's photo of a cup of espresso, as JPEG bytes."""
    return encode(data.coffee(), quality=90)


@pytest.fixture(scope="session")
def mail_catcher() -> Iterator[MailCatcher]:
    """A real SMTP server on loopback that keeps what it receives."""
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    """Settings for a test app: its own data folder, the given database."""
    values: dict[str, object] = {
        "env": "testing",
        "secret_key": "test-secret-" + uuid.uuid4().hex,
        "data_dir": tmp_path / "data",
        "database_url": database_url,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database the test runs on."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test's database URL: a new SQLite file, or the session's PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@contextmanager
def app_on(settings: Settings) -> Iterator[Flask]:
    """An app on ``settings`` with empty tables; afterwards its tables are emptied, its
    background threads stopped and its mail flushed."""
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    yield app
    app.extensions["mirada.reaper"].stop()  # its next round would find no tables
    app.extensions["mirada.later"].flush()  # no mail of this test arrives during the next
    with app.app_context():
        db.session.remove()
        if settings.sqlalchemy_url.startswith("sqlite"):
            db.drop_all()
        else:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app(
    tmp_path: Path, database_url: str, mail_catcher: MailCatcher, model_path: Path
) -> Iterator[Flask]:
    """An app with empty tables, its mail going to the catcher."""
    settings = make_settings(
        tmp_path,
        database_url,
        mail_server="127.0.0.1",
        mail_port=mail_catcher.port,
        model_path=model_path,
    )
    with app_on(settings) as app:
        yield app
    mail_catcher.clear()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client for ``app``."""
    return app.test_client()


@pytest.fixture
def web(app: Flask) -> WebClient:
    """A client that fills forms the way a browser does, CSRF token included."""
    return WebClient(app)
