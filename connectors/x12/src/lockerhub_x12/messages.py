"""X12 messages lockerhub sends: 214 shipment status, 990 tender response, 997 and 999 acknowledgements.

Capabilities:
    Each builder returns a :class:`~lockerhub_x12.writer.TransactionSet` (the segments between ST and SE) for
    :func:`~lockerhub_x12.writer.write_interchange`; :func:`functional_id` gives its GS01.

    - ``build_214(shipment_reference, updates, control=...)``: B10 with the shipment reference, then per
      :class:`~lockerhub.plugins.protocols.StatusUpdate` an LX loop: AT7 (status code from ``statuses_214.yaml``,
      reason, date CCYYMMDD and time HHMM in the event's own UTC offset, time code for that offset), MS1 with the
      locker's city when ``cities`` knows it, L11 with the parcel id (qualifier ``2I``, tracking number).
    - ``build_990(shipment_id, accepted=..., date=...)``: B1 with A (accept) or D (decline).
    - ``build_997(group, control=...)`` / ``build_999(...)``: AK1, per transaction set AK2 [AK3 [AK4]] AK5 (999:
      IK3/IK4/IK5), AK9 with the counts. :func:`acknowledge` makes the :class:`GroupAck` s of a parsed file: a
      transaction set with envelope errors, or named in ``rejected`` (business rejections: unknown locker, no
      compartment fits, duplicate shipment), is R; the others in the same group are A.

    Codes are data: ``statuses_214.yaml`` (AT7 and time codes) and ``acks.yaml`` (997/999 error codes).

Limits/Pitfalls:
    - Interchange-level errors (ISA/IEA) are a TA1's business and are not reported in a 997/999; a transaction set
      outside any GS cannot be acknowledged (no AK1) and is left out.
    - Bad data (AK404/IK404) is not copied into acknowledgements: it may be personal data or hold a delimiter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml
from lockerhub_edi import EdiError, Segment

from lockerhub.errors import ConfigError, Location, LockerhubError, MappingError
from lockerhub.model.status import ParcelStatus
from lockerhub.plugins.protocols import StatusUpdate
from lockerhub_x12.envelope import X12Document
from lockerhub_x12.writer import SegmentSpec, TransactionSet

STATUSES_FILE = "statuses_214.yaml"
ACKS_FILE = "acks.yaml"
_SEGMENT = re.compile(r"segment (\d+) (\w+)")
_ELEMENT = re.compile(r"(\d{2})(?:-(\d+))?")  # after the tag: B203, B203-1


def _data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(resources.files("lockerhub_x12").joinpath(name).read_text("utf-8"))
    return data


@dataclass(frozen=True, slots=True)
class Table214:
    """``statuses_214.yaml``: canonical status -> AT7 code, the default reason, offset -> time code."""

    codes: dict[ParcelStatus, str]
    reason: str
    time_codes: dict[str, str]
    other_offset: str


@cache
def table_214() -> Table214:
    data = _data(STATUSES_FILE)
    codes: dict[ParcelStatus, str] = {}
    for status, code in (data.get("statuses") or {}).items():
        try:
            codes[ParcelStatus(status)] = str(code)
        except ValueError:
            where = Location(file=STATUSES_FILE, path=f"statuses.{status}")
            raise ConfigError("unknown canonical status", location=where,
                              expected="a canonical status (lifecycle.yaml)", found=repr(status)) from None
    return Table214(codes, str(data["reason"]), {str(k): str(v) for k, v in data["time_codes"].items()},
                    str(data["other_offset"]))


@cache
def acks_table() -> dict[str, Any]:
    return _data(ACKS_FILE)


def functional_id(kind: str) -> str:
    """GS01 for a transaction set id written here (``214`` -> ``QM``)."""
    return str(acks_table()["functional_ids"][kind])


def at7_code(status: ParcelStatus | str) -> str | None:
    """The AT7 status code sent for a canonical status, or None when that status is not reported in a 214."""
    return table_214().codes.get(ParcelStatus(status))


def time_code(moment: dt.datetime) -> str:
    """AT707 for the UTC offset of an aware datetime (``+02:00`` -> ``02``, UTC -> ``UT``)."""
    offset = moment.utcoffset()
    if offset is None:
        raise MappingError("event time without a UTC offset", expected="an aware datetime", found=str(moment))
    minutes = int(offset.total_seconds()) // 60
    text = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    table = table_214()
    return table.time_codes.get(text, table.other_offset)


# -- 214 ----------------------------------------------------------------------------------------------------
def _status_loop(n: int, update: StatusUpdate, cities: Mapping[str, str | tuple[str, str]]) -> list[SegmentSpec]:
    event = update.event
    code = at7_code(event.status)
    if code is None:
        raise MappingError(f"status {event.status} is not sent in an X12 214", location=Location(file=STATUSES_FILE),
                           expected=" | ".join(sorted(table_214().codes)), found=str(event.status),
                           hint="filter updates with at7_code() first, or add the status to statuses_214.yaml")
    when = event.occurred_at
    loop: list[SegmentSpec] = [["LX", str(n)], ["AT7", code, table_214().reason, "", "", when.strftime("%Y%m%d"),
                                                   when.strftime("%H%M"), time_code(when)]]
    place = cities.get(event.locker_id) if event.locker_id else None
    if place:
        city, country = (place, "") if isinstance(place, str) else place
        loop.append(["MS1", city, "", country])
    loop.append(["L11", update.parcel_id, "2I"])
    return loop


def build_214(shipment_reference: str, updates: Sequence[StatusUpdate], *, control: int | str,
              scac: str = "", cities: Mapping[str, str | tuple[str, str]] | None = None) -> TransactionSet:
    """A 214 for one shipment: B10 (B1001 the first parcel id, B1002 the shipment reference, B1003 ``scac``), then
    one LX loop per update in the order given. ``cities`` maps locker ids to a city or (city, country code)."""
    if not updates:
        raise MappingError("214 without status updates", expected="at least one update", found="none")
    others = sorted({u.shipment_reference for u in updates} - {shipment_reference})
    if others:
        raise MappingError("214 for one shipment", expected=f"updates of shipment {shipment_reference}",
                           found=f"updates of {len(others)} other shipment(s)")
    segments: list[SegmentSpec] = [["B10", updates[0].parcel_id, shipment_reference, scac]]
    for n, update in enumerate(updates, 1):
        segments.extend(_status_loop(n, update, cities or {}))
    return TransactionSet("214", control, segments)


# -- 990 ----------------------------------------------------------------------------------------------------
def build_990(shipment_id: str, *, accepted: bool, control: int | str, date: dt.date, scac: str = "") -> TransactionSet:
    """A 990 response to a load tender: B1 (SCAC, shipment id, date, A accept / D decline)."""
    action = acks_table()["tender_response"]["accept" if accepted else "decline"]
    return TransactionSet("990", control, [["B1", scac, shipment_id, date.strftime("%Y%m%d"), action]])


# -- 997 / 999 ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ElementNote:
    """An element error (AK4/IK4): its position in the segment (and component), its error code."""

    position: int
    code: str
    component: int | None = None
    reference: str = ""  # data element reference number, when known


@dataclass(frozen=True, slots=True)
class SegmentNote:
    """A segment error (AK3/IK3): tag, position in the transaction set (ST = 1), error code, element errors."""

    tag: str
    position: int
    code: str
    elements: tuple[ElementNote, ...] = ()


@dataclass(slots=True)
class TransactionAck:
    """One AK2 loop: the transaction set (ST01, ST02), its status (A, E or R) with codes, its segment errors."""

    kind: str
    control: str
    status: str = "A"
    codes: tuple[str, ...] = ()
    segments: tuple[SegmentNote, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")


@dataclass(slots=True)
class GroupAck:
    """What one 997/999 acknowledges: a functional group (GS01, GS06, GS08), its transaction sets, its own error
    codes (AK905..), and how many transaction sets the GE said it held (``included``; default: those received)."""

    functional_id: str
    control: str
    version: str | None = None
    transactions: list[TransactionAck] = field(default_factory=list)
    codes: tuple[str, ...] = ()
    included: int | None = None

    @property
    def status(self) -> str:
        """AK901: A all accepted, E accepted with errors, P partially accepted, R rejected."""
        if self.codes:
            return "R"
        accepted = [t for t in self.transactions if t.accepted]
        if len(accepted) < len(self.transactions):
            return "P" if accepted else "R"
        return "E" if any(t.status == "E" for t in self.transactions) else "A"


def _ack(kind: str, group: GroupAck, control: int | str) -> TransactionSet:
    tags = acks_table()["segments"][kind]
    ak1: SegmentSpec = ["AK1", group.functional_id, group.control]
    if kind == "999":
        ak1 = [*ak1, group.version or ""]
    segments: list[SegmentSpec] = [ak1]
    for txn in group.transactions:
        segments.append(["AK2", txn.kind, txn.control])
        for note in txn.segments:
            segments.append([tags["segment"], note.tag, str(note.position), "", note.code])
            for element in note.elements:
                position: str | list[str] = str(element.position)
                if element.component is not None:
                    position = [str(element.position), str(element.component)]
                segments.append([tags["element"], position, element.reference, element.code])
        segments.append([tags["transaction"], txn.status, *txn.codes[:5]])
    received = len(group.transactions)
    accepted = sum(t.accepted for t in group.transactions)
    included = group.included if group.included is not None else received
    segments.append(["AK9", group.status, str(included), str(received), str(accepted), *group.codes[:5]])
    return TransactionSet(kind, control, segments)


def build_997(group: GroupAck, *, control: int | str) -> TransactionSet:
    """A 997 functional acknowledgement of one group (AK1, AK2/AK3/AK4/AK5 per transaction set, AK9)."""
    return _ack("997", group, control)


def build_999(group: GroupAck, *, control: int | str) -> TransactionSet:
    """A 999 implementation acknowledgement (005010) of one group: AK1 with the version, AK2/IK3/IK4/IK5, AK9."""
    return _ack("999", group, control)


def _matched(error: LockerhubError, rules: list[dict[str, str]], default: str) -> str:
    element = error.location.element if error.location else None
    for rule in rules:
        by_element = "element" in rule and rule["element"] == element
        if by_element or ("message" in rule and rule["message"] in error.message):
            return str(rule["code"])
    return default


def _note(error: LockerhubError, header: Segment, trailer: Segment | None) -> SegmentNote | None:
    """AK3 (with AK4) for an error naming a segment inside the transaction set body, else None."""
    where = error.location
    match = _SEGMENT.fullmatch(where.segment or "") if where else None
    if where is None or match is None:
        return None
    number, tag = int(match.group(1)), match.group(2)
    last = trailer.number if trailer is not None else None
    if number <= header.number or (last is not None and number >= last):
        return None  # ST/SE themselves: reported by the AK5 code
    table = acks_table()
    elements: tuple[ElementNote, ...] = ()
    name = where.element or ""
    found = _ELEMENT.fullmatch(name[len(tag):]) if name.startswith(tag) else None
    if found:
        component = int(found.group(2)) if found.group(2) else None
        elements = (ElementNote(int(found.group(1)), str(table["element_error"]), component),)
    return SegmentNote(tag, number - header.number + 1, str(table["segment_error"]), elements)


def acknowledge(document: X12Document, *,
                rejected: Mapping[tuple[str, str, str], Sequence[LockerhubError]] | None = None) -> list[GroupAck]:
    """One :class:`GroupAck` per functional group of a parsed file. A transaction set is R when it has envelope
    errors or business rejections in ``rejected`` (keyed by ISA13, GS06, ST02); its errors that name a segment of
    its body become AK3/AK4. The others are A, so the good transaction sets of a file still proceed."""
    table = acks_table()
    rejected = rejected or {}
    out: list[GroupAck] = []
    for interchange in document.interchanges:
        isa13 = interchange.header.raw(13) or ""
        for group in interchange.groups:
            header = group.header
            if header is None:
                continue
            gs06 = header.value(6) or ""
            codes = tuple(dict.fromkeys(_matched(e, table["group_errors"], str(table["default_group_error"]))
                                        for e in group.errors))
            included = int(group.trailer.value(1) or 0) if group.trailer and (group.trailer.value(1) or "").isdigit() \
                else None
            ack = GroupAck(header.value(1) or "", gs06, header.value(8), codes=codes, included=included)
            for txn in group.transactions:
                control = txn.control or ""
                business = list(rejected.get((isa13, gs06, control), ()))
                envelope: list[EdiError] = list(txn.errors)
                if not envelope and not business:
                    ack.transactions.append(TransactionAck(txn.kind, control))
                    continue
                found = [_matched(e, table["transaction_errors"], str(table["default_transaction_error"]))
                         for e in envelope]
                found += [str(table["default_transaction_error"])] * bool(business)
                notes = tuple(n for e in [*envelope, *business] if (n := _note(e, txn.header, txn.trailer)))
                ack.transactions.append(TransactionAck(txn.kind, control, "R", tuple(dict.fromkeys(found)), notes))
            out.append(ack)
    return out
