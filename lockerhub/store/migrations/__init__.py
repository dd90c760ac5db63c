"""Alembic scripts of the store; run them through :mod:`lockerhub.store.migrate`, not the ``alembic`` command."""
