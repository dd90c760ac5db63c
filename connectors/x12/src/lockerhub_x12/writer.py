"""X12 text from segments: partner-specific delimiters, ISA/GS/ST envelopes with their counts and control numbers.

Capabilities:
    ``write_segments(segments, delimiters)`` writes a list of segments (``["B10", "", "SHP-1"]``; an element may be a
    list of components, ``["AT8", ["G", "K"], ...]``). ``write_interchange(sender, receiver, groups, ...)`` writes a
    whole interchange: the ISA at its fixed width (106 characters with the terminator, ISA06/ISA08 padded to 15),
    each :class:`FunctionalGroup` as GS .. GE (GE01 = number of transaction sets, GE02 = GS06), each
    :class:`TransactionSet` as ST .. SE (SE01 = segments from ST to SE inclusive, SE02 = ST02), and IEA (IEA01 =
    number of groups, IEA02 = ISA13). Dates and times are passed in; nothing here reads a clock.

Limits/Pitfalls:
    - X12 has no release character: a value containing a delimiter (or a CR/LF) cannot be written and is a
      :class:`~lockerhub.errors.ValidationError` naming the segment and element (``segment 3 B10-B1002``); the value
      itself is not shown (it may be personal data), only which delimiter it holds and where.
    - Trailing empty elements are left out (``N1*CN*Test``, not ``N1*CN*Test**``), as X12 requires; empty elements
      in the middle are kept.
    - Before version 00402 ISA11 is the standards identifier ``U`` and there is no repetition separator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lockerhub.errors import Location, ValidationError

Element = str | Sequence[str]  # a simple element, or the components of a composite
SegmentSpec = Sequence[Element]  # tag first: ["ST", "214", "0001"]

ISA_LENGTH = 106
REPETITION_FROM = "00402"
_NEWLINES = ("", "\n", "\r\n")


@dataclass(frozen=True, slots=True)
class WriteDelimiters:
    """The service characters a partner wants: one character each, all distinct; ``newline`` follows every
    segment terminator (``""``, ``"\\n"`` or ``"\\r\\n"``)."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    newline: str = ""

    def __post_init__(self) -> None:
        chars = {"element": self.element, "component": self.component, "repetition": self.repetition,
                 "segment": self.segment}
        for name, ch in chars.items():
            if len(ch) != 1 or ch.isalnum() or ch == " " or (ch in "\r\n" and name != "segment"):
                raise ValidationError(f"X12 delimiters: {name} separator", expected="one character that is not a "
                                      "letter, digit or space (only the segment terminator may be a line break)",
                                      found=repr(ch))
        if len(set(chars.values())) != 4:
            raise ValidationError("X12 delimiters", expected="four distinct characters", found=repr(chars))
        if self.newline not in _NEWLINES or (self.newline and self.segment in "\r\n"):
            raise ValidationError("X12 delimiters: newline after terminators", expected="'', '\\n' or '\\r\\n' "
                                  "(and none when the terminator is itself a line break)", found=repr(self.newline))

    @property
    def forbidden(self) -> dict[str, str]:
        """Character -> what it is, for the characters no value may hold."""
        return {self.element: "element separator", self.component: "component separator",
                self.repetition: "repetition separator", self.segment: "segment terminator",
                "\r": "line break", "\n": "line break"}


@dataclass(frozen=True, slots=True)
class PartyId:
    """An interchange sender or receiver: ISA06/ISA08 with the qualifier ISA05/ISA07 (``ZZ`` mutually defined)."""

    id: str
    qualifier: str = "ZZ"


@dataclass(slots=True)
class TransactionSet:
    """One transaction set: ``kind`` (ST01, e.g. ``214``), ``control`` (ST02) and the segments between ST and SE."""

    kind: str
    control: int | str
    segments: list[SegmentSpec] = field(default_factory=list)

    @property
    def control_text(self) -> str:
        return f"{self.control:04d}" if isinstance(self.control, int) else self.control


@dataclass(slots=True)
class FunctionalGroup:
    """One functional group: ``functional_id`` (GS01, e.g. ``QM`` for 214), ``control`` (GS06). ``sender`` and
    ``receiver`` (GS02/GS03) and ``version`` (GS08) default to the interchange's."""

    functional_id: str
    control: int
    transactions: list[TransactionSet] = field(default_factory=list)
    sender: str | None = None
    receiver: str | None = None
    version: str | None = None


def _check(value: str, delimiters: WriteDelimiters, where: Location) -> None:
    forbidden = delimiters.forbidden
    for at, ch in enumerate(value):
        if ch in forbidden:
            raise ValidationError("value holds a delimiter (X12 has no release character)", location=where,
                                  expected=f"no {forbidden[ch]} {ch!r}",
                                  found=f"{forbidden[ch]} {ch!r} at character {at + 1} of the value",
                                  hint="remove or replace the character before writing, or agree other delimiters "
                                  "with the partner")


