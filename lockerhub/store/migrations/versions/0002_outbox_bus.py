"""Outbox on the bus: ``outbox_done`` (a consumer committed the message's effect; a table of its own so marking
never waits on the relay's row locks) and a partial index of the rows the relay has still to publish.

Revision ID: 0002_outbox_bus
Revises: 0001_baseline
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_outbox_bus"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_done",
        sa.Column("outbox_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("outbox_id"),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox_done")
