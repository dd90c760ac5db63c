"""boxnow: parcel lockers (APMs) through a BoxNow-style partner API (Greece, Cyprus, Bulgaria, Croatia).

Modelled on BoxNow's published partner API (OAuth2 client credentials, destinations, delivery requests, parcels,
CloudEvents webhooks signed in ``datasignature``). Its tests run against lockerhub's bundled simulator
(:mod:`lockerhub.simulator.vendors.boxnow`), never against BoxNow's service; what the simulator emulates beyond the
published API is listed in ``docs/vendors/boxnow.md``.

Capabilities
    list_lockers, soft_reserve, hard_book, cancel, poll_status, access_codes, webhooks (``verify_webhook`` and
    ``parse_webhook``, in ``webhook.py``).

Config (:class:`~lockerhub_boxnow.config.BoxnowConfig`)
    ``base_url`` (``LOCKERHUB_BOXNOW_BASE_URL``), ``client_id`` (``LOCKERHUB_BOXNOW_CLIENT_ID``), ``client_secret``
    (``LOCKERHUB_BOXNOW_CLIENT_SECRET``), ``origin_location_id`` (the pickup warehouse, default ``2``),
    ``page_size`` (destinations per page, default 100), ``timeout_s`` (default 10), ``verify_tls`` (default true),
    ``token_refresh_margin_s`` (default 60), ``webhook_secret`` (``LOCKERHUB_BOXNOW_WEBHOOK_SECRET``),
    ``webhook_tolerance_s`` (replay window, default 300).

Status crosswalk file
    ``statuses.yaml`` beside this module: every BoxNow parcel event type to a canonical status (polling and
    webhooks use the same table; an unknown type is a ``MappingError``).

Limits / Pitfalls
    - Sizes are BoxNow's compartment sizes ``1``, ``2``, ``3`` (small, medium, large); their inner dimensions here
      are lockerhub's estimate (:data:`SIZE_CLASSES`), not a BoxNow contract.
    - ``reserve`` creates a delivery request with the idempotency key as ``orderNumber``. BoxNow refuses a used
      order number (``P410``); the connector then looks the parcel up by order number and returns it, so a retry
      after a timeout is the same delivery request. The same key for another locker or size is a ``RejectedError``.
    - ``book`` confirms the parcel (``POST /api/v1/parcels/{id}:confirm``, emulated) and returns its pickup PIN as
      the access code (an :class:`~lockerhub.model.AccessCode`, masked in repr, str and JSON). Only that answer
      carries it; ``get_status`` never does.
    - A stale or offline destination is ``P402``: a ``RejectedError`` naming the locker id (list lockers again).
    - The access token is renewed before it expires; a 401 with a cached token renews it once and retries the
      call once, then it is an ``AuthError``. A wrong client secret is an ``AuthError`` at the token endpoint.
    - Polled events have no ids: ``event_id`` is ``<parcel id>/<type>/<time>``, the same for a webhook of the same
      event, so the hub drops the second copy.
    - Webhooks: only ``data`` is signed; the CloudEvent ``id`` is the delivery id and ``time`` is checked against
      ``webhook_tolerance_s``. Deliveries are at-least-once and may arrive out of order; keep polling as the
      fallback. Without ``webhook_secret`` every webhook is refused (``AuthError``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
from pydantic import SecretStr

from lockerhub.errors import AuthError, MappingError, ParseError, RejectedError
from lockerhub.model import (
    AccessCode,
    Dimensions,
    Locker,
    LockerState,
    ParcelEvent,
    Reservation,
    ReservationKind,
    SizeClass,
)
from lockerhub.model.crosswalk import Crosswalk, load_crosswalk
from lockerhub.plugins.http import check_http
from lockerhub.plugins.lifecycle import ClientOwner
from lockerhub.plugins.protocols import Capability, CheckResult, ConnectorKind, VendorEvent
from lockerhub.plugins.registry import package_version
from lockerhub_boxnow import webhook
from lockerhub_boxnow.client import BoxnowClient, BoxnowRejection
from lockerhub_boxnow.config import ENV_PREFIX, BoxnowConfig

SIZE_CLASSES: tuple[SizeClass, ...] = (
    SizeClass(code="1", inner=Dimensions.of(60, 45, 8, "cm"), max_weight_g=20_000),
    SizeClass(code="2", inner=Dimensions.of(60, 45, 17, "cm"), max_weight_g=20_000),
    SizeClass(code="3", inner=Dimensions.of(60, 45, 36, "cm"), max_weight_g=20_000),
)
"""BoxNow's compartment sizes, smallest first (dimensions are lockerhub's estimate)."""

LOCKER_STATES: dict[str, LockerState] = {
    "ready": LockerState.ONLINE, "offline": LockerState.OFFLINE, "maintenance": LockerState.MAINTENANCE,
}
"""A destination's ``status`` -> locker state; BoxNow lists only ready APMs, so a missing status is ``ready``."""


