"""Alembic environment: migrations run on the database of the Flask app (via Flask-Migrate)."""

from __future__ import annotations

import logging
from logging.config import fileConfig
from typing import Any

from alembic import context
from flask import current_app

from mirada.db.engine import without_time_limits

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
target_metadata = migrate_extension.db.metadata


def _skip_empty_autogenerate(context_: Any, revision: Any, directives: list[Any]) -> None:
    """``mirada db migrate`` writes no file when the models did not change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in the models; no migration written.")


def run_migrations_offline() -> None:
    """Print SQL for the migrations instead of running them."""
    context.configure(
        url=migrate_extension.db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""
    options = {**migrate_extension.configure_args, "compare_type": True}
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    with (
        migrate_extension.db.engine.connect() as connection,
        without_time_limits(connection),  # a migration may rightly take minutes
    ):
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
