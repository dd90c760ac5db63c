"""Baseline: every table of the store as ``create_all`` built it before migrations existed.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-25

Unique constraints carry PostgreSQL's default names (``<table>_<column>_key``), so a database built here and one
built by ``create_all`` on PostgreSQL match exactly, and SQLite batch migrations can name them. The audit log's
append-only triggers are the ones :mod:`lockerhub.store.audit` attaches to ``create_all``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_AUDIT_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
_PG_AUDIT_TRIGGER = [
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "parcels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("shipment_ref", sa.String(length=64), nullable=False),
        sa.Column("parcel_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("interrupted", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.String(length=48), nullable=True),
        sa.Column("vendor", sa.String(length=64), nullable=True),
        sa.Column("locker_id", sa.String(length=64), nullable=True),
        sa.Column("size_class", sa.String(length=16), nullable=True),
        sa.Column("reservation_id", sa.String(length=64), nullable=True),
        sa.Column("compartment_id", sa.String(length=64), nullable=True),
        sa.Column("parcel", sa.JSON(), nullable=False),
        sa.Column("recipient_enc", sa.Text(), nullable=True),
        sa.Column("access_code_enc", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=80), nullable=True),
        sa.Column("pii_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="parcels_key_key"),
    )
    op.create_index("ix_parcels_partner", "parcels", ["partner"])
    op.create_index("ix_parcels_status", "parcels", ["status"])
    op.create_index("ix_parcels_reservation_id", "parcels", ["reservation_id"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parcel_pk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_event_id", sa.String(length=128), nullable=True),
        sa.Column("raw_code", sa.String(length=64), nullable=True),
        sa.Column("locker_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["parcel_pk"], ["parcels.id"], name="events_parcel_pk_fkey"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("parcel_pk", "source", "source_event_id", name="uq_event_source_id"),
    )
    op.create_index("ix_events_parcel_pk", "events", ["parcel_pk"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=160), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_to", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key", name="outbox_dedup_key_key"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["destination", "published_at"])

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=True),
        sa.Column("location", sa.String(length=255), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("payload_enc", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quarantine_fingerprint", "quarantine", ["fingerprint"])

    op.create_table(
        "ingested_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE_AUDIT_TRIGGERS, "postgresql": _PG_AUDIT_TRIGGER}.get(dialect, []):
        op.execute(statement)

    op.create_table(
        "telemetry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locker_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("locker_id", "kind", "observed_at", name="uq_telemetry_reading"),
    )
    op.create_index("ix_telemetry_time", "telemetry", ["observed_at"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locker_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_locker_id", "alerts", ["locker_id"])
    op.create_index("uq_alerts_open", "alerts", ["locker_id", "kind"], unique=True,
                    sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"))

    op.create_table(
        "locker_health",
        sa.Column("locker_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("locker_id"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes and triggers; PostgreSQL keeps the trigger function.
    for table in ("locker_health", "alerts", "telemetry", "audit_log", "ingested_files", "quarantine", "outbox",
                  "events", "parcels"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
