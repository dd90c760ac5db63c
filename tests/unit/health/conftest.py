from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockerhub.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path / 'health.db'}")
    db.migrate()
    yield db
    db.dispose()
