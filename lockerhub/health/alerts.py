"""Alerts: one open alert per (locker, condition) while the condition lasts, closed when it clears.

``update_alerts`` compares each assessed locker's flags with its open alerts: a new condition opens an alert,
a condition whose severity changed updates it (warning <-> critical; a changed message alone is refreshed
quietly), a condition that is gone closes it. Running it
again on the same assessment changes nothing, so a re-run (an Airflow retry) opens no duplicates; a partial
unique index on open alerts holds that even for two runs at once. A run older than the last one that checked
a locker (a backfill) leaves that locker's alerts alone.

Notifiers are told about each change after the transaction commits. A notifier is any callable taking one
context dict, ``{"change": "opened" | "updated" | "closed", "alert": {...}, "message": "..."}``, which is the
shape Airflow notifiers (``BaseNotifier`` subclasses, called with a context) accept, so a DAG can pass them
straight in. A notifier that raises is logged and skipped; the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select

from lockerhub.health.score import LockerHealth
from lockerhub.store import AlertRow, Store

logger = logging.getLogger("lockerhub.health.alerts")

Notifier = Callable[[Mapping[str, Any]], object]


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: int
    locker_id: str
    kind: str
    severity: str
    opened_at: datetime
    closed_at: datetime | None
    message: str

    @classmethod
    def of(cls, row: AlertRow) -> Alert:
        return cls(row.id, row.locker_id, row.kind, row.severity, row.opened_at, row.closed_at, row.message)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["opened_at"] = self.opened_at.isoformat()
        data["closed_at"] = self.closed_at.isoformat() if self.closed_at else None
        return data


@dataclass(frozen=True, slots=True)
class AlertChange:
    change: Literal["opened", "updated", "closed"]
    alert: Alert

    def summary(self) -> str:
        a = self.alert
        return f"alert {self.change}: {a.locker_id} {a.kind} ({a.severity}): {a.message}"

    def context(self) -> dict[str, Any]:
        """What notifiers are called with (see the module docstring)."""
        return {"change": self.change, "alert": self.alert.as_dict(), "message": self.summary()}

    def as_dict(self) -> dict[str, Any]:
        return {"change": self.change, **self.alert.as_dict()}


def log_notifier(context: Mapping[str, Any]) -> None:
    """The default notifier: one log line per change (critical openings as errors)."""
    alert = context["alert"]
    level = logging.ERROR if context["change"] == "opened" and alert["severity"] == "critical" else logging.WARNING
    if context["change"] == "closed":
        level = logging.INFO
    logger.log(level, "%s", context["message"])


DEFAULT_NOTIFIERS: tuple[Notifier, ...] = (log_notifier,)


def update_alerts(store: Store, healths: Sequence[LockerHealth], *, as_of: datetime,
                  notifiers: Sequence[Notifier] | None = None) -> list[AlertChange]:
    """Open, update and close alerts to match ``healths`` (one assessment, as of ``as_of``); notify; return the
    changes. ``notifiers`` default to :data:`DEFAULT_NOTIFIERS`; pass a list to replace them."""
    changes: list[AlertChange] = []
    with store.transaction() as s:
        checked = {lid: t for lid, t in s.execute(select(AlertRow.locker_id, func.max(AlertRow.checked_at))
                                                  .group_by(AlertRow.locker_id))}
        fresh = [h for h in healths if checked.get(h.locker_id) is None or checked[h.locker_id] <= as_of]
        ids = {h.locker_id for h in fresh}
        open_rows = s.scalars(select(AlertRow).where(AlertRow.closed_at.is_(None)))
        current = {(r.locker_id, r.kind): r for r in open_rows if r.locker_id in ids}
        for health in fresh:
            for flag in health.flags:
                row = current.pop((health.locker_id, flag.kind), None)
                if row is None:
                    row = AlertRow(locker_id=health.locker_id, kind=flag.kind, severity=flag.severity,
                                   opened_at=as_of, checked_at=as_of, message=flag.message)
                    s.add(row)
                    s.flush()
                    changes.append(AlertChange("opened", Alert.of(row)))
                    continue
                escalated = row.severity != flag.severity
                row.severity, row.message, row.checked_at = flag.severity, flag.message, as_of
                if escalated:  # a new message alone (a count went up) is refreshed without notifying
                    changes.append(AlertChange("updated", Alert.of(row)))
        for key in sorted(current):  # open, assessed, and no longer flagged
            row = current[key]
            row.closed_at = row.checked_at = as_of
            changes.append(AlertChange("closed", Alert.of(row)))
    notify(changes, DEFAULT_NOTIFIERS if notifiers is None else notifiers)
    return changes


def notify(changes: Sequence[AlertChange], notifiers: Sequence[Notifier]) -> int:
    """Call every notifier for every change; returns how many calls failed (each is logged)."""
    failed = 0
    for change in changes:
        for notifier in notifiers:
            try:
                notifier(change.context())
            except Exception:  # a broken notifier must not stop the others or the health run
                failed += 1
                logger.exception("notifier %s failed for %s %s", getattr(notifier, "__name__", type(notifier).__name__),
                                 change.alert.locker_id, change.alert.kind)
    return failed


def open_alerts(store: Store, *, locker_id: str | None = None) -> list[Alert]:
    """Open alerts, by locker and kind."""
    query = select(AlertRow).where(AlertRow.closed_at.is_(None)).order_by(AlertRow.locker_id, AlertRow.kind)
    if locker_id is not None:
        query = query.where(AlertRow.locker_id == locker_id)
    with store.transaction() as s:
        return [Alert.of(r) for r in s.scalars(query)]
