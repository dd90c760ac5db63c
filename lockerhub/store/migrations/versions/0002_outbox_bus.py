"""Outbox on the bus: ``done_at`` (a consumer committed the message's effect) and a partial index of the rows the
relay has still to publish.

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
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("done_at")