def format_segment(segment: SegmentSpec, delimiters: WriteDelimiters, number: int = 1) -> str:
    """One segment's text without its terminator; ``number`` (1-based, in the output) positions errors."""
    if not segment or not isinstance(segment[0], str) or not segment[0]:
        raise ValidationError("segment without a tag", location=Location(segment=f"segment {number}"),
                              expected="a tag first, e.g. ['B10', ...]", found=repr(segment[:1]))
    tag = segment[0]
    es, cs = delimiters.element, delimiters.component
    _check(tag, delimiters, Location(segment=f"segment {number} {tag}", element="tag"))
    parts = [tag]
    for n, element in enumerate(segment[1:], 1):
        where = Location(segment=f"segment {number} {tag}", element=f"{tag}{n:02d}")
        if isinstance(element, str):
            _check(element, delimiters, where)
            parts.append(element)
        else:
            for component in element:
                _check(component, delimiters, where)
            parts.append(cs.join(element))
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return es.join(parts)


def write_segments(segments: Iterable[SegmentSpec], delimiters: WriteDelimiters, *, first: int = 1) -> str:
    """The segments, each followed by the terminator and ``delimiters.newline``; ``first`` numbers the first."""
    end = delimiters.segment + delimiters.newline
    return "".join(format_segment(s, delimiters, n) + end for n, s in enumerate(segments, first))


def _fixed(value: str, width: int, name: str) -> str:
    if len(value) > width:
        raise ValidationError(f"interchange header: {name}", location=Location(segment="segment 1 ISA", element=name),
                              expected=f"at most {width} characters", found=f"{len(value)} characters")
    return value.ljust(width)


def _party(value: PartyId | str) -> PartyId:
    return PartyId(value) if isinstance(value, str) else value


def interchange_segments(sender: PartyId | str, receiver: PartyId | str, groups: Sequence[FunctionalGroup], *,
                         delimiters: WriteDelimiters, control_number: int, date: dt.date, time: dt.time,
                         version: str = "004010", test_indicator: str = "P",
                         ack_requested: bool = False) -> list[SegmentSpec]:
    """Every segment of the interchange, ISA to IEA (see :func:`write_interchange`)."""
    if not 0 < control_number <= 999_999_999:
        raise ValidationError("interchange control number (ISA13)", expected="1 to 999999999",
                              found=str(control_number))
    if test_indicator not in ("T", "P"):
        raise ValidationError("test indicator (ISA15)", expected="'T' or 'P'", found=repr(test_indicator))
    if len(version) != 6 or not version.isdigit():
        raise ValidationError("version", expected="6 digits, e.g. 004010", found=repr(version))
    snd, rcv = _party(sender), _party(receiver)
    isa12 = version[:5]
    isa11 = delimiters.repetition if isa12 >= REPETITION_FROM else "U"
    isa = ["ISA", "00", " " * 10, "00", " " * 10, _fixed(snd.qualifier, 2, "ISA05"), _fixed(snd.id, 15, "ISA06"),
           _fixed(rcv.qualifier, 2, "ISA07"), _fixed(rcv.id, 15, "ISA08"), date.strftime("%y%m%d"),
           time.strftime("%H%M"), isa11, isa12, f"{control_number:09d}", "1" if ack_requested else "0",
           test_indicator, delimiters.component]
    out: list[SegmentSpec] = [isa]
    for group in groups:
        out.append(["GS", group.functional_id, group.sender or snd.id, group.receiver or rcv.id,
                    date.strftime("%Y%m%d"), time.strftime("%H%M"), str(group.control), "X",
                    group.version or version])
        for txn in group.transactions:
            out.append(["ST", txn.kind, txn.control_text])
            out.extend(txn.segments)
            out.append(["SE", str(len(txn.segments) + 2), txn.control_text])
        out.append(["GE", str(len(group.transactions)), str(group.control)])
    out.append(["IEA", str(len(groups)), f"{control_number:09d}"])
    return out


def write_interchange(sender: PartyId | str, receiver: PartyId | str, groups: Sequence[FunctionalGroup], *,
                      delimiters: WriteDelimiters | None = None, control_number: int, date: dt.date, time: dt.time,
                      version: str = "004010", test_indicator: str = "P", ack_requested: bool = False) -> str:
    """One interchange as text. ``version`` is GS08 (``004010``); ISA12 is its first five digits (``00401``).
    ``control_number`` is ISA13 (1..999999999, written as 9 digits); the groups carry GS06 and their transaction
    sets ST02 (an int is written as at least 4 digits). Raises :class:`~lockerhub.errors.ValidationError` for a
    value holding a delimiter or a header field too long."""
    delimiters = delimiters or WriteDelimiters()
    segments = interchange_segments(sender, receiver, groups, delimiters=delimiters, control_number=control_number,
                                    date=date, time=time, version=version, test_indicator=test_indicator,
                                    ack_requested=ack_requested)
    isa, rest = segments[0], segments[1:]
    # ISA holds the component separator itself as ISA16: join it without the delimiter check.
    head = delimiters.element.join(isa) + delimiters.segment + delimiters.newline  # type: ignore[arg-type]
    for n, value in enumerate(isa[1:16], 1):
        if n != 11:  # ISA11 is the repetition separator itself from 00402 on
            where = Location(segment="segment 1 ISA", element=f"ISA{n:02d}")
            _check(value, delimiters, where)  # type: ignore[arg-type]
    return head + write_segments(rest, delimiters, first=2)
