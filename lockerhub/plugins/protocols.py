"""What a connector is: identity, declared capabilities, a config spec, and the verbs of its kind.

A connector class has class attributes ``id``, ``kind``, ``version``, ``capabilities`` (a frozenset of
:class:`Capability`) and ``config_model`` (a pydantic model; its JSON Schema is the connector's spec). The
constructor takes one validated config instance and only stores it: no I/O in ``__init__``.

Required verbs depend on the kind (``REQUIRED``); optional verbs depend on declared capabilities
(``CAPABILITY_MEMBERS``). The registry checks both when a plugin loads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from lockerhub.errors import Location, LockerhubError
from lockerhub.model import (
    Locker,
    Parcel,
    ParcelEvent,
    ParcelStatus,
    Reservation,
    ReservationKind,
    Shipment,
    SizeClass,
)
from lockerhub.model.telemetry import TelemetryReading


class ConnectorKind(StrEnum):
    TMS_SOURCE = "tms-source"  # reads shipments from a TMS (files, SOAP, EDI)
    TMS_SINK = "tms-sink"  # writes status and acknowledgements back to a TMS
    TMS = "tms"  # both of the above
    LOCKER_VENDOR = "locker-vendor"  # books parcels into a locker network


class Capability(StrEnum):
    READ = "read"
    WATCH_INBOX = "watch_inbox"
    WRITE_STATUS = "write_status"
    WRITE_ACK = "write_ack"
    LIST_LOCKERS = "list_lockers"
    PRECHECK = "precheck"
    SOFT_RESERVE = "soft_reserve"
    HARD_BOOK = "hard_book"
    CANCEL = "cancel"
    POLL_STATUS = "poll_status"
    WEBHOOKS = "webhooks"
    ACCESS_CODES = "access_codes"
    TELEMETRY = "telemetry"
    LIST_RESERVATIONS = "list_reservations"
    FETCH = "fetch"  # pulls new shipments from the TMS (a SOAP call) instead of reading dropped files
    PUSH = "push"  # the TMS pushes shipments to the hub (an inbound SOAP endpoint in the ingress app)


@dataclass(frozen=True, slots=True)
class CheckItem:
    name: str
    ok: bool
    message: str = ""


@dataclass(slots=True)
class CheckResult:
    """Outcome of ``check()``: config first, then one cheap call. ``message`` says what is wrong and where."""

    items: list[CheckItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items)

    def add(self, name: str, ok: bool, message: str = "") -> CheckResult:
        self.items.append(CheckItem(name, ok, message))
        return self


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record read from a TMS source: a shipment, or the error that kept it from being one.

    ``raw`` is the original text of the record, kept for quarantine and replay. ``lineage`` maps canonical
    field paths (``parcels[0].weight_g``) to where their value came from.
    """

    location: Location
    raw: str
    shipment: Shipment | None = None
    errors: tuple[LockerhubError, ...] = ()
    lineage: Mapping[str, Location] = field(default_factory=dict)
    ack_key: tuple[str, ...] | None = None  # the connector's own id of the record for ``write_ack`` (ISA13/GS06/ST02)


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What became of one record of a file, for the acknowledgement sent back to the partner.

    ``accepted`` is False when the record was quarantined: syntax or envelope errors, mapping errors, or a business
    rejection (``reasons`` then holds the lifecycle REJECTED reasons: ``unknown_locker``, ``no_compartment_fits``,
    ``duplicate_shipment``, ...). ``errors`` are every error, with their positions in the file when known."""

    ack_key: tuple[str, ...] | None
    accepted: bool
    shipment_reference: str | None = None
    errors: tuple[LockerhubError, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A canonical event addressed back to the TMS that sent the shipment."""

    partner: str
    shipment_reference: str
    parcel_id: str
    event: ParcelEvent
    sequence: int = 0  # hub event id, for ordering and dedup on the TMS side


@dataclass(frozen=True, slots=True)
class VendorEvent:
    """A status observed at a vendor (webhook, poll or telemetry), mapped to canonical."""

    reservation_id: str
    event: ParcelEvent


@dataclass(frozen=True, slots=True)
class VendorReservation:
    """A reservation as the vendor holds it now (for reconciliation); ``status`` is its state mapped to canonical.

    ``state`` is the vendor's own word for it, as received. ``kind`` stays SOFT until the booking is confirmed.
    ``reason`` is set when the canonical status needs one (EXCEPTION).
    """

    reservation_id: str
    locker_id: str
    status: ParcelStatus
    state: str
    kind: ReservationKind
    created_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReservationPage:
    """One page of a vendor's reservations. ``next_cursor`` is None on the last page. ``as_of`` is the vendor's
    clock when it answered: expiries are compared with it (None: the hub's clock is used)."""

    items: tuple[VendorReservation, ...]
    next_cursor: str | None = None
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class ParcelView:
    """A parcel as the hub holds it now, for answers to a TMS (no PII)."""

    parcel_id: str
    status: str
    updated_at: datetime
    reason: str | None = None
    locker_id: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    """What became of a shipment a TMS pushed: ``accepted`` (new, or ``already`` received in the same delivery
    before), else refused with ``reasons`` (business) or ``errors`` (mapping), kept as ``quarantine_id``."""

    reference: str | None
    accepted: bool
    already: bool = False
    parcels: tuple[ParcelView, ...] = ()
    reasons: tuple[str, ...] = ()
    errors: tuple[LockerhubError, ...] = ()
    quarantine_id: str | None = None


