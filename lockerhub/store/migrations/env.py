"""Alembic environment. There is no alembic.ini: :mod:`lockerhub.store.migrate` builds the ``Config`` and passes
an open connection, already in a transaction and holding the migration lock, in ``config.attributes``."""

from alembic import context

from lockerhub.store import Base
from lockerhub.store.migrate import context_options

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through lockerhub.store.migrate (or 'lockerhub db upgrade'), not alembic")

context.configure(connection=connection, target_metadata=Base.metadata, **context_options(connection))
with context.begin_transaction():  # the caller's transaction: committed by lockerhub.store.migrate
    context.run_migrations()
