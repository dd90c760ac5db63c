"""Persistent per-partner control references (UNB05 interchange, UNG05 group, UNH01 message), monotonic.

Capabilities:
    ``ControlNumbers(path).next(partner, kind)`` returns the next number for that partner and kind (1 first) and
    records it before returning. The state is a small JSON file (``{"acme": {"interchange": 41, ...}}``), written
    to a temporary file in the same folder and moved over the old one with ``os.replace`` (a crash leaves the old
    or the new file, never half of one), under an exclusive ``fcntl`` lock on ``<path>.lock`` so that several
    processes on one host never hand out the same number. ``last(partner, kind)`` reads without changing it.

Errors:
    An unknown ``kind``, an unreadable or malformed state file, or a counter past ``maximum`` (UNB05 is an..14)
    is a :class:`~lockerhub.errors.ConfigError` naming the file.

Limits/Pitfalls:
    - POSIX only (``fcntl``); the lock does not hold across hosts (NFS): give each host its own file.
    - Numbers never wrap: past ``maximum`` the counter stops with an error rather than reuse a reference.
"""

from __future__ import annotations

from pathlib import Path

from lockerhub_edi.controls import ControlCounter

KINDS = ("interchange", "group", "message")
MAXIMUM = 10**14 - 1  # UNB05 is an..14


class ControlNumbers(ControlCounter):
    """UNB05/UNG05/UNH01 per partner in one JSON file; never wraps (see :mod:`lockerhub_edi.controls`)."""

    def __init__(self, path: str | Path, *, maximum: int = MAXIMUM) -> None:
        super().__init__(path, kinds=KINDS, maximum=maximum, wrap=False)
