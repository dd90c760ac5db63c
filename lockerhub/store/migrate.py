"""Schema migrations (Alembic, no ``alembic.ini``): bring a database to the schema this code expects.

``upgrade(engine)`` runs at every start (``Store.migrate()``) and by ``lockerhub db upgrade``:

- at head already: one ``SELECT`` of ``alembic_version``; Alembic is not even imported;
- empty: every revision from ``0001_baseline`` on;
- created by ``create_all`` before migrations existed (tables, no ``alembic_version``): stamped
  ``0001_baseline``, checked against that revision, then upgraded.

Two processes starting together (workers and the ingress) do not race: the upgrade runs in one transaction under
``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite, and the version is read again once the lock
is held. ``check(engine)`` lists the differences between the tables in code and the database (after ``upgrade`` on
an empty database, a non-empty list means a model changed without a migration).

Revisions live in ``migrations/versions/``; a file is named after its revision id (``0002_short_name.py``), the ids
sort in order, and history is linear, so the head is the last file name: no script needs loading to know it.
``new_revision(rev_id, message)`` autogenerates the next one (see docs/operations.md, "Database migrations").

Pitfalls: SQLite cannot alter most things in place, so migrations there run in batch mode (copy and move) with
``foreign_keys`` off, and ``PRAGMA foreign_key_check`` must pass before the commit.
"""

from __future__ import annotations

import functools
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError

from lockerhub.errors import LockerhubError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSIONS = MIGRATIONS / "versions"
BASELINE = "0001_baseline"
VERSION_TABLE = "alembic_version"
# pg_advisory_xact_lock key: any constant shared by every lockerhub process (b"lockhub\0" as a big-endian int64).
ADVISORY_LOCK_KEY = 0x6C6F636B68756200


class MigrationError(LockerhubError):
    """The database cannot be brought to the schema of this code."""


