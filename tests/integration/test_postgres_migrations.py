"""Alembic migrations on a real PostgreSQL (a fresh database per test): the same checks as on SQLite
(tests/unit/store/test_migrations.py), plus processes starting together on one new database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError

from lockerhub.store import Base, make_engine, migrate
from lockerhub.store.migrate import MigrationError
from tests.unit.store.test_migrations import baseline_metadata, migrate_together

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def test_upgrade_on_an_empty_database_builds_exactly_the_models(engine: Engine) -> None:
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    assert migrate.check(engine) == []
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (seq, at, actor, action, details, prev_hash, hash) "
                             "VALUES (1, now(), 'test', 'test', '{}', '', '')"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log"))


def test_downgrade_to_base_removes_everything(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
        assert conn.execute(sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_append_only'")).scalar() == 0
    migrate.upgrade(engine)
    assert migrate.check(engine) == []


def test_a_database_built_by_create_all_is_stamped_then_upgraded(engine: Engine) -> None:
    baseline_metadata(engine).create_all(engine)
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    assert migrate.check(engine) == []


def test_a_legacy_database_missing_a_baseline_column_is_refused_not_stamped(engine: Engine) -> None:
    legacy = baseline_metadata(engine)
    legacy.create_all(engine, tables=[t for t in legacy.sorted_tables if t.name != "outbox"])
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE outbox (id SERIAL PRIMARY KEY, destination VARCHAR(64) NOT NULL, "
                             "kind VARCHAR(32) NOT NULL, payload JSON NOT NULL, created_at TIMESTAMPTZ NOT NULL, "
                             "published_at TIMESTAMPTZ, published_to TEXT)"))
    with pytest.raises(MigrationError, match=r"missing outbox\.dedup_key"):
        migrate.upgrade(engine)
    assert migrate.current(engine) is None


def test_a_model_change_without_a_migration_is_detected(engine: Engine) -> None:
    migrate.upgrade(engine)
    md = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(md)
    md.tables["parcels"].append_column(sa.Column("reminder_count", sa.Integer(), nullable=True))
    md.tables["outbox"].c.kind.type = sa.String(64)
    found = sorted(migrate.describe(d) for d in migrate.check(engine, md))
    assert found == ["add_column parcels.reminder_count",
                     "modify_type outbox.kind: database has VARCHAR(length=32), code has String(length=64)"]


def test_processes_starting_together_on_a_new_database_all_succeed(pg_url: str) -> None:
    """Workers and the ingress start at once: the advisory lock lets one migrate and the others wait and see head."""
    assert migrate_together(pg_url) == []
    engine = make_engine(pg_url)
    try:
        assert migrate.current(engine) == migrate.head()
        assert migrate.check(engine) == []
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
