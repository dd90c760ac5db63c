"""Status updates to X12 214 files in the partner's outbox (the connector's ``write_status``).

Capabilities:
    One interchange per batch of updates (one ``QM`` group, one 214 per shipment, its LX/AT7 loops in sequence
    order). Statuses without an AT7 code in ``statuses_214.yaml`` (CREATED, BOOKED, ...) are not sent. The file
    name comes from the batch (``214_<partner>_<first>-<last>.edi``, the outbox sequence numbers), the control
    numbers come from the persistent per-partner counter *keyed by the batch*, and the interchange date/time is the
    latest event's: writing the same batch again (a relay retried after a crash) produces the same bytes, so the
    partner never receives the same status twice under different control numbers.

Config:
    ``outbox`` (LOCKERHUB_X12_OUTBOX), ``interchange_id`` (our ISA06), ``partner_id`` (their ISA08), ``scac``,
    ``version`` (GS08), delimiters ``element``/``component``/``segment`` and ``newline``.

Limits/Pitfalls:
    - Control-number state lives in ``<outbox>/.lockerhub/control_numbers.json``; keep it with the outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from lockerhub.plugins.inbox import batch_file_name, write_atomically
from lockerhub.plugins.protocols import StatusUpdate
from lockerhub_x12.controls import ControlNumbers
from lockerhub_x12.messages import at7_code, build_214
from lockerhub_x12.writer import FunctionalGroup, PartyId, WriteDelimiters, write_interchange


def write_214_files(updates: Sequence[StatusUpdate], *, outbox: Path, interchange_id: str, partner_id: str,
                    delimiters: WriteDelimiters, version: str, scac: str = "") -> list[Path]:
    """Write the 214 interchange for ``updates`` (one partner's batch); return the files written."""
    sendable = sorted((u for u in updates if at7_code(u.event.status) is not None), key=lambda u: u.sequence)
    if not sendable:
        return []
    batch = f"{sendable[0].sequence}-{sendable[-1].sequence}"
    controls = ControlNumbers(outbox / ".lockerhub")
    by_shipment: dict[str, list[StatusUpdate]] = {}
    for update in sendable:
        by_shipment.setdefault(update.shipment_reference, []).append(update)
    transactions = [
        build_214(reference, items, scac=scac,
                  control=controls.next(partner_id, "transaction", key=f"{batch}:{n}"))
        for n, (reference, items) in enumerate(by_shipment.items())
    ]
    group = FunctionalGroup("QM", controls.next(partner_id, "group", key=batch), transactions)
    when = max(u.event.occurred_at for u in sendable).astimezone(dt.timezone.utc)
    text = write_interchange(PartyId(interchange_id), PartyId(partner_id), [group], delimiters=delimiters,
                             control_number=controls.next(partner_id, "interchange", key=batch),
                             date=when.date(), time=when.time().replace(second=0, microsecond=0), version=version)
    name = batch_file_name("214", partner_id, sendable[0].sequence, sendable[-1].sequence, ".edi")
    outbox.mkdir(parents=True, exist_ok=True)
    return [write_atomically(outbox / name, text.encode("ascii", errors="strict"))]
