"""Defaults every lockerhub DAG shares (owner, retries, tags), so the DAG files stay a few lines each."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
OWNER = "lockerhub"
TAGS = ["lockerhub"]


def default_args(**more: Any) -> dict[str, Any]:
    """Owner, two retries five minutes apart with exponential back-off, plus ``more``."""
    return {"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True,
            **more}
