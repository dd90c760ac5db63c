"""A status code the connector's crosswalk does not know is never guessed: the poll is quarantined with the code,
the parcel keeps its state, the other parcels sync on; once the crosswalk knows the code, replay applies it."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import lockerhub_simlocker.connector as simlocker
import pytest
from sqlalchemy import select

from lockerhub.model import ParcelStatus
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.pipeline import run_hub
from lockerhub.runtime.replay import replay
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.settings import Settings
from lockerhub.simulator import World
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.store import ParcelRow, QuarantineRow


def test_an_unknown_code_is_quarantined_then_replayed(pilot: Path, sim, network, world: World,  # type: ignore[no-untyped-def]
                                                     settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    drop = rows(3, network, seed=8)
    for row in drop:
        row[9:13] = ["30", "20", "5", "1.5"]
    (pilot.parent / "inbox" / "acme-tms" / "codes.csv").write_bytes(render(drop))

    def open_hub() -> Hub:
        return Hub.open(pilot, settings=settings, clock=lambda: world.now,
                        retry=RetryPolicy(sleep=lambda _: None, rng=random.Random(0)))

    hub = open_hub()
    run_hub(hub)
    with hub.store.transaction() as s:
        booked = list(s.scalars(select(ParcelRow).order_by(ParcelRow.id)))
    hub.close()
    assert [p.status for p in booked] == [ParcelStatus.BOOKED.value] * 3
    world.advance(3600)
    world.deposit(booked[0].reservation_id)  # a code this connector version does not know yet

    known = simlocker.crosswalk()
    older = dataclasses.replace(known, codes={k: v for k, v in known.codes.items() if k != "COURIER_DEPOSITED"})
    with monkeypatch.context() as patch:
        patch.setattr(simlocker, "crosswalk", lambda: older)
        hub = open_hub()
        result = run_hub(hub)
        assert result.sync.quarantined == 1 and result.sync.polled == 3
        with hub.store.transaction() as s:
            [item] = s.scalars(select(QuarantineRow).where(QuarantineRow.stage == "poll"))
            status = s.scalar(select(ParcelRow.status).where(ParcelRow.id == booked[0].id))
        assert "unknown simlocker status code" in item.errors[0] and "'COURIER_DEPOSITED'" in item.errors[0]
        assert status == ParcelStatus.BOOKED.value  # not guessed
        again = run_hub(hub)  # the same unknown code again: the same item, one more attempt
        assert again.sync.quarantined == 1
        with hub.store.transaction() as s:
            assert s.scalar(select(QuarantineRow.attempts).where(QuarantineRow.stage == "poll")) == 2

    report = replay(hub, [item.qid], dry_run=False, actor="test")  # this connector version knows the code
    assert [r.outcome for r in report.results] == ["replayed"], [r.errors for r in report.results]
    with hub.store.transaction() as s:
        assert s.scalar(select(ParcelRow.status).where(ParcelRow.id == booked[0].id)) == ParcelStatus.DEPOSITED.value
    hub.close()
