"""Ops API access: users (scrypt password hash, encrypted TOTP secret), bearer tokens (SHA-256 only) and failed
logins for the rate limit (see lockerhub/store/access.py).

Revision ID: 0003_ops_access
Revises: 0002_outbox_bus
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_ops_access"
down_revision = "0002_outbox_bus"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret_enc", sa.Text(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "ops_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["ops_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_ops_tokens_user_id", "ops_tokens", ["user_id"])
    op.create_table(
        "ops_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ops_login_failures_key_at", "ops_login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_ops_login_failures_key_at", table_name="ops_login_failures")
    op.drop_table("ops_login_failures")
    op.drop_index("ix_ops_tokens_user_id", table_name="ops_tokens")
    op.drop_table("ops_tokens")
    op.drop_table("ops_users")
