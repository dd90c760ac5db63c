"""Write EDIFACT: segments and whole interchanges (UNA, UNB, optional UNG/UNE, UNH/UNT, UNZ) in a partner's syntax.

Capabilities:
    ``segment_text(tag, elements, delimiters)`` writes one segment (no terminator). An element is a string, a
    sequence of component strings, or None (empty); trailing empty elements and components are dropped. Data
    containing a service character (segment terminator, element or component separator, release character,
    repetition separator) is released: ``?'`` ``?+`` ``?:`` ``??``.

    ``write_interchange(messages, sender=..., recipient=..., control=..., prepared=...)`` writes a whole
    interchange: UNA when the delimiters differ from the defaults (or ``una=True``), UNB with the syntax
    identifier (``UNOC:3`` by default), sender and recipient with their qualifiers, date/time of preparation
    (passed in: this module never reads a clock) and control reference; an optional UNG/UNE group; each message
    as UNH..UNT with UNT01 = its segment count (UNH and UNT included) and UNT02 = UNH01; UNZ01 = the number of
    messages (or 1 with a group), UNZ02 = UNB05.

Errors:
    A character the declared syntax does not allow (non-Latin-1 under UNOC, non-ASCII under UNOA/UNOB), a tag
    that is not 3 characters, or data with a service character under delimiters without a release character is
    an :class:`EdifactWriteError` naming the segment (its number in the interchange) and the element
    (``segment 7 LOC-LOC02``).

Limits/Pitfalls:
    - UNOA is checked as 7-bit ASCII (lower case passes), as the reader does.
    - UNB04 is ``YYMMDD:HHMM`` for syntax versions 1-3 and ``CCYYMMDD:HHMM`` for version 4.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lockerhub_edi import Delimiters

from lockerhub.errors import Location, ValidationError
from lockerhub_edifact.tokenizer import CHARSETS, DEFAULT_DELIMITERS, una_text

Element = str | Sequence[str] | None


class EdifactWriteError(ValidationError):
    """Data that cannot be written in the interchange's syntax or with its delimiters."""


@dataclass(frozen=True, slots=True)
class Seg:
    """A segment to write: its tag and elements (string, components, or None)."""

    tag: str
    elements: tuple[Element, ...] = ()


def seg(tag: str, *elements: Element) -> Seg:
    return Seg(tag, tuple(elements))


@dataclass(frozen=True, slots=True)
class Party:
    """An interchange (or group) sender or recipient: id and its code qualifier (``ZZ``, ``14`` for a GLN, ...)."""

    id: str
    qualifier: str | None = None

    def element(self) -> list[str]:
        return [self.id, self.qualifier] if self.qualifier else [self.id]


@dataclass(frozen=True, slots=True)
class Message:
    """One message to write: UNH01 ``reference``, UNH02 ``type`` (``IFTSTA:D:04A:UN``) and the body segments."""

    reference: str
    type: str
    body: tuple[Seg, ...] = ()

    @property
    def segment_count(self) -> int:
        """UNT01: the body plus UNH and UNT."""
        return len(self.body) + 2


@dataclass(frozen=True, slots=True)
class GroupHeader:
    """UNG: the group's message type (UNG01), sender, recipient, reference (UNG05) and version (UNG07)."""

    message_type: str
    sender: Party
    recipient: Party
    reference: str
    version: tuple[str, str] = ("D", "04A")
    agency: str = "UN"


@dataclass(frozen=True, slots=True)
class Syntax:
    """UNB01: the syntax identifier and version (``UNOC:3``)."""

    identifier: str = "UNOC"
    version: str = "3"
    codec: str = field(init=False)

    def __post_init__(self) -> None:
        known = CHARSETS.get(self.identifier)
        if known is None:
            raise EdifactWriteError("UNB01 syntax identifier", expected=f"one of {', '.join(CHARSETS)}",
                                    found=repr(self.identifier))
        object.__setattr__(self, "codec", known[0])


def _service(d: Delimiters) -> str:
    return "".join(c for c in (d.segment, d.element, d.component, d.release, d.repetition) if c)


def escape(text: str, d: Delimiters) -> str:
    """``text`` with every service character released (``?+``, ``?:``, ``?'``, ``??``); ValueError when the
    delimiters have no release character and the text needs one."""
    service = _service(d)
    if not any(c in service for c in text):
        return text
    r = d.release
    if not r:
        bad = next(c for c in text if c in service)
        raise ValueError(f"service character {bad!r} in data and no release character declared")
    return "".join(r + c if c in service else c for c in text)


