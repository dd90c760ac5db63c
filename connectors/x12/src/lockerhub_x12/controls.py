"""Control numbers per trading partner, kept across runs: ISA13 (interchange), GS06 (group), ST02 (transaction).

Capabilities:
    ``ControlNumbers(folder).next(partner, kind)`` returns the next number for ``kind`` (``interchange``, ``group``
    or ``transaction``) of ``partner``: 1 the first time, then one more each call, wrapping from 999999999 back to
    1. The numbers live in ``control_numbers.json`` in ``folder`` (created on first use), rewritten atomically (a
    temporary file in the same folder, then ``os.replace``) while an exclusive ``fcntl`` lock is held on
    ``control_numbers.lock``, so two processes never hand out the same number.

The counter itself is :class:`lockerhub_edi.controls.ControlCounter` (shared with EDIFACT).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from lockerhub_edi.controls import ControlCounter

Kind = Literal["interchange", "group", "transaction"]
KINDS: tuple[str, ...] = ("interchange", "group", "transaction")
MAXIMUM = 999_999_999  # ISA13 is 9 digits; GS06 (N0 1/9) and ST02 (AN 4/9) fit the same range
FILE = "control_numbers.json"


class ControlNumbers(ControlCounter):
    """ISA13/GS06/ST02 per partner in ``<folder>/control_numbers.json``, wrapping from 999999999 to 1."""

    def __init__(self, folder: str | Path) -> None:
        super().__init__(Path(folder) / FILE, kinds=KINDS, maximum=MAXIMUM, wrap=True)

    @property
    def file(self) -> Path:
        return self.path
