"""Alembic migrations on SQLite: the baseline builds what the models declare, and drift is caught.

The same checks run on PostgreSQL in tests/integration/test_postgres_migrations.py.
"""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from lockerhub.store import Base, Store, make_engine, migrate
from lockerhub.store.migrate import MigrationError


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    yield engine
    engine.dispose()


def store_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def baseline_metadata(engine: Engine) -> sa.MetaData:
    """The tables of 0001_baseline (what the models declared before migrations existed), reflected from
    ``engine`` after an upgrade to the baseline; ``engine`` is left empty again."""
    migrate.upgrade(engine, migrate.BASELINE)
    md = sa.MetaData()
    md.reflect(engine)
    md.remove(md.tables["alembic_version"])
    migrate.downgrade(engine, "base")
    return md


def modified_metadata() -> sa.MetaData:
    """The store's tables as a developer might change them and forget the migration."""
    md = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(md)
    md.tables["parcels"].append_column(sa.Column("reminder_count", sa.Integer(), nullable=True))
    md.tables["quarantine"].indexes.clear()  # ix_quarantine_fingerprint dropped from the model
    sa.Table("vendor_rates", md, sa.Column("vendor", sa.String(64), primary_key=True))
    return md


def test_upgrade_on_an_empty_database_builds_exactly_the_models(engine: Engine) -> None:
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    assert store_tables(engine) == set(Base.metadata.tables)
    assert migrate.check(engine) == []


def test_the_baseline_makes_the_audit_log_append_only(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (seq, at, actor, action, details, prev_hash, hash) "
                             "VALUES (1, '2026-01-01', 'test', 'test', '{}', '', '')"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log"))


def test_a_database_at_head_is_checked_without_loading_alembic(engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    Store(str(engine.url)).migrate()

    def must_not_run(*_args):  # type: ignore[no-untyped-def]
        raise AssertionError("a database at head took the migration path")

    monkeypatch.setattr(migrate, "_locked", must_not_run)
    migrate.upgrade(engine)


def test_downgrade_to_base_removes_everything(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")).all()
    assert left == []
    assert migrate.current(engine) is None
    migrate.upgrade(engine)  # and back up again
    assert migrate.check(engine) == []


def test_a_database_built_by_create_all_is_stamped_then_upgraded(engine: Engine) -> None:
    baseline_metadata(engine).create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ingested_files (sha256, partner, name, first_seen, times_seen, records, "
                             "accepted, duplicates, quarantined) VALUES ('a', 'acme', 'f.csv', '2026-01-01', "
                             "1, 0, 0, 0, 0)"))
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    assert migrate.check(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM ingested_files")).scalar() == "f.csv"


def test_a_legacy_database_missing_a_baseline_column_is_refused_not_stamped(engine: Engine) -> None:
    legacy = baseline_metadata(engine)
    legacy.create_all(engine, tables=[t for t in legacy.sorted_tables if t.name != "outbox"])
    with engine.begin() as conn:  # outbox as it was before dedup_key
        conn.execute(sa.text("CREATE TABLE outbox (id INTEGER PRIMARY KEY, destination VARCHAR(64) NOT NULL, "
                             "kind VARCHAR(32) NOT NULL, payload JSON NOT NULL, created_at DATETIME NOT NULL, "
                             "published_at DATETIME, published_to TEXT)"))
    with pytest.raises(MigrationError, match=r"lacks part of 0001_baseline.*missing outbox\.dedup_key"):
        migrate.upgrade(engine)
    assert migrate.current(engine) is None  # the stamp was rolled back


def test_a_model_change_without_a_migration_is_detected(engine: Engine) -> None:
    migrate.upgrade(engine)
    found = sorted(migrate.describe(d) for d in migrate.check(engine, modified_metadata()))
    assert found == [
        "add_column parcels.reminder_count",
        "add_table vendor_rates",
        "remove_index quarantine.ix_quarantine_fingerprint",
    ]


def test_a_type_change_is_detected(engine: Engine) -> None:
    migrate.upgrade(engine)
    md = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(md)
    md.tables["outbox"].c.kind.type = sa.String(64)
    [diff] = migrate.check(engine, md)
    assert migrate.describe(diff) == "modify_type outbox.kind: database has VARCHAR(length=32), code has String(length=64)"


def migrate_together(url: str, starters: int = 4) -> list[BaseException]:
    """``starters`` stores, each with an engine of its own (as separate processes have), migrating ``url`` at the
    same moment; the errors they raised."""
    barrier = threading.Barrier(starters)
    errors: list[BaseException] = []

    def start() -> None:
        store = Store(url)
        try:
            barrier.wait()
            store.migrate()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_two_processes_starting_together_both_succeed(engine: Engine) -> None:
    assert migrate_together(str(engine.url)) == []
    assert migrate.current(engine) == migrate.head() and migrate.check(engine) == []


def test_revision_files_are_named_after_their_ids_and_form_one_line() -> None:
    """head() reads the head from the file names, so every revision must follow the convention."""
    files = sorted(migrate.VERSIONS.glob("*.py"))
    assert files, "no revisions"
    previous = None
    for path in files:
        tree = ast.parse(path.read_text("utf-8"))
        ids = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name) and t.id in ("revision", "down_revision")}
        assert ids == {"revision": path.stem, "down_revision": previous}, path.name
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        modules = {a.name for n in imports if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in imports if isinstance(n, ast.ImportFrom)}
        assert not {m for m in modules if m and m.split(".")[0] == "lockerhub"}, f"{path.name} imports app code"
        previous = path.stem
    assert migrate.head() == previous


def test_new_revision_rejects_an_id_that_does_not_sort_after_head() -> None:
    with pytest.raises(ValueError, match="must look like 0002_short_name"):
        migrate.new_revision("0001_again", "x")
    with pytest.raises(ValueError, match="must look like"):
        migrate.new_revision("a1b2c3d4", "x")


def test_db_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lockerhub.cli import app

    monkeypatch.setenv("LOCKERHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    result = runner.invoke(app, ["db", "current", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) | {"database": None} == {"database": None, "current": None,
                                                               "head": migrate.head()}
    result = runner.invoke(app, ["db", "check"])
    assert result.exit_code == 1 and "drift: add_table parcels" in result.stdout
    assert "the database is at no revision" in result.stdout
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and f"empty -> {migrate.head()}" in result.stdout
    result = runner.invoke(app, ["db", "check"])
    assert result.exit_code == 0 and "0 difference(s)" in result.stdout
    assert runner.invoke(app, ["db", "check", "--scratch", "--json"]).exit_code == 0
    for command in ("upgrade", "current", "check"):
        help_text = runner.invoke(app, ["db", command, "--help"]).stdout
        assert "Example:" in help_text and f"lockerhub db {command}" in help_text
