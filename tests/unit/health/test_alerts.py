"""Alerts open once per condition, close when it clears, and tell the notifiers after commit."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select

from lockerhub.health import Flag, LockerHealth, log_notifier, open_alerts, update_alerts
from lockerhub.store import AlertRow, Store

T1 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
T3 = T1 + timedelta(hours=2)


def health(locker_id: str, *flags: Flag, at: datetime = T1) -> LockerHealth:
    return LockerHealth(locker_id, at, 50.0 if flags else 100.0, flags=list(flags))


DOOR = Flag("door_faults", "warning", "3 door faults in the last 7 days")
BATTERY = Flag("battery_low_predicted", "warning", "battery trending down", predicted_at=T1 + timedelta(days=4))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Mapping[str, Any]] = []

    def __call__(self, context: Mapping[str, Any]) -> None:
        self.calls.append(context)


def count_rows(store: Store) -> int:
    with store.transaction() as s:
        return s.scalar(select(func.count()).select_from(AlertRow)) or 0


def test_opened_once_and_rerun_changes_nothing(store: Store) -> None:
    seen = Recorder()
    healths = [health("L-1", DOOR, BATTERY), health("L-2")]
    first = update_alerts(store, healths, as_of=T1, notifiers=[seen])
    assert [(c.change, c.alert.locker_id, c.alert.kind) for c in first] == [
        ("opened", "L-1", "door_faults"), ("opened", "L-1", "battery_low_predicted")]
    assert [c["change"] for c in seen.calls] == ["opened", "opened"]
    assert seen.calls[0]["alert"]["opened_at"] == T1.isoformat() and seen.calls[0]["alert"]["closed_at"] is None
    assert seen.calls[0]["message"] == "alert opened: L-1 door_faults (warning): 3 door faults in the last 7 days"
    assert update_alerts(store, healths, as_of=T1, notifiers=[seen]) == []  # an Airflow retry
    assert update_alerts(store, healths, as_of=T2, notifiers=[seen]) == []  # the next run, same conditions
    assert len(seen.calls) == 2 and count_rows(store) == 2
    assert [(a.kind, a.opened_at) for a in open_alerts(store)] == [("battery_low_predicted", T1), ("door_faults", T1)]


def test_closed_when_the_condition_clears_and_reopened_as_a_new_alert(store: Store) -> None:
    update_alerts(store, [health("L-1", DOOR, BATTERY)], as_of=T1, notifiers=[])
    closed = update_alerts(store, [health("L-1", BATTERY, at=T2)], as_of=T2, notifiers=[])
    assert [(c.change, c.alert.kind, c.alert.closed_at) for c in closed] == [("closed", "door_faults", T2)]
    assert update_alerts(store, [health("L-1", BATTERY, at=T2)], as_of=T2, notifiers=[]) == []
    again = update_alerts(store, [health("L-1", DOOR, BATTERY, at=T3)], as_of=T3, notifiers=[])
    assert [(c.change, c.alert.kind, c.alert.opened_at) for c in again] == [("opened", "door_faults", T3)]
    assert count_rows(store) == 3 and len(open_alerts(store, locker_id="L-1")) == 2


def test_severity_change_updates_and_a_new_message_alone_is_quiet(store: Store) -> None:
    update_alerts(store, [health("L-1", DOOR)], as_of=T1, notifiers=[])
    more = Flag("door_faults", "warning", "4 door faults in the last 7 days")
    assert update_alerts(store, [health("L-1", more)], as_of=T2, notifiers=[]) == []
    assert open_alerts(store)[0].message == "4 door faults in the last 7 days"
    worse = Flag("door_faults", "critical", "12 door faults in the last 7 days")
    [change] = update_alerts(store, [health("L-1", worse)], as_of=T3, notifiers=[])
    assert (change.change, change.alert.severity, change.alert.opened_at) == ("updated", "critical", T1)
    assert count_rows(store) == 1


def test_an_older_run_leaves_newer_alerts_alone(store: Store) -> None:
    update_alerts(store, [health("L-1", DOOR)], as_of=T2, notifiers=[])
    assert update_alerts(store, [health("L-1")], as_of=T1, notifiers=[]) == []  # a backfill of an earlier hour
    assert [a.kind for a in open_alerts(store)] == ["door_faults"]


def test_lockers_not_assessed_keep_their_alerts(store: Store) -> None:
    update_alerts(store, [health("L-1", DOOR), health("L-2", DOOR)], as_of=T1, notifiers=[])
    changes = update_alerts(store, [health("L-2")], as_of=T2, notifiers=[])
    assert [(c.change, c.alert.locker_id) for c in changes] == [("closed", "L-2")]
    assert [a.locker_id for a in open_alerts(store)] == ["L-1"]


def test_a_failing_notifier_does_not_stop_the_others(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    def broken(context: Mapping[str, Any]) -> None:
        raise RuntimeError("chat service down")

    seen = Recorder()
    with caplog.at_level(logging.ERROR, logger="lockerhub.health.alerts"):
        changes = update_alerts(store, [health("L-1", DOOR)], as_of=T1, notifiers=[broken, seen])
    assert len(changes) == 1 and len(seen.calls) == 1
    assert "notifier broken failed for L-1 door_faults" in caplog.text
    assert [a.kind for a in open_alerts(store)] == ["door_faults"]  # committed before notifying


def test_default_notifier_logs(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="lockerhub.health.alerts"):
        update_alerts(store, [health("L-1", Flag("offline", "critical", "offline 40.0% of the last 7 days"))],
                      as_of=T1)
        update_alerts(store, [health("L-1")], as_of=T2)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "alert opened: L-1 offline (critical): offline 40.0% of the last 7 days"),
        ("INFO", "alert closed: L-1 offline (critical): offline 40.0% of the last 7 days")]
    log_notifier({"change": "updated", "alert": {"severity": "warning"}, "message": "m"})


def test_the_database_refuses_a_second_open_alert(store: Store) -> None:
    def row(closed: datetime | None) -> AlertRow:
        return AlertRow(locker_id="L-1", kind="offline", severity="warning", opened_at=T1, checked_at=T1,
                        closed_at=closed, message="m")

    with store.transaction() as s:
        s.add_all([row(T2), row(T3), row(None)])  # closed ones may repeat
    with pytest.raises(sqlalchemy.exc.IntegrityError), store.transaction() as s:
        s.add(row(None))
