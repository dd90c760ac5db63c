"""Responses to a received EDIFACT file (the connector's ``write_ack``): CONTRL per interchange, APERAK per refused
message.

Capabilities:
    One interchange per received file, addressed to its sender (UNB02 of the first interchange), holding:

    - with ``contrl`` (default on), one CONTRL per received interchange: UCI action 7 with a UCM per message (7
      accepted, 4 rejected with the syntax error code, UCS/UCD for errors in the body), or UCI action 4 when the
      interchange itself is broken (see :func:`lockerhub_edifact.messages.contrl`);
    - with ``aperak: rejections`` (default), one APERAK per message that was well-formed but refused: an ERC per
      business reason (``unknown_locker``, ``no_compartment_fits``, ``duplicate_shipment``; codes in
      ``aperak_errors.yaml``), or ``other`` when its mapping failed (a required value missing). ``aperak: all`` also
      sends a positive APERAK (no ERC) for each accepted message; ``none`` sends none.

    CONTRL answers syntax, APERAK answers the application: a message can be syntactically fine (UCM 7) and still be
    refused (APERAK with ERC). References come from the per-partner counter keyed by the received file's SHA-256,
    and the file is ``ack_<partner>_<sha12>.edi``: the same file ingested again gets the same references.

Limits/Pitfalls:
    - Nothing is written without an ``outbox``.
    - The received file is parsed again as a whole to build the answer (it is still in the inbox).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

from lockerhub_edi import EdiError

from lockerhub.plugins.inbox import write_atomically
from lockerhub.plugins.protocols import RecordOutcome
from lockerhub_edifact import envelope
from lockerhub_edifact.config import EdifactConfig
from lockerhub_edifact.controls import ControlNumbers
from lockerhub_edifact.messages import aperak, contrl
from lockerhub_edifact.writer import Message, Party, write_interchange


def _aperak_reasons(outcome: RecordOutcome) -> tuple[str, ...] | None:
    """The ERC reasons of a refused, well-formed message; None when it is not an APERAK's business (accepted, or a
    syntax error CONTRL reports)."""
    if outcome.accepted:
        return None
    if outcome.reasons:
        return outcome.reasons
    if any(isinstance(e, EdiError) for e in outcome.errors):
        return None
    return ("other",)


def write_responses(path: Path, outcomes: Sequence[RecordOutcome], *, cfg: EdifactConfig,
                    now: dt.datetime | None = None) -> list[Path]:
    """Write the response interchange for the received file ``path``; return the files written (see the module
    docstring)."""
    if cfg.outbox is None:
        return []
    data = path.read_bytes()
    document = envelope.parse(data, file=str(path))
    if not document.interchanges:
        return []
    first = document.interchanges[0].header
    them = Party(first.value(2, 1) or "", first.value(2, 2))
    partner = cfg.partner_id or them.id
    key = hashlib.sha256(data).hexdigest()
    controls = ControlNumbers(cfg.outbox / ".lockerhub" / "control_numbers.json")
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)

    def reference(what: str) -> str:
        return str(controls.next(partner, "message", key=f"{key}:{what}"))

    messages: list[Message] = []
    if cfg.contrl:
        for n, interchange in enumerate(document.interchanges):
            messages.append(contrl(interchange, reference=reference(f"contrl:{n}")))
    if cfg.aperak != "none":
        for n, outcome in enumerate(outcomes):
            reasons = _aperak_reasons(outcome)
            if outcome.ack_key is None or (reasons is None and not (outcome.accepted and cfg.aperak == "all")):
                continue
            number = reference(f"aperak:{n}")
            messages.append(aperak(reference=number, document_number=f"AP{number}", prepared=now,
                                   acknowledged=outcome.ack_key[-1], rejections=reasons or ()))
    if not messages:
        return []
    text = write_interchange(messages, sender=Party(cfg.interchange_id, "ZZ"), recipient=them,
                             control=controls.next(partner, "interchange", key=key), prepared=now, newline="\n")
    cfg.outbox.mkdir(parents=True, exist_ok=True)
    return [write_atomically(cfg.outbox / f"ack_{partner}_{key[:12]}.edi", text.encode("latin-1"))]
