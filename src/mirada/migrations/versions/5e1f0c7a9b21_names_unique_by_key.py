"""names unique whatever their case: a normalised name key with a unique index

Revision ID: 5e1f0c7a9b21
Revises: b7d41c2e9a10
Create Date: 2026-11-30 17:55:00.000000

Existing rows get the key the application computes (NFKC + case folding). Names
that already clash (made by a race before this revision) keep their rows: every
clashing name after the oldest is renamed "Name (2)", "Name (3)", ... so no
project, class or example is lost.
"""

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

from mirada.db.names import MAX_NAME_KEY_LENGTH, MAX_NAME_LENGTH, name_key

revision = "5e1f0c7a9b21"
down_revision = "b7d41c2e9a10"
branch_labels = None
depends_on = None

# table, owner column, old unique constraint, new unique constraint
TABLES = (
    ("projects", "user_id", "uq_projects_user_id", "uq_projects_user_id_name_key"),
    (
        "project_classes",
        "project_id",
        "uq_project_classes_project_id",
        "uq_project_classes_project_id_name_key",
    ),
)


def _renamed(name: str, taken: set[str]) -> Iterator[tuple[str, str]]:
    """Candidate names "name (n)" (within the length limit) with their keys, not yet taken."""
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = name[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if name_key(candidate) not in taken:
            yield candidate, name_key(candidate)
        number += 1


def _fill_keys(table_name: str, owner: str) -> None:
    connection = op.get_bind()
    table = sa.table(
        table_name, sa.column("id"), sa.column(owner), sa.column("name"), sa.column("name_key")
    )
    rows = connection.execute(
        sa.select(table.c.id, table.c[owner], table.c.name).order_by(table.c.id)
    ).all()
    taken: dict[int, set[str]] = {}
    for row_id, owner_id, name in rows:
        keys = taken.setdefault(owner_id, set())
        key = name_key(name)
        if key in keys:
            name, key = next(_renamed(name, keys))
        keys.add(key)
        connection.execute(
            sa.update(table).where(table.c.id == row_id).values(name=name, name_key=key)
        )


def upgrade() -> None:
    for table, owner, old, new in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("name_key", sa.String(length=MAX_NAME_KEY_LENGTH), nullable=True)
            )
        _fill_keys(table, owner)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "name_key", existing_type=sa.String(length=MAX_NAME_KEY_LENGTH), nullable=False
            )
            batch_op.drop_constraint(old, type_="unique")
            batch_op.create_unique_constraint(new, [owner, "name_key"])


def downgrade() -> None:
    for table, owner, old, new in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(new, type_="unique")
            batch_op.create_unique_constraint(old, [owner, "name"])
            batch_op.drop_column("name_key")