class _Writer:
    """Writes segments one at a time, numbering them (1-based in the interchange) for error positions."""

    def __init__(self, d: Delimiters, syntax: Syntax, newline: str) -> None:
        self.d = d
        self.syntax = syntax
        self.newline = newline
        self.number = 0
        self.parts: list[str] = []

    def _where(self, tag: str, element: int | None) -> Location:
        return Location(segment=f"segment {self.number} {tag}", element=f"{tag}{element:02d}" if element else None)

    def _check(self, tag: str, n: int, text: str) -> None:
        try:
            text.encode(self.syntax.codec)
        except UnicodeError as exc:
            ch = text[getattr(exc, "start", 0)]
            raise EdifactWriteError(
                f"character set {self.syntax.identifier}", location=self._where(tag, n),
                expected=f"{CHARSETS[self.syntax.identifier][1]} text", found=f"character U+{ord(ch):04X}",
                hint="declare a syntax that has it (UNOW for UTF-8) or transliterate") from None

    def text(self, tag: str, elements: Sequence[Element]) -> str:
        self.number += 1
        d = self.d
        if len(tag) != 3 or any(c in _service(d) for c in tag):
            raise EdifactWriteError("segment tag", location=self._where(tag, None),
                                    expected="3 characters, no service character", found=repr(tag))
        self._check(tag, 0, tag)
        out: list[str] = []
        for n, element in enumerate(elements, 1):
            comps = [element] if element is None or isinstance(element, str) else list(element)
            written: list[str] = []
            for comp in comps:
                comp = comp or ""
                self._check(tag, n, comp)
                try:
                    written.append(escape(comp, d))
                except ValueError as exc:
                    raise EdifactWriteError(f"data element {tag}{n:02d}", location=self._where(tag, n),
                                            expected="data without service characters", found=str(exc)) from None
            while written and not written[-1]:
                written.pop()
            out.append(d.component.join(written))
        while out and not out[-1]:
            out.pop()
        return d.element.join([tag, *out])

    def add(self, tag: str, *elements: Element) -> None:
        self.parts.append(self.text(tag, elements) + self.d.segment + self.newline)

    def write(self) -> str:
        return "".join(self.parts)


def segment_text(tag: str, elements: Sequence[Element], delimiters: Delimiters = DEFAULT_DELIMITERS, *,
                 syntax: Syntax | None = None) -> str:
    """One segment as text, without its terminator."""
    return _Writer(delimiters, syntax or Syntax("UNOW", "4"), "").text(tag, elements)


def _differs(d: Delimiters) -> bool:
    return una_text(d) != una_text(DEFAULT_DELIMITERS)


def write_interchange(messages: Iterable[Message], *, sender: Party, recipient: Party, control: str | int,
                      prepared: datetime, delimiters: Delimiters = DEFAULT_DELIMITERS,
                      syntax: Syntax | None = None, una: bool | None = None, group: GroupHeader | None = None,
                      application_reference: str | None = None, acknowledgement_request: bool = False,
                      test: bool = False, newline: str = "") -> str:
    """A whole interchange as text; see the module docstring. ``una``: None writes UNA only when the delimiters
    are not the defaults; ``newline`` goes after every segment terminator (``"\\n"`` for readable files)."""
    syntax = syntax or Syntax()
    d = delimiters
    w = _Writer(d, syntax, newline)
    head = una_text(d) + newline if (una if una is not None else _differs(d)) else ""
    date = prepared.strftime("%y%m%d" if syntax.version in ("1", "2", "3") else "%Y%m%d")
    control = str(control)
    w.add("UNB", [syntax.identifier, syntax.version], sender.element(), recipient.element(),
          [date, prepared.strftime("%H%M")], control, None, application_reference,
          None, "1" if acknowledgement_request else None, None, "1" if test else None)
    count = 0
    if group is not None:
        w.add("UNG", group.message_type, group.sender.element(), group.recipient.element(),
              [date, prepared.strftime("%H%M")], group.reference, group.agency, list(group.version))
    for message in messages:
        count += 1
        w.add("UNH", message.reference, message.type.split(":"))
        for s in message.body:
            w.add(s.tag, *s.elements)
        w.add("UNT", str(message.segment_count), message.reference)
    if group is not None:
        w.add("UNE", str(count), group.reference)
    w.add("UNZ", "1" if group is not None else str(count), control)
    return head + w.write()
