"""Segments as read from an EDI stream: tag, raw elements, and where the segment sits in the file.

Elements are kept as written (EDIFACT release characters included) and split into components or unescaped only
when a value is asked for, so tokenising a large file costs little more than splitting its text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The service characters of one interchange (X12: from the ISA header; EDIFACT: from UNA or the defaults)."""

    segment: str
    element: str
    component: str
    repetition: str | None = None
    release: str | None = None  # EDIFACT only
    decimal: str = "."

    def unescape(self, text: str) -> str:
        """Remove release characters (``?+`` -> ``+``, ``??`` -> ``?``)."""
        r = self.release
        if not r or r not in text:
            return text
        out, i = [], 0
        while i < len(text):
            ch = text[i]
            if ch == r and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)

    def split(self, text: str, sep: str) -> list[str]:
        """Split on ``sep`` except where it is released (escaped); the parts keep their release characters."""
        r = self.release
        if not r or r not in text:
            return text.split(sep)
        parts, start, i = [], 0, 0
        while i < len(text):
            ch = text[i]
            if ch == r:
                i += 2
                continue
            if ch == sep:
                parts.append(text[start:i])
                start = i + 1
            i += 1
        parts.append(text[start:])
        return parts


@dataclass(slots=True)
class Segment:
    """One segment: ``elements[0]`` is the first data element (X12 ``ST01``, EDIFACT ``UNH`` element 1).

    The tokenizers' lean loops build segments with ``object.__new__`` and set every field themselves (cheaper than
    ``__init__`` once per segment): a new field must be set there too.
    """

    tag: str
    elements: list[str]  # raw, as written (release characters kept)
    number: int  # 1-based position of the segment in the file
    line: int  # 1-based physical line where it starts
    offset: int  # 0-based character offset where it starts
    delimiters: Delimiters
    col: int = 1  # 1-based column where it starts on `line` (segments need not start a line)

    def raw(self, n: int) -> str | None:
        """Element ``n`` (1-based) as written, or None when the segment is shorter."""
        return self.elements[n - 1] if 0 < n <= len(self.elements) else None

    def value(self, n: int, component: int | None = None) -> str | None:
        """Element ``n`` (1-based), or its ``component`` (1-based), unescaped; None when absent or empty."""
        raw = self.raw(n)
        if raw is None:
            return None
        if component is not None:
            parts = self.delimiters.split(raw, self.delimiters.component)
            if not 0 < component <= len(parts):
                return None
            raw = parts[component - 1]
        text = self.delimiters.unescape(raw)
        return text or None

    def column(self, n: int) -> int:
        """1-based character column of element ``n`` on the segment's line (for error positions)."""
        col = self.col + len(self.tag) + 1
        for element in self.elements[: n - 1]:
            col += len(element) + 1
        return col

    def text(self) -> str:
        sep = self.delimiters.element
        return sep.join([self.tag, *self.elements])