@functools.cache
def head() -> str:
    """The newest revision id: the last file name in ``versions/`` (ids sort in order)."""
    revisions = sorted(p.stem for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    if not revisions:
        raise MigrationError(f"no revisions in {MIGRATIONS.name}/versions")
    return revisions[-1]


def current(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` when it has never been migrated (or stamped)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except DBAPIError:  # no alembic_version table: a new database, or one created before migrations
        return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: head); cheap when it is there already."""
    if revision == "head" and current(engine) == head():
        return
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()) if level == logging.NOTSET
                         else level)  # its per-revision INFO lines would mix with a command's output
    try:
        with _locked(engine) as conn:
            _upgrade_locked(conn, revision)
    finally:
        alembic_log.setLevel(level)


def downgrade(engine: Engine, revision: str) -> None:
    """Go back to ``revision`` (``"base"`` drops every table). For development and tests: data is lost."""
    from alembic import command

    with _locked(engine) as conn:
        command.downgrade(_config(conn), revision)
        if revision == "base":  # leave the database as empty as a new one
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {VERSION_TABLE}")


def check(engine: Engine, metadata: MetaData | None = None) -> list[Any]:
    """Differences between the tables in code (``metadata``, default: the store's) and the database, as Alembic's
    ``compare_metadata`` reports them (tuples such as ``("add_column", schema, table, Column)``; ``describe()``
    renders one). On a database at head, a non-empty list means a model changed without a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    if metadata is None:
        from lockerhub.store import Base

        metadata = Base.metadata
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=context_options(conn))
        return list(compare_metadata(context, metadata))


def describe(diff: Any) -> str:
    """One readable line for an entry of :func:`check` (a modify_* entry is a list of tuples)."""
    if isinstance(diff, list):
        return "; ".join(describe(d) for d in diff)
    op, *args = diff
    if op.startswith("modify_"):  # (op, schema, table, column, info, old, new)
        _, table, column, _, old, new = args
        return f"{op} {table}.{column}: database has {old!r}, code has {new!r}"
    obj = args[-1]  # a Table, Column, Index or constraint
    table = getattr(obj, "table", None)
    where = f"{table.name}." if not op.endswith("_table") and getattr(table, "name", None) else ""
    return f"{op} {where}{getattr(obj, 'name', obj)}"


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render lockerhub's column types as the plain SQLAlchemy types they wrap (``UTCDateTime`` becomes
    ``sa.DateTime(timezone=True)``), so migrations never import application code."""
    from sqlalchemy.types import TypeDecorator

    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def context_options(conn: Connection) -> dict[str, Any]:
    """``context.configure`` options shared by env.py, ``check`` and ``new_revision``."""
    return {
        "render_as_batch": conn.dialect.name == "sqlite",
        "render_item": render_item,
        "compare_type": True,
        "version_table": VERSION_TABLE,
    }


def new_revision(rev_id: str, message: str) -> Path:
    """Autogenerate ``versions/<rev_id>.py`` from what the tables in code have that head does not (against a
    scratch SQLite database). Review and edit the file: autogenerate misses data moves, renames and triggers."""
    from alembic import command

    if not re.fullmatch(r"[0-9]{4}_[a-z0-9_]+", rev_id) or rev_id <= head():
        raise ValueError(f"revision id {rev_id!r} must look like 0002_short_name and sort after {head()!r}")
    with scratch_sqlite() as engine:
        upgrade(engine)
        with engine.begin() as conn:
            config = _config(conn)
            config.set_main_option("file_template", "%%(rev)s")
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    head.cache_clear()
    return VERSIONS / f"{rev_id}.py"


@contextmanager
def scratch_sqlite() -> Iterator[Engine]:
    """An empty SQLite database in a temporary directory (removed afterwards)."""
    from lockerhub.store.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


# --------------------------------------------------------------------------- internals


def _config(conn: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """One transaction that only one process at a time holds; committed when the block succeeds."""
    backend = engine.dialect.name
    with engine.connect() as conn:
        if backend == "sqlite":
            # foreign_keys can only change outside a transaction; batch mode copies tables, so it must be off.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, not at the first write
        elif backend == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        try:
            yield conn
            if backend == "sqlite":
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise MigrationError(f"migration left rows with broken foreign keys in {problems[0][0]!r}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if backend == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _upgrade_locked(conn: Connection, revision: str) -> None:
    from alembic import command

    tables = set(inspect(conn).get_table_names())
    config = _config(conn)
    if VERSION_TABLE not in tables and "parcels" in tables:  # built by create_all before migrations existed
        command.stamp(config, BASELINE)
        _require_baseline(conn)
    command.upgrade(config, revision)


def _require_baseline(conn: Connection) -> None:
    """A database stamped as the baseline must have the baseline's tables and columns (it may predate some)."""
    from alembic import command
    from sqlalchemy import create_engine

    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as scratch_conn:
            command.upgrade(_config(scratch_conn), BASELINE)
            expected = _columns(scratch_conn)
    finally:
        scratch.dispose()
    found = _columns(conn)
    gap = expected - found  # a missing table is named once, not once per column
    missing = sorted(table if column is None else f"{table}.{column}" for table, column in gap
                     if column is None or (table, None) not in gap)
    if missing:
        raise MigrationError(
            f"the database was created before migrations and lacks part of {BASELINE}",
            found=f"missing {', '.join(missing)}",
            hint="add them by hand (see docs/operations.md, 'Database migrations'), then run 'lockerhub db upgrade'",
        )


def _columns(conn: Connection) -> set[tuple[str, str | None]]:
    """``(table, None)`` for each table and ``(table, column)`` for each column, except Alembic's own."""
    insp = inspect(conn)
    out: set[tuple[str, str | None]] = set()
    for table in insp.get_table_names():
        if table != VERSION_TABLE:
            out.add((table, None))
            out.update((table, c["name"]) for c in insp.get_columns(table))
    return out
