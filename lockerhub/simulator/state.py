"""The simulated world: lockers, compartments, reservations, their event logs, and a clock that moves when told.

Rules (the reservation model of a locker operator: pre-check, soft hold, hard booking, deposit, pickup):

- ``reserve`` holds the first FREE compartment of the size class (it becomes RESERVED) until
  ``expires_at = now + soft_ttl``. Event ``RESERVATION_CREATED``. With ``soft_ttl=None`` a hold has no expiry
  and lasts until it is confirmed or cancelled (as some operators do).
- ``confirm`` before expiry turns the hold into a hard booking and issues a 6-digit access code, valid until
  ``now + pickup_window``. Event ``BOOKING_CONFIRMED``. After expiry: 410.
- ``advance`` moves the clock and applies what fell due, in deadline order: a soft hold past ``expires_at`` is
  released (``RESERVATION_EXPIRED``, compartment FREE); a deposited parcel past its pickup deadline gets
  ``PICKUP_EXPIRED`` and stays in the compartment until ``return_collect`` (``COURIER_COLLECTED_RETURN``, FREE).
- ``deposit`` (hard bookings only): compartment OCCUPIED, pickup deadline ``now + pickup_window``, the access
  code's validity is extended to it. Event ``COURIER_DEPOSITED``.
- ``pickup`` with the right code: ``CONSIGNEE_PICKED_UP``, compartment FREE. A wrong code is a 403 and changes
  nothing.
- ``cancel`` before deposit: ``BOOKING_CANCELLED``, compartment FREE. Cancelling twice, or an expired hold, is
  a no-op.

Everything is deterministic for a seed: ids are counters (``rsv-000001``, ``ev-000001``), access codes come from
``random.Random(seed)``, and time is the simulated clock only. All public methods hold one re-entrant lock and
return immutable snapshots, so the HTTP server may call them from any thread.

Refusals raise :class:`SimError` carrying the HTTP status and a snake_case error code; the app renders them.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from lockerhub.model import (
    Compartment,
    CompartmentState,
    Dimensions,
    Locker,
    LockerState,
    SizeClass,
    TemperatureClass,
)
from lockerhub.simulator.faults import FaultKind, FaultRate
from lockerhub.simulator.network import SIZE_CLASSES, build_network
from lockerhub.simulator.telemetry import DeviceProfile, SimReading, TelemetryModel

T = TypeVar("T")

DEFAULT_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DEFAULT_SOFT_TTL = timedelta(minutes=15)
DEFAULT_PICKUP_WINDOW = timedelta(hours=48)


class SimError(Exception):
    """A request the simulated API refuses: HTTP ``status``, an ``error`` code and extra JSON fields."""

    def __init__(self, status: int, error: str, **detail: Any) -> None:
        self.status = status
        self.error = error
        self.detail = detail
        super().__init__(f"{status} {error}")

    def body(self) -> dict[str, Any]:
        return {"error": self.error, **self.detail}


class BookingState(StrEnum):
    SOFT = "soft"
    BOOKED = "booked"
    DEPOSITED = "deposited"
    PICKUP_EXPIRED = "pickup_expired"
    COLLECTED = "collected"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class EventCode(StrEnum):
    """Every code the simulator emits (the connector's ``statuses.yaml`` must map each one)."""

    RESERVATION_CREATED = "RESERVATION_CREATED"
    RESERVATION_EXPIRED = "RESERVATION_EXPIRED"
    BOOKING_CONFIRMED = "BOOKING_CONFIRMED"
    BOOKING_CANCELLED = "BOOKING_CANCELLED"
    COURIER_DEPOSITED = "COURIER_DEPOSITED"
    CONSIGNEE_PICKED_UP = "CONSIGNEE_PICKED_UP"
    PICKUP_EXPIRED = "PICKUP_EXPIRED"
    COURIER_COLLECTED_RETURN = "COURIER_COLLECTED_RETURN"


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an explicit offset (``+00:00``), as the API renders every timestamp."""
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class SimEvent:
    event_id: str
    code: EventCode
    occurred_at: datetime
    reservation_id: str
    locker_id: str
    compartment_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "code": str(self.code),
            "occurred_at": iso(self.occurred_at),
            "reservation_id": self.reservation_id,
            "locker_id": self.locker_id,
            "compartment_id": self.compartment_id,
        }


@dataclass(frozen=True, slots=True)
class ReservationView:
    """A reservation as the API shows it. ``access_code`` is only set in the answer to ``confirm``."""

    reservation_id: str
    locker_id: str
    compartment_id: str
    size_class: str
    kind: str  # "soft" until confirmed, then "hard"
    state: BookingState
    expires_at: datetime | None
    valid_until: datetime | None = None
    pickup_deadline: datetime | None = None
    access_code: str | None = None
    created_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "reservation_id": self.reservation_id,
            "locker_id": self.locker_id,
            "compartment_id": self.compartment_id,
            "size_class": self.size_class,
            "kind": self.kind,
            "state": str(self.state),
            "expires_at": iso(self.expires_at),
            "created_at": iso(self.created_at),
        }
        if self.kind == "hard":
            body["valid_until"] = iso(self.valid_until)
            body["pickup_deadline"] = iso(self.pickup_deadline)
        if self.access_code is not None:
            body["access_code"] = self.access_code
        return body


@dataclass(frozen=True, slots=True)
class Fault:
    """Answer ``status`` (with Retry-After when set); with ``delay_s``, apply the request and answer it late."""

    status: int
    retry_after: float | None = None
    delay_s: float | None = None


@dataclass(slots=True)
class _Booking:
    reservation_id: str
    locker_id: str
    compartment: Compartment
    state: BookingState
    expires_at: datetime | None
    access_code: str | None = None
    valid_until: datetime | None = None
    pickup_deadline: datetime | None = None
    events: list[SimEvent] = field(default_factory=list)
    created_at: datetime | None = None

    def view(self, *, reveal_code: bool = False) -> ReservationView:
        return ReservationView(
            reservation_id=self.reservation_id,
            locker_id=self.locker_id,
            compartment_id=self.compartment.compartment_id,
            size_class=self.compartment.size_class,
            kind="soft" if self.access_code is None else "hard",
            state=self.state,
            expires_at=self.expires_at,
            valid_until=self.valid_until,
            pickup_deadline=self.pickup_deadline,
            access_code=self.access_code if reveal_code else None,
            created_at=self.created_at,
        )


class World:
    """In-memory locker network plus reservations; thread-safe; time moves only through :meth:`advance`."""

    def __init__(
        self,
        lockers: Iterable[Locker],
        *,
        seed: int = 0,
        start: datetime = DEFAULT_START,
        soft_ttl: timedelta | None = DEFAULT_SOFT_TTL,
        pickup_window: timedelta = DEFAULT_PICKUP_WINDOW,
        size_classes: Iterable[SizeClass] = SIZE_CLASSES.values(),
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._now = start
        self.soft_ttl = soft_ttl
        self.pickup_window = pickup_window
        self._size_classes = sorted(size_classes, key=lambda s: (s.inner.volume_mm3, s.code))
        self._lockers: dict[str, Locker] = {}
        for locker in lockers:
            if locker.locker_id in self._lockers:
                raise ValueError(f"duplicate locker id {locker.locker_id!r}")
            self._lockers[locker.locker_id] = locker.model_copy(deep=True)
        self._bookings: dict[str, _Booking] = {}
        self._order: list[_Booking] = []  # creation order, for the paged listing
        self._event_seq = 0
        self._idempotent: dict[tuple[str, str], tuple[str, Any]] = {}
        self._fault: Fault | None = None
        self._fault_count = 0
        self._fault_rate: FaultRate | None = None
        self.telemetry = TelemetryModel(tuple(self._lockers), seed=seed, start=start)
        # Called with every new event, under the lock: must only enqueue (the webhook dispatcher does).
        self.listeners: list[Callable[[SimEvent], None]] = []

    @classmethod
    def generate(cls, lockers: int = 10, *, seed: int = 0, regions: list[str] | None = None, **options: Any) -> World:
        """A world over ``build_network(lockers, seed=seed, regions=regions)``; ``options`` go to ``__init__``."""
        return cls(build_network(lockers, seed=seed, regions=regions), seed=seed, **options)

    # --- network ------------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    def size_classes(self) -> list[SizeClass]:
        return list(self._size_classes)

    def lockers(self, *, page: int = 1, per_page: int = 50) -> tuple[list[Locker], int]:
        """One page of locker snapshots (1-based) and the total count."""
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        with self._lock:
            everything = list(self._lockers.values())
            start = (page - 1) * per_page
            return [lk.model_copy(deep=True) for lk in everything[start : start + per_page]], len(everything)

    def locker(self, locker_id: str) -> Locker:
        with self._lock:
            return self._locker(locker_id).model_copy(deep=True)

    def set_locker_state(self, locker_id: str, state: LockerState) -> None:
        with self._lock:
            self._locker(locker_id).state = LockerState(state)
            self.telemetry.set_online(locker_id, self._now, LockerState(state) == LockerState.ONLINE)

    def precheck(
        self,
        locker_id: str,
        dimensions: Dimensions,
        weight_g: int,
        temperature: TemperatureClass = TemperatureClass.AMBIENT,
    ) -> list[str]:
        """Size classes that take the parcel and have a FREE compartment at the locker, smallest first."""
        with self._lock:
            locker = self._online(locker_id)
            fitting = {
                c.size_class
                for c in locker.compartments()
                if c.state == CompartmentState.FREE
                and c.temperature == temperature
                and weight_g <= c.max_weight_g
                and dimensions.fits_in(c.inner)
            }
            return [s.code for s in self._size_classes if s.code in fitting]

    # --- reservations -------------------------------------------------------------------------------------

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str | None = None) -> ReservationView:
        return self.idempotent("reserve", idempotency_key, f"{locker_id}|{size_class}",
                               lambda: self._reserve(locker_id, size_class))

    def confirm(self, reservation_id: str, *, idempotency_key: str | None = None) -> ReservationView:
        return self.idempotent("confirm", idempotency_key, reservation_id, lambda: self._confirm(reservation_id))

    def cancel(self, reservation_id: str) -> ReservationView:
        with self._lock:
            booking = self._booking(reservation_id)
            if booking.state in (BookingState.CANCELLED, BookingState.EXPIRED):
                return booking.view()
            self._require(booking, BookingState.SOFT, BookingState.BOOKED)
            self._finish(booking, BookingState.CANCELLED, EventCode.BOOKING_CANCELLED, self._now)
            return booking.view()

    def reservation(self, reservation_id: str) -> ReservationView:
        with self._lock:
            return self._booking(reservation_id).view()

    def events(self, reservation_id: str) -> list[SimEvent]:
        with self._lock:
            return list(self._booking(reservation_id).events)

    def reservations_page(
        self, cursor: str | None = None, *, limit: int = 100
    ) -> tuple[list[ReservationView], str | None]:
        """One page of every reservation in any state, oldest first, and the cursor of the next page (None after
        the last). Reservations are never removed, so a cursor stays valid while new ones are added."""
        if limit < 1:
            raise ValueError("limit starts at 1")
        with self._lock:
            start = 0
            if cursor is not None:
                if not cursor.isdigit() or int(cursor) > len(self._order):
                    raise SimError(422, "invalid_cursor")
                start = int(cursor)
            page = self._order[start : start + limit]
            end = start + len(page)
            return [b.view() for b in page], (str(end) if end < len(self._order) else None)

    # --- what couriers and recipients do (the /sim control endpoints) ------------------------------------

    def deposit(self, reservation_id: str) -> ReservationView:
        with self._lock:
            booking = self._booking(reservation_id)
            self._require(booking, BookingState.BOOKED)
            self._reachable(booking.locker_id)
            booking.state = BookingState.DEPOSITED
            booking.compartment.state = CompartmentState.OCCUPIED
            booking.pickup_deadline = booking.valid_until = self._now + self.pickup_window
            self._emit(booking, EventCode.COURIER_DEPOSITED, self._now)
            return booking.view()

    def pickup(self, reservation_id: str, access_code: str) -> ReservationView:
        with self._lock:
            booking = self._booking(reservation_id)
            if booking.state == BookingState.PICKUP_EXPIRED:
                raise SimError(410, "pickup_expired", reservation_id=reservation_id)
            self._require(booking, BookingState.DEPOSITED)
            self._reachable(booking.locker_id)
            if not secrets.compare_digest(str(access_code).encode(), (booking.access_code or "").encode()):
                raise SimError(403, "wrong_access_code", reservation_id=reservation_id)
            self._finish(booking, BookingState.COLLECTED, EventCode.CONSIGNEE_PICKED_UP, self._now)
            return booking.view()

    def recipient_code(self, reservation_id: str) -> str:
        """The access code the recipient was sent (scenarios play the recipient; the API never shows it again)."""
        with self._lock:
            code = self._booking(reservation_id).access_code
            if code is None:
                raise SimError(409, "not_booked", reservation_id=reservation_id)
            return code

    def return_collect(self, reservation_id: str) -> ReservationView:
        with self._lock:
            booking = self._booking(reservation_id)
            self._require(booking, BookingState.PICKUP_EXPIRED)
            self._finish(booking, BookingState.RETURNED, EventCode.COURIER_COLLECTED_RETURN, self._now)
            return booking.view()

    def advance(self, seconds: float | timedelta) -> datetime:
        """Move the clock forward and apply every expiry that fell due, in deadline order; returns ``now``."""
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._now += delta
            due: list[tuple[datetime, str]] = []
            for b in self._bookings.values():
                if b.state == BookingState.SOFT and b.expires_at is not None and b.expires_at <= self._now:
                    due.append((b.expires_at, b.reservation_id))
                elif b.state == BookingState.DEPOSITED and b.pickup_deadline and b.pickup_deadline <= self._now:
                    due.append((b.pickup_deadline, b.reservation_id))
            for when, rid in sorted(due):
                booking = self._bookings[rid]
                if booking.state == BookingState.SOFT:
                    self._finish(booking, BookingState.EXPIRED, EventCode.RESERVATION_EXPIRED, when)
                else:
                    booking.state = BookingState.PICKUP_EXPIRED
                    self._emit(booking, EventCode.PICKUP_EXPIRED, when)
            return self._now

    # --- fault injection and idempotency ------------------------------------------------------------------

    def inject_fault(self, status: int, count: int, retry_after: float | None = None) -> None:
        """The next ``count`` API requests answer ``status`` (with Retry-After when given); count 0 clears."""
        if not 400 <= status <= 599 or count < 0:
            raise ValueError("status must be 400-599 and count >= 0")
        with self._lock:
            self._fault, self._fault_count = Fault(status, retry_after), count

    def inject_fault_rate(self, plan: FaultRate | None) -> None:
        """Fail each API request with ``plan.rate`` probability (:mod:`lockerhub.simulator.faults`); None or a
        rate of 0 clears."""
        with self._lock:
            self._fault_rate = plan if plan is not None and plan.rate > 0 else None

    def take_fault(self) -> Fault | None:
        """Consume one injected fault, if any are left; else draw one from the fault rate, if set."""
        with self._lock:
            if self._fault_count > 0:
                self._fault_count -= 1
                return self._fault
            plan = self._fault_rate
            kind = plan.draw() if plan is not None else None
            if plan is None or kind is None:
                return None
            if kind is FaultKind.TIMEOUT:
                return Fault(504, delay_s=plan.timeout_s)
            return Fault(int(kind), plan.retry_after)

    def idempotent(self, scope: str, key: str | None, fingerprint: str, compute: Callable[[], T]) -> T:
        """Run ``compute`` once per ``(scope, key)`` and replay its result; a refusal is not remembered.

        The same key with a different request (``fingerprint``) in the same scope is a 422. Results must be
        immutable (snapshots), since every replay returns the same object.
        """
        with self._lock:
            if key is None:
                return compute()
            seen = self._idempotent.get((scope, key))
            if seen is not None:
                if seen[0] != fingerprint:
                    raise SimError(422, "idempotency_key_reused", scope=scope)
                return seen[1]  # type: ignore[no-any-return]
            result = compute()
            self._idempotent[(scope, key)] = (fingerprint, result)
            return result

    # --- telemetry (see lockerhub.simulator.telemetry) -----------------------------------------------------

    def telemetry_readings(self, since: datetime | None = None, until: datetime | None = None) -> list[SimReading]:
        """Readings with ``since <= observed_at <= until``; ``until`` is capped at ``now`` (nothing from the
        future), ``since`` defaults to the start of the generated history."""
        with self._lock:
            cap = self._now if until is None else min(until, self._now)
            return self.telemetry.readings(since, cap)

    def telemetry_profiles(self) -> list[DeviceProfile]:
        """Each locker's equipment and degradation: the ground truth health monitoring should find."""
        with self._lock:
            return [self.telemetry.profiles[k] for k in sorted(self.telemetry.profiles)]

    # --- internals ----------------------------------------------------------------------------------------

    def _locker(self, locker_id: str) -> Locker:
        try:
            return self._lockers[locker_id]
        except KeyError:
            raise SimError(404, "unknown_locker", locker_id=locker_id) from None

    def _reachable(self, locker_id: str) -> None:
        """Couriers and recipients reach a locker only in its opening hours (read on the simulated clock)."""
        locker = self._locker(locker_id)
        if not locker.is_open(self._now):
            raise SimError(409, "locker_closed", locker_id=locker_id, opening_hours=locker.opening_hours)

    def _online(self, locker_id: str) -> Locker:
        locker = self._locker(locker_id)
        if locker.state != LockerState.ONLINE:
            raise SimError(409, "locker_offline", locker_id=locker_id, state=str(locker.state))
        return locker

    def _booking(self, reservation_id: str) -> _Booking:
        try:
            return self._bookings[reservation_id]
        except KeyError:
            raise SimError(404, "unknown_reservation", reservation_id=reservation_id) from None

    @staticmethod
    def _require(booking: _Booking, *states: BookingState) -> None:
        if booking.state not in states:
            raise SimError(409, "invalid_state", reservation_id=booking.reservation_id, state=str(booking.state),
                           expected=[str(s) for s in states])

    def _reserve(self, locker_id: str, size_class: str) -> ReservationView:
        locker = self._online(locker_id)
        if size_class not in {s.code for s in self._size_classes}:
            raise SimError(422, "unknown_size_class", size_class=size_class)
        free = next((c for c in locker.compartments()
                     if c.size_class == size_class and c.state == CompartmentState.FREE), None)
        if free is None:
            raise SimError(409, "no_free_compartment", locker_id=locker_id, size_class=size_class)
        free.state = CompartmentState.RESERVED
        booking = _Booking(f"rsv-{len(self._bookings) + 1:06d}", locker_id, free, BookingState.SOFT,
                           expires_at=self._now + self.soft_ttl if self.soft_ttl is not None else None,
                           created_at=self._now)
        self._bookings[booking.reservation_id] = booking
        self._order.append(booking)
        self._emit(booking, EventCode.RESERVATION_CREATED, self._now)
        return booking.view()

    def _confirm(self, reservation_id: str) -> ReservationView:
        booking = self._booking(reservation_id)
        if booking.state == BookingState.EXPIRED:
            raise SimError(410, "reservation_expired", reservation_id=reservation_id)
        self._require(booking, BookingState.SOFT)
        booking.state = BookingState.BOOKED
        booking.expires_at = None
        booking.access_code = self._new_code(booking.locker_id)
        booking.valid_until = self._now + self.pickup_window
        self._emit(booking, EventCode.BOOKING_CONFIRMED, self._now)
        return booking.view(reveal_code=True)

    def _new_code(self, locker_id: str) -> str:
        """Six digits from the seeded RNG, unique among the live codes at that locker."""
        live = {b.access_code for b in self._bookings.values()
                if b.locker_id == locker_id and b.state in (BookingState.BOOKED, BookingState.DEPOSITED)}
        while True:
            code = f"{self._rng.randrange(1_000_000):06d}"
            if code not in live:
                return code

    def _finish(self, booking: _Booking, state: BookingState, code: EventCode, when: datetime) -> None:
        booking.state = state
        booking.compartment.state = CompartmentState.FREE
        self._emit(booking, code, when)

    def _emit(self, booking: _Booking, code: EventCode, when: datetime) -> None:
        self._event_seq += 1
        event = SimEvent(f"ev-{self._event_seq:06d}", code, when, booking.reservation_id, booking.locker_id,
                         booking.compartment.compartment_id)
        booking.events.append(event)
        for listener in self.listeners:
            listener(event)