@cache
def crosswalk() -> Crosswalk:
    """The BoxNow event type to canonical status table, loaded once from ``statuses.yaml``."""
    return load_crosswalk(Path(__file__).with_name("statuses.yaml"))


class BoxnowConnector(ClientOwner[BoxnowClient]):
    """Locker-vendor connector for a BoxNow-style partner API."""

    id = "boxnow"
    kind = ConnectorKind.LOCKER_VENDOR
    version = package_version("lockerhub-boxnow")
    capabilities = frozenset({
        Capability.LIST_LOCKERS, Capability.SOFT_RESERVE, Capability.HARD_BOOK, Capability.CANCEL,
        Capability.POLL_STATUS, Capability.ACCESS_CODES, Capability.WEBHOOKS,
    })
    config_model = BoxnowConfig

    def __init__(self, config: BoxnowConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"BoxnowConnector(base_url={self.config.base_url!s})"

    def _new_client(self) -> BoxnowClient:
        return BoxnowClient(
            str(self.config.base_url), self.config.client_id, self.config.client_secret.get_secret_value(),
            timeout_s=self.config.timeout_s, verify_tls=self.config.verify_tls,
            user_agent=f"lockerhub-boxnow/{self.version}", refresh_margin_s=self.config.token_refresh_margin_s,
        )

    # --- check --------------------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        """Validate the config, then a token and one page of one destination; say what is wrong."""
        def probe() -> str:
            self.client.access_token(renew=True)
            listed = len(list(itertools.islice(self.client.iter_destinations(page_size=1), 1)))
            return f"authenticated; {listed} destination(s) on the first page"

        return check_http(
            self.config, str(self.config.base_url), probe, env_prefix=ENV_PREFIX,
            refused=f"refused the client credentials; check client_id ({ENV_PREFIX}CLIENT_ID) and client_secret "
                    f"({ENV_PREFIX}CLIENT_SECRET)",
            api="the BoxNow partner API",
        )

    # --- locker network -----------------------------------------------------------------------------------

    def list_lockers(self) -> Iterator[Locker]:
        for index, item in enumerate(self.client.iter_destinations(page_size=self.config.page_size)):
            yield _locker(index, item)

    def size_classes(self) -> list[SizeClass]:
        return list(SIZE_CLASSES)

    # --- reservations -------------------------------------------------------------------------------------

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Reservation:
        if size_class not in {s.code for s in SIZE_CLASSES}:
            raise RejectedError("boxnow: unknown compartment size", expected="1, 2 or 3", found=repr(size_class)[:12])
        body = {"orderNumber": idempotency_key, "origin": {"locationId": self.config.origin_location_id},
                "destination": {"locationId": locker_id}, "items": [{"compartmentSize": int(size_class)}]}
        try:
            answer = self.client.create_delivery_request(body)
        except BoxnowRejection as exc:
            if exc.code == "P410":  # this order number was used: a retry of this reservation, or a reused key
                return self._existing(idempotency_key, locker_id, size_class)
            if exc.code == "P402":
                raise RejectedError(f"boxnow: destination locker {locker_id!r} is unknown or not Box Now Ready "
                                    "(P402)", hint="list the lockers again: the id may be stale or the locker "
                                                   "offline") from None
            raise
        return Reservation(reservation_id=str(answer["parcels"][0]["id"]), locker_id=locker_id,
                           size_class=size_class, kind=ReservationKind.SOFT, expires_at=answer.get("holdExpiresAt"))

    def _existing(self, order_number: str, locker_id: str, size_class: str) -> Reservation:
        found = self.client.parcels(orderNumber=order_number)
        if not found:
            raise RejectedError("boxnow: the order number is taken (P410) but no parcel of this account has it")
        reservation = _reservation(found[0])
        if (reservation.locker_id, reservation.size_class) != (locker_id, size_class):
            raise RejectedError("boxnow: the idempotency key was used for a delivery request to another locker or "
                                "size (P410)", hint="use a new idempotency key for a different request")
        return reservation

    def book(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        return _reservation(self.client.confirm(reservation_id, idempotency_key=idempotency_key))

    def cancel(self, reservation_id: str) -> None:
        self.client.cancel(reservation_id)

    def get_status(self, reservation_id: str) -> list[VendorEvent]:
        found = [p for p in self.client.parcels(parcelId=reservation_id) if str(p.get("id")) == reservation_id]
        if not found:
            raise RejectedError(f"boxnow: unknown parcel {reservation_id!r}")
        return [self._vendor_event(reservation_id, raw["type"], datetime.fromisoformat(raw["createTime"]),
                                   raw.get("locationId")) for raw in found[0].get("events") or []]

    def _vendor_event(self, parcel_id: str, code: str, when: datetime, locker_id: str | None) -> VendorEvent:
        """One BoxNow parcel event (polled or from a webhook) mapped through ``statuses.yaml``."""
        mapped = crosswalk().map(code)
        event = ParcelEvent(
            status=mapped.status, reason=mapped.reason, occurred_at=when, source=self.id, raw_code=code,
            locker_id=locker_id, event_id=f"{parcel_id}/{code}/{when.astimezone(UTC).isoformat()}",
        )
        return VendorEvent(reservation_id=parcel_id, event=event)

    # --- webhooks (see webhook.py) ------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> str:
        secret = self.config.webhook_secret.get_secret_value() if self.config.webhook_secret else ""
        if not secret:
            raise AuthError("boxnow webhook: no webhook_secret is configured, so no webhook can be verified",
                            hint=f"set {ENV_PREFIX}WEBHOOK_SECRET")
        return webhook.verify(body, secret=secret, tolerance_s=self.config.webhook_tolerance_s, now=now)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[VendorEvent]:
        data = webhook.event(body)
        location = data.get("eventLocation") or {}
        try:
            return [self._vendor_event(data["parcelId"], data["event"], data["time"], location.get("locationId"))]
        except MappingError as exc:  # the crosswalk names its file; a sender is told the field only
            raise ParseError("boxnow webhook: data.event", expected="a BoxNow parcel event type listed in "
                             "statuses.yaml", found=(exc.found or "")[:40] or None) from None


def _reservation(parcel: dict[str, Any]) -> Reservation:
    """A parcel (lookup or confirmation answer) as a reservation; the PIN, when given, is the access code."""
    pin = parcel.get("pin")
    access = None if pin is None else AccessCode(code=SecretStr(str(pin)), valid_until=parcel.get("pinValidUntil"))
    return Reservation(
        reservation_id=str(parcel["id"]),
        locker_id=str(parcel["deliveryRequest"]["destination"]["locationId"]),
        size_class=str(parcel["compartmentSize"]),
        kind=ReservationKind.HARD if parcel.get("confirmed") else ReservationKind.SOFT,
        expires_at=parcel.get("holdExpiresAt"),
        access_code=access,
    )


def _locker(index: int, item: dict[str, Any]) -> Locker:
    status = item.get("status", "ready")
    if status not in LOCKER_STATES:
        raise MappingError(f"boxnow destinations[{index}].status: unknown destination status",
                           expected=", ".join(LOCKER_STATES), found=repr(status)[:40])
    try:
        return Locker(
            locker_id=str(item["id"]), name=item.get("name"), region=item.get("region"),
            postal_code=item.get("postalCode"), city=item.get("city"), country=item.get("country") or "GR",
            latitude=item.get("lat"), longitude=item.get("lng"), state=LOCKER_STATES[status],
        )
    except (KeyError, pydantic.ValidationError) as exc:
        field = exc.args[0] if isinstance(exc, KeyError) else ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ParseError(f"boxnow destinations[{index}].{field}", expected="a destination as the partner API "
                         "lists it", found="a missing or invalid value") from None