class ShipmentDesk(Protocol):
    """What the hub offers a connector that receives pushed work (capability PUSH), for one partner."""

    def submit(self, record: SourceRecord, *, delivery: str, stage: str) -> Submission:
        """Admit the record's shipment as ingest does (mapping errors and business refusals are quarantined at
        ``stage`` with ``record.raw``). ``delivery`` identifies the request: the same delivery sent again is
        ``already`` received, never a duplicate refusal."""
        ...

    def cancel(self, reference: str) -> tuple[ParcelView, ...]:
        """Cancel every parcel of the shipment (vendor reservations released); a
        :class:`~lockerhub.errors.BusinessRejection` ``unknown_shipment`` or ``not_cancellable`` changes nothing."""
        ...

    def status(self, reference: str, parcel_id: str | None = None) -> tuple[ParcelView, ...]:
        """The shipment's parcels (or one of them); ``unknown_shipment`` when there are none."""
        ...


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One HTTP request to ``/tms/{partner}/{channel}`` of the ingress app. ``url`` is the endpoint's public URL."""

    partner: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PushReply:
    status: int
    body: bytes
    content_type: str


class Connector(Protocol):
    id: ClassVar[str]
    kind: ClassVar[ConnectorKind]
    version: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    config_model: ClassVar[type[BaseModel]]

    def check(self) -> CheckResult: ...


@runtime_checkable
class TmsSource(Connector, Protocol):
    def read(self, path: Path, *, partner: str) -> Iterator[SourceRecord]: ...


@runtime_checkable
class TmsSink(Connector, Protocol):
    def write_status(self, updates: Sequence[StatusUpdate]) -> list[Path]: ...


@runtime_checkable
class LockerVendor(Connector, Protocol):
    def list_lockers(self) -> Iterator[Locker]: ...
    def size_classes(self) -> list[SizeClass]: ...
    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Reservation: ...
    def book(self, reservation_id: str, *, idempotency_key: str) -> Reservation: ...
    def cancel(self, reservation_id: str) -> None: ...
    def get_status(self, reservation_id: str) -> list[VendorEvent]: ...


class Prechecking(Protocol):
    def precheck(self, locker_id: str, parcel: Parcel) -> list[str]: ...


class InboxWatching(Protocol):
    def pending(self) -> list[Path]: ...
    def archive(self, path: Path, *, failed: bool) -> Path: ...


class Acknowledging(Protocol):
    def write_ack(self, path: Path, outcomes: Sequence[RecordOutcome], *, partner: str) -> list[Path]: ...


class WebhookReceiving(Protocol):
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> str:
        """Check the delivery's signature, then that its timestamp is within the replay window of ``now``; return
        the vendor's delivery id (the same on every retry of one delivery, the hub's dedup key).

        Raises :class:`~lockerhub.errors.AuthError` for a missing or wrong signature,
        :class:`~lockerhub.errors.ReplayWindowError` for a timestamp outside the window, and
        :class:`~lockerhub.errors.ParseError` when the delivery id cannot be read."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[VendorEvent]:
        """The delivery's events mapped to canonical (called only after ``verify_webhook`` passed); a body that is
        not what the vendor sends is a :class:`~lockerhub.errors.ParseError` naming what was expected and found."""
        ...


class Fetching(Protocol):
    fetches: bool  # whether fetching is configured (a connector may also only be pushed to)

    def fetch(self, *, partner: str) -> Iterator[SourceRecord]:
        """The shipments the TMS has for the hub now (a call to its service), one record each; records read
        before may come again (the hub's idempotency keys make them duplicates)."""
        ...


class Pushing(Protocol):
    def describe_push(self, request: PushRequest) -> PushReply:
        """The service description (a GET: the WSDL with ``request.url`` as the endpoint address)."""
        ...

    def handle_push(self, request: PushRequest, desk: ShipmentDesk) -> PushReply:
        """Authenticate, read and answer one pushed request; never raises for bad input (it answers a fault)."""
        ...


class TelemetryReporting(Protocol):
    def telemetry(self, since: datetime | None = None) -> Iterator[TelemetryReading]:
        """Readings observed at or after ``since`` (all the vendor keeps when None), oldest first; the same
        reading may come again on the next call (the hub stores each (locker, kind, time) once)."""
        ...


class ReservationListing(Protocol):
    def list_reservations(self, *, cursor: str | None = None) -> ReservationPage:
        """One page of the reservations the vendor holds for this account, oldest first, in any state; pass the
        previous page's ``next_cursor`` for the next page."""
        ...


COMMON_MEMBERS = ("check",)
REQUIRED: dict[ConnectorKind, tuple[str, ...]] = {
    ConnectorKind.TMS_SOURCE: ("read",),
    ConnectorKind.TMS_SINK: ("write_status",),
    ConnectorKind.TMS: ("read", "write_status"),
    ConnectorKind.LOCKER_VENDOR: ("list_lockers", "size_classes", "reserve", "book", "cancel", "get_status"),
}
CAPABILITY_MEMBERS: dict[Capability, tuple[str, ...]] = {
    Capability.PRECHECK: ("precheck",),
    Capability.WEBHOOKS: ("verify_webhook", "parse_webhook"),
    Capability.WATCH_INBOX: ("pending", "archive"),
    Capability.WRITE_ACK: ("write_ack",),
    Capability.TELEMETRY: ("telemetry",),
    Capability.LIST_RESERVATIONS: ("list_reservations",),
    Capability.FETCH: ("fetch",),
    Capability.PUSH: ("describe_push", "handle_push"),
}
# Where each member's reference signature lives, for the registry's signature check.
PROTOCOLS: tuple[type, ...] = (
    Connector, TmsSource, TmsSink, LockerVendor, Prechecking, InboxWatching, Acknowledging, WebhookReceiving,
    TelemetryReporting, ReservationListing, Fetching, Pushing,
)
