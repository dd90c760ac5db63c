"""Opening hours of a locker, in the subset of the OpenStreetMap ``opening_hours`` syntax vendors publish.

    24/7
    Mo-Fr 08:00-20:00; Sa 09:00-14:00
    Mo,We,Fr 06:00-22:00

Rules are separated by ``;``; each is days (``Mo`` ... ``Su``, ranges with ``-``, lists with ``,``) and one or more
time ranges (``HH:MM-HH:MM``, comma-separated; ``24:00`` ends the day). A day no rule names is closed. Times are the
locker's local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
ALWAYS = "24/7"
_TIME = re.compile(r"([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
SYNTAX = "24/7, or rules like 'Mo-Fr 08:00-20:00; Sa 09:00-14:00'"


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Parsed opening hours: per weekday (0 = Monday), the open intervals in minutes from midnight."""

    text: str
    week: tuple[tuple[tuple[int, int], ...], ...]

    def is_open(self, when: datetime) -> bool:
        """Whether the locker is open at ``when`` (read as the locker's local time)."""
        minute = when.hour * 60 + when.minute
        return any(start <= minute < end for start, end in self.week[when.weekday()])


def parse_hours(text: str) -> OpeningHours:
    """Parse opening hours; ValueError saying what was expected and what was found."""
    source = text.strip()
    if source == ALWAYS:
        return OpeningHours(source, tuple(((0, 24 * 60),) for _ in DAYS))
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for rule in filter(None, (r.strip() for r in source.split(";"))):
        days_text, _, times_text = rule.partition(" ")
        days = _days(days_text, rule)
        for span in times_text.replace(" ", "").split(","):
            found = _TIME.fullmatch(span)
            if found is None:
                raise ValueError(f"expected {SYNTAX}, found {rule!r} (time range {span!r})")
            h1, m1, h2, m2 = (int(g) for g in found.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if start >= end or end > 24 * 60:
                raise ValueError(f"expected a time range that starts before it ends, found {span!r}")
            for day in days:
                week[day].append((start, end))
    if not any(week):
        raise ValueError(f"expected {SYNTAX}, found {text!r}")
    return OpeningHours(source, tuple(tuple(sorted(day)) for day in week))


def _days(text: str, rule: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"expected {SYNTAX}, found {rule!r} (days {part!r})")
        a, b = DAYS.index(first), DAYS.index(last or first)
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out
