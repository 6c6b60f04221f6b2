"""The migrations build exactly the schema of the models, and undo it, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import JSON, MetaData, Table, create_engine, inspect, text
from sqlalchemy.engine import make_url

from mirada.db import User
from mirada.db.app_session import db
from mirada.services import accounts
from mirada.services.errors import Conflict
from mirada.web import create_app
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL, make_settings

MODEL_TABLES = {table.name for table in db.metadata.sorted_tables}


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has touched: a new SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "fresh.sqlite3"
        assert not path.exists()
        yield f"sqlite:///{path}"
        return
    name = f"mirada_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_app(empty_database_url: str, tmp_path: Path, model_path: Path) -> Iterator[Flask]:
    app = create_app(make_settings(tmp_path, empty_database_url, model_path=model_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def differences() -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(app: Flask) -> str:
    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return heads[0]


def test_the_database_starts_empty(fresh_app: Flask) -> None:
    assert tables() == set()


def test_upgrade_matches_the_models_and_downgrade_undoes_it(fresh_app: Flask) -> None:
    head = head_revision(fresh_app)

    flask_migrate.upgrade()

    assert current_revision() == head
    assert tables() == MODEL_TABLES | {"alembic_version"}
    assert differences() == []

    flask_migrate.downgrade(revision="base")

    assert tables() == {"alembic_version"}
    assert current_revision() is None

    flask_migrate.upgrade()

    assert current_revision() == head
    assert tables() == MODEL_TABLES | {"alembic_version"}
    assert differences() == []


def test_the_migrated_schema_works(fresh_app: Flask) -> None:
    flask_migrate.upgrade()

    user = accounts.register(
        session=db.session(), email="Ann@Example.org", password="correct horse battery"
    )
    db.session.commit()

    assert db.session.get(User, user.id).email == "ann@example.org"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        accounts.register(
            session=db.session(), email="ANN@example.org", password="correct horse battery"
        )


PLACEHOLDERS: dict[type, object] = {
    bool: False,
    int: 0,
    float: 0.0,
    str: "x",
    datetime: datetime(2026, 1, 1, tzinfo=UTC),
    dict: {},
    list: [],
}


def _insert(table_name: str, **values: object) -> int:
    """A row of ``table_name`` as the schema stands: ``values``, and a plain placeholder in
    every other column that must have one."""
    table = Table(table_name, MetaData(), autoload_with=db.engine)
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        if column.server_default is None:
            kind = list if isinstance(column.type, JSON) else column.type.python_type
            row[column.name] = PLACEHOLDERS[kind]
    with db.engine.begin() as connection:
        return int(connection.execute(table.insert().values(row)).inserted_primary_key[0])


def test_stored_embeddings_made_by_an_unknown_backbone_are_embedded_again(
    fresh_app: Flask,
) -> None:
    flask_migrate.upgrade(revision="5d1c3e7a9b20")
    user = _insert("users", email="ann@example.org")
    project = _insert("projects", user_id=user, name="A", name_key="A")
    _insert("model_versions", project_id=project, number=1, backbone_version="aaaaaaaaaaaa")
    cls = _insert("project_classes", project_id=project, name="c", name_key="c")
    examples = {
        ready: _insert(
            "examples",
            project_id=project,
            class_id=cls,
            sha256=f"{ready:064d}",
            embedding_ready=ready,
        )
        for ready in (True, False)
    }

    flask_migrate.upgrade()

    with db.engine.connect() as connection:
        tags = dict(connection.execute(text("SELECT id, embedding_backbone FROM examples")).all())
    # Which backbone made it is not known (the version's may be another): made again.
    assert tags == {examples[True]: "unknown", examples[False]: None}

    flask_migrate.downgrade(revision="5d1c3e7a9b20")

    with db.engine.connect() as connection:
        ready = connection.execute(text("SELECT embedding_ready FROM examples")).scalars().all()
    assert [bool(value) for value in ready] == [False, False]  # the old code embeds them again
