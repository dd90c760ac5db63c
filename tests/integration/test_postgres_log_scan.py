"""The log scan of a demo run at DEBUG, on PostgreSQL: no seeded personal data, access code or API key in any
output or log (the SQLite run is tests/e2e/test_demo_masking.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_demo_masking import scan_demo_logs

pytestmark = pytest.mark.integration


def test_demo_on_postgres_at_debug_leaks_nothing(tmp_path: Path, pg_url: str) -> None:
    scan_demo_logs(tmp_path, database_url=pg_url)
