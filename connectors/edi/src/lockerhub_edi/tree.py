"""Envelope trees: interchange -> (functional) group -> transaction set / message -> segments.

X12: ISA/IEA, GS/GE, ST/SE. EDIFACT: UNB/UNZ, optional UNG/UNE (an implicit group when absent), UNH/UNT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lockerhub_edi.segments import Delimiters, Segment

if TYPE_CHECKING:
    from lockerhub_edi.errors import EdiError


@dataclass(slots=True)
class Transaction:
    header: Segment  # ST / UNH
    segments: list[Segment] = field(default_factory=list)  # between header and trailer
    trailer: Segment | None = None  # SE / UNT
    errors: list[EdiError] = field(default_factory=list)  # envelope errors of this transaction itself (SE01, ...)

    @property
    def kind(self) -> str:
        """X12 transaction set id (``204``) or EDIFACT message type (``IFTMIN``)."""
        value = self.header.value(1) if self.header.tag == "ST" else self.header.value(2, 1)
        return value or ""

    @property
    def control(self) -> str:
        return self.header.value(2) if self.header.tag == "ST" else (self.header.value(1) or "")  # type: ignore[return-value]


@dataclass(slots=True)
class Group:
    header: Segment | None  # GS / UNG; None for EDIFACT messages directly under UNB
    transactions: list[Transaction] = field(default_factory=list)
    trailer: Segment | None = None  # GE / UNE
    errors: list[EdiError] = field(default_factory=list)  # errors of the group itself (GE01, ...)


@dataclass(slots=True)
class Interchange:
    header: Segment  # ISA / UNB
    delimiters: Delimiters
    groups: list[Group] = field(default_factory=list)
    trailer: Segment | None = None  # IEA / UNZ
    errors: list[EdiError] = field(default_factory=list)  # errors of the interchange itself (IEA01, ...)

    def transactions(self) -> list[Transaction]:
        return [t for g in self.groups for t in g.transactions]
