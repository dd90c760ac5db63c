"""What a locker-vendor connector hands the conformance kit: the connector, wired to a running test double.

A connector distribution registers a factory under the entry point group ``lockerhub.conformance`` with the
connector's id as the name::

    [project.entry-points."lockerhub.conformance"]
    inpost = "lockerhub_inpost.conformance:harness"

The factory takes no argument and returns a context manager that starts the vendor's simulator (or a replay of
recorded fixtures), yields a :class:`Harness`, and stops everything on exit. ``pytest --lockerhub-connector
inpost`` then runs every check of :mod:`lockerhub.testing.checks` against it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lockerhub.model import Parcel

#: ``webhook(signed_at, valid_signature)`` -> ``(headers, body)`` of one delivery carrying at least one event
WebhookFactory = Callable[[datetime, bool], tuple[Mapping[str, str], bytes]]


@dataclass(frozen=True, slots=True)
class Harness:
    """A connector under test and the handles the checks need on its vendor's test double.

    ``connector``: a configured instance of the connector class (``LockerVendor``), pointed at the double.
    ``locker_id``: an online locker with free compartments that take ``parcel``.
    ``locker_ids``: every locker id of the double's network; it must span more than one page of the vendor's
    pagination (``locker_page_size`` per page), so "pagination to the end" is tested.
    ``status_codes``: every status or event code the vendor can send; each must map to a canonical status.
    ``map_status(code)``: the connector's own crosswalk applied to one vendor code, returning the canonical
    status; an unknown code must raise :class:`~lockerhub.errors.MappingError`.
    ``reservation_ids()``: the ids of every reservation the double holds now (to prove one booking per key).
    ``fail_next(status, retry_after)``: the next vendor call answers ``status`` (429, 500, 503, 401 ...), with
    ``Retry-After`` seconds when given.
    ``webhook``: builds a delivery signed at ``signed_at``, with a valid or a wrong signature; None when the
    vendor's webhooks are not signed (the connector must then not declare they are trusted: the kit checks that
    such a connector polls as its source of truth).
    """

    connector: Any
    locker_id: str
    parcel: Parcel
    locker_ids: Collection[str]
    locker_page_size: int
    status_codes: Collection[str]
    map_status: Callable[[str], Any]
    reservation_ids: Callable[[], Collection[str]]
    fail_next: Callable[[int, float | None], None]
    webhook: WebhookFactory | None = None
