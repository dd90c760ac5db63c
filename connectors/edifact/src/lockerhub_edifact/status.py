"""Status updates to IFTSTA files in the partner's outbox (the connector's ``write_status``).

Capabilities:
    One interchange with one IFTSTA message per batch of updates (CNI loop per shipment). Statuses without a
    status event code in ``statuses_iftsta.yaml`` (CREATED, BOOKED, ...) are not sent. The file name comes from
    the batch's outbox sequence numbers (``iftsta_<partner>_<first>-<last>.edi``), the interchange and message
    references from the persistent per-partner counter *keyed by the batch*, and the preparation time is the latest
    event's: a relay retried after a crash writes the same bytes again.

Config:
    ``outbox`` (LOCKERHUB_EDIFACT_OUTBOX), ``interchange_id`` (our UNB02), ``partner_id`` (their UNB03).

Limits/Pitfalls:
    - Reference state lives in ``<outbox>/.lockerhub/control_numbers.json``; keep it with the outbox.
    - Files are written in the default syntax (UNOC, ISO 8859-1) with the default service characters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from lockerhub.errors import MappingError
from lockerhub.plugins.inbox import batch_file_name, write_atomically
from lockerhub.plugins.protocols import StatusUpdate
from lockerhub_edifact.controls import ControlNumbers
from lockerhub_edifact.messages import iftsta, iftsta_codes, status_code
from lockerhub_edifact.writer import Party, write_interchange


def _sendable(update: StatusUpdate) -> bool:
    try:
        status_code(iftsta_codes(), update.event.status, update.event.reason)
    except MappingError:
        return False
    return True


def write_iftsta_files(updates: Sequence[StatusUpdate], *, outbox: Path, interchange_id: str,
                       partner_id: str) -> list[Path]:
    """Write the IFTSTA interchange for ``updates`` (one partner's batch); return the files written."""
    sendable = sorted((u for u in updates if _sendable(u)), key=lambda u: u.sequence)
    if not sendable:
        return []
    first, last = sendable[0].sequence, sendable[-1].sequence
    batch = f"{first}-{last}"
    controls = ControlNumbers(outbox / ".lockerhub" / "control_numbers.json")
    prepared = max(u.event.occurred_at for u in sendable).astimezone(dt.timezone.utc)
    message = iftsta(sendable, reference=str(controls.next(partner_id, "message", key=batch)),
                     document_number=f"STS{first:08d}", prepared=prepared)
    text = write_interchange([message], sender=Party(interchange_id, "ZZ"), recipient=Party(partner_id, "ZZ"),
                             control=controls.next(partner_id, "interchange", key=batch), prepared=prepared,
                             newline="\n")
    outbox.mkdir(parents=True, exist_ok=True)
    return [write_atomically(outbox / batch_file_name("iftsta", partner_id, first, last, ".edi"),
                             text.encode("latin-1"))]
