"""Outbound EDIFACT messages: IFTSTA (status), CONTRL (syntax acknowledgement), APERAK (business acknowledgement).

Each builder returns a :class:`~lockerhub_edifact.writer.Message` (UNH reference, type, body); put it in an
envelope with :func:`~lockerhub_edifact.writer.write_interchange`. Nothing here reads a clock: times are passed in.

IFTSTA (``iftsta``): BGM, DTM+137 (prepared), then one CNI loop per shipment reference (in order of first
    appearance) with, per update, STS (9015 ``1`` transport; 9011 status event from ``statuses_iftsta.yaml``), RFF
    with the shipment reference, DTM with the event time and LOC with the locker id when known. An event time with
    a whole-hour UTC offset is written as format 303 (``CCYYMMDDHHMM`` + ``ZZZ`` = ``+01``); any other offset is
    converted to UTC and written as format 203.
CONTRL (``contrl``): UCI for the received interchange with action 4 (rejected: the interchange has its own
    errors), 7 (acknowledged; each message then has a UCM, 7 or 4) or 8 (received only, no UCM). A rejected
    message's UCM names the error (0085) and, for UNH/UNT errors, the service segment and element; errors in
    the body add UCS (segment position in the message, UNH = 1) and UCD (element:component).
APERAK (``aperak``): BGM (313), DTM+137, RFF to the acknowledged message, and per business rejection an ERC code
    from ``aperak_errors.yaml`` with FTX text.

Codes marked "unverified" below follow common practice but were not confirmed against the UN directories.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import yaml
from lockerhub_edi import EdiError

from lockerhub.errors import MappingError
from lockerhub.model.crosswalk import Crosswalk, load_crosswalk
from lockerhub.model.status import ParcelStatus
from lockerhub.plugins.protocols import StatusUpdate
from lockerhub_edifact.envelope import EdifactInterchange, EdifactMessage
from lockerhub_edifact.writer import Element, Message, Seg, seg

HERE = Path(__file__).parent
IFTSTA_TYPE = "IFTSTA:D:04A:UN"
APERAK_TYPE = "APERAK:D:04A:UN"
CONTRL_TYPE = "CONTRL:D:3:UN"  # unverified: the S009 used for CONTRL under syntax version 3 varies by guide
BGM_IFTSTA = "23"  # unverified: 1001 "status information"; partners also use 44/77
BGM_APERAK = "313"  # unverified: 1001 "message acknowledgement" per the brief; EANCOM examples use 305
DTM_EVENT = "334"  # unverified: 2005 "status change date/time"
RFF_SHIPMENT = "CU"  # 1153 consignor's reference (the TMS's shipment number)
RFF_ACKNOWLEDGED = "ACW"  # unverified: 1153 "reference number to previous message"
LOC_LOCKER = "14"  # unverified: 3227 "place of delivery"? (partners may want their own)

# CONTRL actions (0083), verified against VENDORS.md section 3
REJECTED, ACKNOWLEDGED, RECEIVED = "4", "7", "8"
# syntax error codes (0085), unverified: from ISO 9735 part 1 annex as commonly listed; first match wins
SYNTAX_ERRORS: tuple[tuple[str, str], ...] = (
    ("segment count", "29"),  # control count does not match number of instances received
    ("message count", "29"),
    ("group count", "29"),
    ("reference", "28"),  # references do not match
    ("character set", "21"),  # invalid character(s)
    ("missing", "13"),  # missing
)
UNSPECIFIED = "18"  # unspecified error


# -- IFTSTA -----------------------------------------------------------------------------------------------------
@cache
def iftsta_codes(path: str | None = None) -> Crosswalk:
    return load_crosswalk(path or HERE / "statuses_iftsta.yaml")


def status_code(crosswalk: Crosswalk, status: ParcelStatus, reason: str | None) -> str:
    """The 9011 code for a canonical status (and reason): an exact match first, then one without a reason."""
    exact = [c for c, m in crosswalk.codes.items() if m.status == status and m.reason == reason]
    loose = [c for c, m in crosswalk.codes.items() if m.status == status and m.reason is None]
    found = exact or loose
    if not found:
        raise MappingError(f"no IFTSTA status event code for {status}" + (f" ({reason})" if reason else ""),
                           expected=f"an entry in {crosswalk.file}",
                           found=", ".join(sorted({str(m.status) for m in crosswalk.codes.values()})))
    return found[0]


def edifact_time(when: datetime) -> list[str]:
    """A DTM C507 value and format for an aware time: 303 with the offset when it is whole hours, else 203 UTC."""
    offset = when.utcoffset()
    if offset is None:
        raise MappingError("event time", expected="a time with a UTC offset", found=when.isoformat())
    if offset % timedelta(hours=1) == timedelta(0) and offset != timedelta(0):
        hours = int(offset / timedelta(hours=1))
        return [when.strftime("%Y%m%d%H%M") + f"{hours:+03d}", "303"]
    return [when.astimezone(UTC).strftime("%Y%m%d%H%M"), "203"]


def iftsta(updates: Sequence[StatusUpdate], *, reference: str, document_number: str, prepared: datetime,
           crosswalk: Crosswalk | None = None) -> Message:
    if not updates:
        raise MappingError("IFTSTA", expected="at least one status update", found="none")
    crosswalk = crosswalk or iftsta_codes()
    body: list[Seg] = [seg("BGM", BGM_IFTSTA, document_number, "9"), seg("DTM", ["137", *_utc(prepared)])]
    by_shipment: dict[str, list[StatusUpdate]] = {}
    for u in updates:
        by_shipment.setdefault(u.shipment_reference, []).append(u)
    for n, (shipment, items) in enumerate(by_shipment.items(), 1):
        body.append(seg("CNI", str(n), shipment))
        for u in items:
            e = u.event
            body.append(seg("STS", "1", status_code(crosswalk, e.status, e.reason)))
            body.append(seg("RFF", [RFF_SHIPMENT, shipment]))
            body.append(seg("DTM", [DTM_EVENT, *edifact_time(e.occurred_at)]))
            if e.locker_id:
                body.append(seg("LOC", LOC_LOCKER, e.locker_id))
    return Message(reference, IFTSTA_TYPE, tuple(body))


def _utc(when: datetime) -> list[str]:
    if when.utcoffset() is None:
        return [when.strftime("%Y%m%d%H%M"), "203"]
    return [when.astimezone(UTC).strftime("%Y%m%d%H%M"), "203"]


# -- CONTRL -----------------------------------------------------------------------------------------------------
_SEGMENT = re.compile(r"segment (\d+) ([A-Z0-9]{3})")
_ELEMENT = re.compile(r"[A-Z0-9]{3}(\d{2})")


def syntax_error_code(error: EdiError) -> str:
    text = error.message.lower()
    return next((code for key, code in SYNTAX_ERRORS if key in text), UNSPECIFIED)


def _position(error: EdiError) -> tuple[int | None, str | None, int | None]:
    """(file segment number, tag, element position) of an error, from its location."""
    loc = error.location
    m = _SEGMENT.search(loc.segment or "") if loc else None
    e = _ELEMENT.fullmatch(loc.element or "") if loc else None
    return (int(m[1]) if m else None, m[2] if m else None, int(e[1]) if e else None)


def _party(header_value: str | None, qualifier: str | None) -> list[str]:
    return [header_value or "", qualifier] if qualifier else [header_value or ""]


def _ucm(message: EdifactMessage) -> list[Seg]:
    h = message.header
    ident: list[str] = [h.value(2, i) or "" for i in range(1, 5)]
    problems = message.problems
    if not problems:
        return [seg("UCM", message.reference, ident, ACKNOWLEDGED)]
    first = problems[0]
    number, tag, element = _position(first)
    if tag in ("UNH", "UNT"):
        ucm: tuple[Element, ...] = (message.reference, ident, REJECTED, syntax_error_code(first), tag,
                                    str(element) if element else None)
        return [seg("UCM", *ucm)]
    out = [seg("UCM", message.reference, ident, REJECTED, syntax_error_code(first))]
    for error in problems:
        number, tag, element = _position(error)
        if number is None or tag in ("UNB", "UNZ", "UNG", "UNE", "UNH", "UNT"):
            continue
        code = syntax_error_code(error)
        out.append(seg("UCS", str(number - h.number + 1), code if element is None else None))
        if element is not None:
            out.append(seg("UCD", code, str(element)))
    return out


def contrl(interchange: EdifactInterchange, *, reference: str, received_only: bool = False) -> Message:
    """The CONTRL answering ``interchange`` (as parsed by :func:`~lockerhub_edifact.envelope.parse`)."""
    h = interchange.header
    sender = _party(h.value(2, 1), h.value(2, 2))
    recipient = _party(h.value(3, 1), h.value(3, 2))
    if interchange.errors:
        first = interchange.errors[0]
        _, tag, element = _position(first)
        body = [seg("UCI", interchange.control, sender, recipient, REJECTED, syntax_error_code(first), tag,
                    str(element) if element else None)]
        return Message(reference, CONTRL_TYPE, tuple(body))
    if received_only:
        return Message(reference, CONTRL_TYPE, (seg("UCI", interchange.control, sender, recipient, RECEIVED),))
    body = [seg("UCI", interchange.control, sender, recipient, ACKNOWLEDGED)]
    for message in interchange.messages():
        body += _ucm(message)
    return Message(reference, CONTRL_TYPE, tuple(body))


# -- APERAK -----------------------------------------------------------------------------------------------------
@cache
def aperak_errors(path: str | None = None) -> dict[str, tuple[str, str]]:
    """reason -> (ERC code, text), from ``aperak_errors.yaml``."""
    data = yaml.safe_load((Path(path) if path else HERE / "aperak_errors.yaml").read_text("utf-8"))
    return {str(k): (str(v["code"]), str(v["text"])) for k, v in data.items()}


def aperak(*, reference: str, document_number: str, prepared: datetime, acknowledged: str,
           rejections: Sequence[str] = ()) -> Message:
    """An APERAK for the message with reference ``acknowledged`` (its BGM document number or UNH01): one ERC per
    rejection reason (lifecycle REJECTED reasons); with none it is a positive acknowledgement."""
    table = aperak_errors()
    body = [seg("BGM", BGM_APERAK, document_number, "9"), seg("DTM", ["137", *_utc(prepared)]),
            seg("RFF", [RFF_ACKNOWLEDGED, acknowledged])]
    for reason in rejections:
        if reason not in table:
            raise MappingError("APERAK rejection reason", expected=" | ".join(table), found=repr(reason))
        code, text = table[reason]
        body += [seg("ERC", code), seg("FTX", "AAO", None, None, text)]
    return Message(reference, APERAK_TYPE, tuple(body))
