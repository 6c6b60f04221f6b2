"""The database keeps names unique whatever their case: a lost race gets a clean refusal."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import flask_migrate
from flask import Flask
from sqlalchemy import select, text

from mirada.db import Project, ProjectClass, User
from mirada.db.app_session import db
from mirada.services import accounts, classes, projects
from mirada.services.errors import Conflict
from tests.integration.helpers import add_user
from tests.integration.test_migrations import empty_database_url, fresh_app  # noqa: F401

RACERS = 16


def case_variants(name: str, count: int) -> list[str]:
    """``count`` spellings of ``name`` that differ only in case (the first is ``name``)."""
    variants = [name]
    for number in range(1, count):
        variants.append(
            "".join(ch.upper() if number >> i & 1 else ch.lower() for i, ch in enumerate(name))
        )
    return variants


def race(app: Flask, attempt: Callable[[str], object], names: list[str]) -> list[str]:
    """Run ``attempt(name)`` for every name at once, each in its own thread and session."""
    barrier = threading.Barrier(len(names))

    def one(name: str) -> str:
        with app.app_context():
            barrier.wait()
            try:
                attempt(name)
            except Conflict as exc:
                return exc.code
            finally:
                db.session.remove()
            return "created"

    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(one, names))


def test_sixteen_case_variants_of_a_project_name_make_one_project(app: Flask) -> None:
    user_id = add_user(app, "racer@example.com")

    def create(name: str) -> None:
        user = db.session.get(User, user_id)
        assert user is not None
        projects.create_project(session=db.session(), user=user, name=name)
        db.session.commit()  # the door's commit

    outcomes = race(app, create, case_variants("dupe", RACERS))

    assert outcomes.count("created") == 1
    assert outcomes.count("project_exists") == RACERS - 1
    with app.app_context():
        assert len(db.session.scalars(select(Project)).all()) == 1


def test_sixteen_case_variants_of_a_class_name_make_one_class(app: Flask) -> None:
    user_id = add_user(app, "racer@example.com")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        project_id = projects.create_project(session=db.session(), user=user, name="Pairs").id
        db.session.commit()

    def add(name: str) -> None:
        project = db.session.get(Project, project_id)
        assert project is not None
        classes.add_class(session=db.session(), project=project, name=name)
        db.session.commit()

    outcomes = race(app, add, case_variants("twin", RACERS))

    assert outcomes.count("created") == 1
    assert outcomes.count("class_exists") == RACERS - 1
    with app.app_context():
        assert len(db.session.scalars(select(ProjectClass)).all()) == 1


def test_sixteen_classes_renamed_to_case_variants_at_once_leave_one_with_that_name(
    app: Flask,
) -> None:
    user_id = add_user(app, "racer@example.com")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        project = projects.create_project(session=db.session(), user=user, name="Renames")
        for number in range(RACERS):
            classes.add_class(session=db.session(), project=project, name=f"class {number}")
        db.session.commit()
        variants = dict(zip(case_variants("straße", RACERS), range(RACERS), strict=True))

    def rename(name: str) -> None:
        cls = db.session.scalar(
            select(ProjectClass).where(ProjectClass.name == f"class {variants[name]}")
        )
        assert cls is not None
        classes.rename_class(session=db.session(), cls=cls, name=name)
        db.session.commit()

    outcomes = race(app, rename, list(variants))

    assert outcomes.count("created") == 1
    assert outcomes.count("class_exists") == RACERS - 1
    with app.app_context():
        keys = db.session.scalars(select(ProjectClass.name_key)).all()
        assert sorted(keys).count("strasse") == 1
        assert len(keys) == RACERS


def test_sixteen_case_variants_of_an_email_make_one_account(app: Flask) -> None:
    # Addresses are stored normalised and lower-cased, under a unique index.
    def register(email: str) -> None:  # as the sign-up page does: register, then commit
        accounts.register(session=db.session(), email=email, password="correct horse battery")
        db.session.commit()

    outcomes = race(app, register, [f"{name}@Example.org" for name in case_variants("ann", 8)])

    assert outcomes.count("created") == 1
    assert outcomes.count("email_taken") == 7
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == ["ann@example.org"]


def test_the_migration_keeps_old_duplicates_under_new_names(fresh_app: Flask) -> None:  # noqa: F811
    flask_migrate.upgrade(revision="a2bb1518bb4c")
    rows = [("Dupe", 1), ("dUpe", 2), ("DUPE", 3), ("Other", 4)]
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, display_name, password_hash, is_admin, is_active, "
                "created_at) VALUES (1, 'old@example.com', '', 'x', false, true, '2026-01-01')"
            )
        )
        for name, row_id in rows:
            connection.execute(
                text(
                    "INSERT INTO projects (id, user_id, name, description, threshold, created_at) "
                    "VALUES (:id, 1, :name, '', 0.5, '2026-01-01')"
                ),
                {"id": row_id, "name": name},
            )

    flask_migrate.upgrade()

    names = db.session.scalars(select(Project.name).order_by(Project.id)).all()
    assert names == ["Dupe", "dUpe (2)", "DUPE (3)", "Other"]
    assert db.session.scalars(select(Project.name_key).order_by(Project.id)).all() == [
        "dupe",
        "dupe (2)",
        "dupe (3)",
        "other",
    ]
