"""EDI partners in the pilot: a 204 and an IFTMIN go through `lockerhub run` beside the CSV partner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_204_booked_and_iftmin_refused_for_an_unknown_locker(pilot: Path, sim) -> None:  # type: ignore[no-untyped-def]
    folder = pilot.parent
    config = folder / "edi.yaml"
    config.write_text(
        "partners:\n"
        "  acme-x12:\n    connector: x12\n"
        "    config: {inbox: inbox/acme-x12, mapping: ../../mappings/acme-x12/load_tender_204.yaml}\n"
        "  acme-edifact:\n    connector: edifact\n"
        "    config: {inbox: inbox/acme-edifact, mapping: ../../mappings/acme-edifact/iftmin.yaml}\n"
        "vendors:\n  simlocker:\n    connector: simlocker\n    config: {}\n"
        "routing:\n  vendor: simlocker\n  regions: [WAW, KRK, GDN]\n",
        "utf-8",
    )
    for partner, name in (("acme-x12", "good_204.edi"), ("acme-x12", "bad_se_count.edi"),
                          ("acme-edifact", "iftmin-basic.edi")):
        inbox = folder / "inbox" / partner
        inbox.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "mappings" / partner / "tests" / name, inbox / name)
    proc = subprocess.run([sys.executable, "-m", "lockerhub.cli", "run", str(config), "--json"],
                          capture_output=True, text=True, env=dict(os.environ), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    by_file = {Path(r["file"]).name: r for r in result["ingested"]}
    good, bad, iftmin = by_file["good_204.edi"], by_file["bad_se_count.edi"], by_file["iftmin-basic.edi"]
    # two transaction sets with three parcels; the bad file: one good set (one parcel) and one with a wrong SE01
    assert (good["records"], good["accepted"], good["quarantined"]) == (2, 3, 0)
    assert (bad["records"], bad["accepted"], bad["quarantined"]) == (2, 1, 1)
    # SIM-WAW-0001 and SIM-KRK-0001 exist in the network; the IFTMIN's KRA01M does not: refused at ingest (an
    # EDI partner hears it in the acknowledgement), quarantined, never booked
    assert (iftmin["records"], iftmin["accepted"], iftmin["refused"], iftmin["quarantined"]) == (1, 0, 1, 1)
    assert (result["booking"]["booked"], result["booking"]["rejected"]) == (4, 0)
    # without an outbox the partners' status messages wait in the hub's outbox instead of being lost
    assert result["relay"]["published"] == 0
    assert result["relay"]["waiting"] == {"acme-x12": 4}
    listing = subprocess.run([sys.executable, "-m", "lockerhub.cli", "quarantine", "list", "--json"],
                             capture_output=True, text=True, env=dict(os.environ), check=True)
    errors = [e for item in json.loads(listing.stdout) for e in item["errors"]]
    assert any("SE-SE01" in e and "segment count" in e for e in errors), errors


def test_ingest_finds_the_partner_from_the_envelope_sender(pilot: Path, sim) -> None:  # type: ignore[no-untyped-def]
    folder = pilot.parent
    config = folder / "edi.yaml"
    config.write_text(
        "partners:\n"
        "  acme-x12:\n    connector: x12\n    sender: ACMETMS\n"
        "    config: {inbox: inbox/acme-x12, mapping: ../../mappings/acme-x12/load_tender_204.yaml}\n"
        "  other-edifact:\n    connector: edifact\n    sender: OTHERTMS\n"
        "    config: {inbox: inbox/other, mapping: ../../mappings/acme-edifact/iftmin.yaml}\n"
        "vendors:\n  simlocker:\n    connector: simlocker\n    config: {}\n"
        "routing:\n  vendor: simlocker\n",
        "utf-8",
    )
    for sub in ("acme-x12", "other"):
        (folder / "inbox" / sub).mkdir(parents=True, exist_ok=True)
    drop = folder / "inbox" / "acme-x12" / "good_204.edi"
    shutil.copy(ROOT / "mappings" / "acme-x12" / "tests" / "good_204.edi", drop)
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "lockerhub.cli", "ingest", str(drop), "--config", str(config),
                           "--json"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["accepted"] == 3
    iftmin = folder / "inbox" / "other" / "iftmin.edi"
    shutil.copy(ROOT / "mappings" / "acme-edifact" / "tests" / "iftmin-basic.edi", iftmin)
    proc = subprocess.run([sys.executable, "-m", "lockerhub.cli", "ingest", str(iftmin), "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"{iftmin}: error: no partner for this file: expected an EDI interchange whose sender is one of: "
        "ACMETMS (acme-x12), OTHERTMS (other-edifact) (or name the partner with --partner)")


def test_214_files_follow_the_parcels_and_a_retried_batch_is_the_same_file(pilot: Path, sim, world) -> None:  # type: ignore[no-untyped-def]
    from lockerhub_x12.envelope import parse_file

    from lockerhub.runtime.hub import Hub
    from lockerhub.runtime.pipeline import run_hub
    from lockerhub.runtime.relay import relay_outbox
    from lockerhub.store import OutboxRow, ParcelRow

    folder = pilot.parent
    config = folder / "x12.yaml"
    config.write_text(
        "partners:\n  acme-x12:\n    connector: x12\n"
        "    config: {inbox: inbox/acme-x12, outbox: outbox/acme-x12, partner_id: ACMETMS,\n"
        "             mapping: ../../mappings/acme-x12/load_tender_204.yaml}\n"
        "vendors:\n  simlocker:\n    connector: simlocker\n    config: {}\n"
        "routing:\n  vendor: simlocker\n",
        "utf-8",
    )
    inbox = folder / "inbox" / "acme-x12"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mappings" / "acme-x12" / "tests" / "good_204.edi", inbox / "good_204.edi")
    hub = Hub.open(config)
    try:
        first = run_hub(hub)
        assert first.booking.booked == 3
        assert first.relay.files == []  # BOOKED is not reported in a 214
        with hub.store.transaction() as s:
            reservations = [r.reservation_id for r in s.query(ParcelRow).all()]
        for reservation in reservations:
            world.deposit(reservation)
        second = run_hub(hub)
        (path,) = second.relay.files
        document = parse_file(path)
        assert document.errors == []
        segments = [seg for _, _, t in document.transactions() for seg in t.segments]
        assert [seg.value(1) for seg in segments if seg.tag == "AT7"] == ["X1", "X1", "X1"]
        golden = json.loads((ROOT / "mappings" / "acme-x12" / "tests" / "good_204.expected.json").read_text("utf-8"))
        parcel_ids = {p["parcel_id"] for r in golden["records"] for p in r["value"]["parcels"]}
        assert {seg.value(1) for seg in segments if seg.tag == "L11"} == parcel_ids
        content = path.read_bytes()
        # a relay retried after a crash writes the same batch again: same file, same control numbers
        with hub.store.transaction() as s:
            for row in s.query(OutboxRow).all():
                row.published_at = None
        again = relay_outbox(hub)
        assert again.files == [path] and path.read_bytes() == content
    finally:
        hub.close()


def test_iftsta_files_follow_the_parcels(pilot: Path, sim, world) -> None:  # type: ignore[no-untyped-def]
    from lockerhub_edifact.envelope import parse

    from lockerhub.runtime.hub import Hub
    from lockerhub.runtime.pipeline import run_hub
    from lockerhub.store import ParcelRow

    folder = pilot.parent
    config = folder / "edifact.yaml"
    config.write_text(
        "partners:\n  acme-edifact:\n    connector: edifact\n"
        "    config: {inbox: inbox/acme-edifact, outbox: outbox/acme-edifact, partner_id: ACMETMS,\n"
        "             mapping: ../../mappings/acme-edifact/iftmin.yaml}\n"
        "vendors:\n  simlocker:\n    connector: simlocker\n    config: {}\n"
        "routing:\n  vendor: simlocker\n",
        "utf-8",
    )
    inbox = folder / "inbox" / "acme-edifact"
    inbox.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "mappings" / "acme-edifact" / "tests" / "iftmin-basic.edi").read_bytes()
    (inbox / "iftmin.edi").write_bytes(text.replace(b"KRA01M", b"SIM-KRK-0001"))  # a locker of the network
    hub = Hub.open(config)
    try:
        assert run_hub(hub).booking.booked == 2
        with hub.store.transaction() as s:
            reservations = [r.reservation_id for r in s.query(ParcelRow).all()]
        for reservation in reservations:
            world.deposit(reservation)
        (path,) = run_hub(hub).relay.files
    finally:
        hub.close()
    document = parse(path.read_bytes(), file=str(path))
    assert document.errors == []
    (message,) = document.messages()
    assert message.kind == "IFTSTA"
    # STS element 2 is the status event (9011): "1" arrived, which is how DEPOSITED is reported
    assert [seg.value(2) for seg in message.segments if seg.tag == "STS"] == ["1", "1"]
    assert [seg.value(2) for seg in message.segments if seg.tag == "LOC"] == ["SIM-KRK-0001", "SIM-KRK-0001"]
