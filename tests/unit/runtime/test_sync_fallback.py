"""Polling as the fallback of webhooks: while a webhook vendor's webhooks arrive, only parcels quiet for longer
than the silence window are polled; once they stop, every open booking is polled again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from lockerhub.ingress.store import record_delivery
from lockerhub.model import ParcelEvent, ParcelStatus
from lockerhub.plugins.protocols import VendorEvent
from lockerhub.runtime.hub import Hub, utc_now
from lockerhub.runtime.pipeline import run_hub
from lockerhub.runtime.sync import sync_statuses
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import OutboxRow, ParcelRow


@pytest.fixture
def booked(pilot: Path, sim, network, monkeypatch: pytest.MonkeyPatch) -> Hub:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOCKERHUB_WEBHOOK_SILENCE_S", "600")
    data = rows(4, network, seed=5)
    for r in data:
        r[9:13] = ["30", "20", "5", "1.5"]
    (pilot.parent / "inbox" / "acme-tms" / "drop.csv").write_bytes(render(data))
    hub = Hub.open(pilot)
    assert run_hub(hub).booking.booked == 4
    return hub


def _webhook(hub: Hub, delivery: str) -> None:
    event = ParcelEvent(status=ParcelStatus.DEPOSITED, occurred_at=utc_now(), source="simlocker", event_id=delivery)
    record_delivery(hub.store, hub.vendor_name, delivery, [VendorEvent("elsewhere", event)], received_at=utc_now())


def test_no_webhook_yet_means_every_booking_is_polled(booked: Hub) -> None:
    report = sync_statuses(booked)
    assert (report.mode, report.polled) == ("fallback", 4)


def test_live_webhooks_leave_only_quiet_parcels_to_poll(booked: Hub) -> None:
    _webhook(booked, "d-1")
    assert (sync_statuses(booked).mode, sync_statuses(booked).polled) == ("webhooks", 0)
    with booked.store.transaction() as s:  # one parcel has heard nothing for an hour: its webhook may be lost
        first = s.query(ParcelRow).order_by(ParcelRow.id).first()
        assert first is not None
        s.execute(update(ParcelRow).where(ParcelRow.id == first.id).values(updated_at=utc_now() - timedelta(hours=1)))
    assert sync_statuses(booked).polled == 1


def test_silent_webhooks_fall_back_to_polling_everything(booked: Hub) -> None:
    _webhook(booked, "d-1")
    with booked.store.transaction() as s:  # the last webhook came 20 minutes ago: longer than the 10-minute window
        s.execute(update(OutboxRow).values(created_at=utc_now() - timedelta(minutes=20)))
    report = sync_statuses(booked)
    assert (report.mode, report.polled) == ("fallback", 4)
