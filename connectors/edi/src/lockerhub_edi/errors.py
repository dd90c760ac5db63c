"""EDI errors with positions: file, line, segment number and tag, element (``ISA13``, ``UNB05``)."""

from __future__ import annotations

from lockerhub.errors import Location, ParseError
from lockerhub_edi.segments import Segment


class EdiError(ParseError):
    """A syntax or envelope error in an EDI file; ``control`` names the interchange/transaction it belongs to."""

    def __init__(self, message: str, *, location: Location | None = None, expected: str | None = None,
                 found: str | None = None, hint: str | None = None, control: str | None = None) -> None:
        self.control = control
        super().__init__(message, location=location, expected=expected, found=found, hint=hint)


def edi_location(file: str | None, segment: Segment | None, element: int | None = None, *,
                 line: int | None = None) -> Location:
    """``file:line:col (segment N TAG-TAGnn)`` for an element of a segment (or the segment as a whole)."""
    if segment is None:
        return Location(file=file, line=line)
    name = f"{segment.tag}{element:02d}" if element else None
    return Location(file=file, line=segment.line, column=segment.column(element) if element else None,
                    segment=f"segment {segment.number} {segment.tag}", element=name)
