"""Responses to a received X12 file (the connector's ``write_ack``): 997/999 for every functional group, and 990
tender responses for 204 load tenders.

Capabilities:
    One interchange per received file, addressed to its sender (ISA05/ISA06 of the first interchange), holding an
    ``FA`` group with one 997 (or 999) per received functional group and, with ``tender_response``, a ``GF`` group
    with one 990 per 204 whose shipment could be read: ``A`` when the hub took it, ``D`` when a business check
    refused it (unknown locker, no compartment fits, duplicate shipment). A transaction set is ``R`` in the
    997/999 when it had envelope or mapping errors or was refused; its errors that name a segment of its body
    become AK3/AK4 (IK3/IK4); the others in the same group are ``A``.

    Which acknowledgement: ``acknowledgement: auto`` sends a 999 for a group of version 005010 or later and a 997
    otherwise; ``997`` or ``999`` forces one; ``none`` sends none (990s still go out when asked for).

    The answer is written in the version of the received file (its first GS08), with the configured delimiters.
    Control numbers come from the per-partner counter keyed by the received file's SHA-256, and the file is named
    ``ack_<partner>_<sha12>.edi``: ingesting the same file again (a retried run) writes the same control numbers.

Limits/Pitfalls:
    - Nothing is written without an ``outbox``.
    - The received file is parsed again as a whole to build the acknowledgement (it is still in the inbox): memory
      is that of the file's tree, not of one interchange.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from lockerhub_edi import EdiError

from lockerhub.errors import LockerhubError
from lockerhub.plugins.inbox import write_atomically
from lockerhub.plugins.protocols import RecordOutcome
from lockerhub_x12 import envelope
from lockerhub_x12.config import X12Config
from lockerhub_x12.controls import ControlNumbers
from lockerhub_x12.messages import GroupAck, acknowledge, build_990, build_997, build_999, functional_id
from lockerhub_x12.writer import FunctionalGroup, PartyId, TransactionSet, WriteDelimiters, write_interchange

ACK_VERSION_999 = "005010X231A1"  # GS08 of a 999 (the implementation guide of the 999 itself)


def delimiters_of(cfg: X12Config) -> WriteDelimiters:
    return WriteDelimiters(element=cfg.element, component=cfg.component, segment=cfg.segment,
                           newline=cfg.newline if cfg.segment != "\n" else "")


def _answer_version(document: envelope.X12Document, configured: str) -> str:
    """An answer is written in the version of what it answers (the first group's GS08, e.g. ``005010``)."""
    for _, group, _ in document.transactions():
        received = (group.header.value(8) or "")[:6] if group.header is not None else ""
        if len(received) == 6 and received.isdigit():
            return received
    return configured


def _ack_kind(cfg: X12Config, group: GroupAck) -> str | None:
    if cfg.acknowledgement == "none":
        return None
    if cfg.acknowledgement != "auto":
        return cfg.acknowledgement
    return "999" if (group.version or "") >= "005010" else "997"


def _refusals(outcomes: Sequence[RecordOutcome]) -> dict[tuple[str, str, str], list[LockerhubError]]:
    """Mapping errors and business rejections per (ISA13, GS06, ST02); envelope errors the 997 finds itself."""
    out: dict[tuple[str, str, str], list[LockerhubError]] = {}
    for outcome in outcomes:
        if outcome.accepted or outcome.ack_key is None or len(outcome.ack_key) != 3:
            continue
        errors = [e for e in outcome.errors if not isinstance(e, EdiError)]
        if errors:
            out.setdefault(outcome.ack_key, []).extend(errors)  # type: ignore[arg-type]
    return out


def _tender_responses(outcomes: Sequence[RecordOutcome], kinds: Mapping[tuple[str, ...], str],
                      controls: ControlNumbers, partner: str, key: str, today: dt.date, scac: str) -> list[TransactionSet]:
    out: list[TransactionSet] = []
    for outcome in outcomes:
        if outcome.ack_key is None or kinds.get(outcome.ack_key) != "204" or outcome.shipment_reference is None:
            continue
        control = controls.next(partner, "transaction", key=f"{key}:990:{len(out)}")
        out.append(build_990(outcome.shipment_reference, accepted=outcome.accepted, control=control, date=today,
                             scac=scac))
    return out


def write_responses(path: Path, outcomes: Sequence[RecordOutcome], *, cfg: X12Config,
                    now: dt.datetime | None = None) -> list[Path]:
    """Write the response interchange for the received file ``path``; return the files written (see the module
    docstring)."""
    if cfg.outbox is None:
        return []
    document = envelope.parse_file(path, encoding="latin-1")
    if not document.interchanges:
        return []
    first = document.interchanges[0].header
    them = PartyId((first.raw(6) or "").strip(), (first.raw(5) or "ZZ").strip() or "ZZ")
    partner = cfg.partner_id or them.id
    version = _answer_version(document, cfg.version)
    key = hashlib.sha256(path.read_bytes()).hexdigest()
    controls = ControlNumbers(cfg.outbox / ".lockerhub")
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)

    acks: list[TransactionSet] = []
    for group in acknowledge(document, rejected=_refusals(outcomes)):
        kind = _ack_kind(cfg, group)
        if kind is not None:
            control = controls.next(partner, "transaction", key=f"{key}:ack:{len(acks)}")
            acks.append((build_999 if kind == "999" else build_997)(group, control=control))
    groups: list[FunctionalGroup] = []
    if acks:
        groups.append(FunctionalGroup(functional_id(acks[0].kind), controls.next(partner, "group", key=f"{key}:FA"),
                                      acks, version=ACK_VERSION_999 if acks[0].kind == "999" else version))
    if cfg.tender_response:
        kinds = {(i.header.raw(13) or "", g.header.value(6) or "", t.control or ""): t.kind
                 for i, g, t in document.transactions() if g.header is not None}
        tenders = _tender_responses(outcomes, kinds, controls, partner, key, now.date(), cfg.scac)
        if tenders:
            groups.append(FunctionalGroup(functional_id("990"), controls.next(partner, "group", key=f"{key}:GF"),
                                          tenders))
    if not groups:
        return []
    text = write_interchange(PartyId(cfg.interchange_id), them, groups, delimiters=delimiters_of(cfg),
                             control_number=controls.next(partner, "interchange", key=key), date=now.date(),
                             time=now.time().replace(second=0, microsecond=0), version=version)
    cfg.outbox.mkdir(parents=True, exist_ok=True)
    return [write_atomically(cfg.outbox / f"ack_{partner}_{key[:12]}.edi", text.encode("ascii", errors="strict"))]
