"""inpost: InPost ShipX-style parcel lockers (Paczkomat) through the ShipX REST API.

Tests run against lockerhub's bundled simulator (``lockerhub.simulator.vendors.inpost``), which speaks the ShipX
style over the simulated locker network; they do not reach InPost's service. What the simulator emulates beyond
ShipX's public documentation is listed in ``docs/vendors/inpost.md``.

Capabilities
    list_lockers (``GET /v1/points``, page by page), soft_reserve (create a shipment to a target point:
    ``offers_prepared``), hard_book (buy its offer: ``confirmed``), cancel (``DELETE /v1/shipments/{id}``),
    poll_status (the shipment, then ``GET /v1/tracking/{number}``), access_codes (the pickup code in the answer to
    ``book``). Not precheck: ShipX has no call that says whether a parcel fits a point's free lockers now. Not
    webhooks: ShipX's webhooks are unsigned, so they cannot be verified; :meth:`InpostConnector.webhook_hint`
    reads one as a hint of which shipments to fetch with ``get_status``, the source of truth.

Config (:class:`~lockerhub_inpost.config.InpostConfig`)
    ``base_url`` (``LOCKERHUB_INPOST_BASE_URL``), ``token`` (``LOCKERHUB_INPOST_TOKEN``, sent as ``Authorization:
    Bearer``), ``organization_id`` (``LOCKERHUB_INPOST_ORGANIZATION_ID``), ``service`` (default
    ``inpost_locker_standard``), ``sending_method`` (default ``dispatch_order``), ``per_page`` (default 100),
    ``timeout_s`` (default 10), ``verify_tls`` (default true), ``ca_bundle`` (``LOCKERHUB_INPOST_CA_BUNDLE``).

Status crosswalk file
    ``statuses.yaml`` beside this module: every ShipX shipment status to a canonical status; ``other`` and any
    status not listed raise :class:`~lockerhub.errors.MappingError`.

Limits / Pitfalls
    - Size classes are ShipX's parcel templates ``small``, ``medium`` and ``large`` (A, B, C: 8, 19 and 41 x 38 x
      64 cm, 25 kg); ``reserve`` takes one of these codes.
    - A shipment holds no compartment on InPost's side until the parcel arrives; "soft" means created and not
      bought, and it does not lapse by itself (cancel what is not booked).
    - Idempotency rides on an ``Idempotency-Key`` header that the simulator honours; ShipX's public documentation
      names no such header, so on the real API a retried ``reserve`` after a timeout may create a second shipment.
    - ``book`` reads the shipment for its offer, then buys it: two calls. The pickup code comes only in the answer
      to ``book`` (emulated; InPost texts it to the recipient) and is an :class:`~lockerhub.model.AccessCode`.
    - Real ShipX needs a ``receiver`` (e-mail, phone) for locker shipments; ``reserve`` carries no recipient, so
      this connector books against the simulator, or an account whose shipments need none.
    - A shipment gets its tracking number when bought; before that ``get_status`` reports the shipment's own
      status as one event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lockerhub.errors import MappingError, RejectedError
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
from lockerhub_inpost import webhook
from lockerhub_inpost.client import ShipxClient
from lockerhub_inpost.config import ENV_PREFIX, InpostConfig

TEMPLATES: tuple[SizeClass, ...] = tuple(
    SizeClass(code=code, inner=Dimensions(length_mm=640, width_mm=380, height_mm=height), max_weight_g=25_000)
    for code, height in (("small", 80), ("medium", 190), ("large", 410))
)
"""ShipX parcel templates (gabaryt A, B, C), smallest first."""

POINT_STATES: dict[str, LockerState] = {
    "Operating": LockerState.ONLINE, "NonOperating": LockerState.OFFLINE, "Disabled": LockerState.MAINTENANCE,
}
"""A point's ``status`` -> the locker's state; any other status is a MappingError."""

SOFT_STATUSES = frozenset({"created", "offers_prepared", "offer_selected"})
"""Shipment statuses before the offer is bought: the reservation is still soft."""


@cache
def crosswalk() -> Crosswalk:
    """The ShipX-status to canonical-status table, loaded once from ``statuses.yaml``."""
    return load_crosswalk(Path(__file__).with_name("statuses.yaml"))


class InpostConnector(ClientOwner[ShipxClient]):
    """Locker-vendor connector for InPost ShipX-style APIs."""

    id = "inpost"
    kind = ConnectorKind.LOCKER_VENDOR
    version = package_version("lockerhub-inpost")
    capabilities = frozenset({
        Capability.LIST_LOCKERS, Capability.SOFT_RESERVE, Capability.HARD_BOOK, Capability.CANCEL,
        Capability.POLL_STATUS, Capability.ACCESS_CODES,
    })
    config_model = InpostConfig

    def __init__(self, config: InpostConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"InpostConnector(base_url={self.config.base_url!s}, organization_id={self.config.organization_id})"

    def _new_client(self) -> ShipxClient:
        return ShipxClient(
            str(self.config.base_url), self.config.token.get_secret_value(), self.config.organization_id,
            timeout_s=self.config.timeout_s, verify_tls=self.config.tls_verify(),
            user_agent=f"lockerhub-inpost/{self.version}", per_page=self.config.per_page,
        )

    # --- check --------------------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        """Validate the config, then one authenticated call (``GET /v1/organizations/{id}``); say what is wrong."""
        organization = self.config.organization_id

        def probe() -> str:
            self.client.organization()
            return f"authenticated for organisation {organization}"

        return check_http(
            self.config, str(self.config.base_url), probe, env_prefix=ENV_PREFIX,
            refused=f"refused the token for organisation {organization} (HTTP 401/403); check token "
                    f"({ENV_PREFIX}TOKEN) and organization_id ({ENV_PREFIX}ORGANIZATION_ID)",
            api="the ShipX API",
        )

    # --- locker network -----------------------------------------------------------------------------------

    def list_lockers(self) -> Iterator[Locker]:
        for point in self.client.iter_points():
            yield _locker(point)

    def size_classes(self) -> list[SizeClass]:
        return list(TEMPLATES)

    # --- reservations -------------------------------------------------------------------------------------

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Reservation:
        """Create a shipment to the point with the template: a soft reservation (``offers_prepared``)."""
        shipment = {
            "service": self.config.service,
            "parcels": [{"template": size_class}],
            "custom_attributes": {"target_point": locker_id, "sending_method": self.config.sending_method},
        }
        try:
            body = self.client.create_shipment(shipment, idempotency_key=idempotency_key)
        except RejectedError as exc:
            raise RejectedError(f"{exc.message}; target point {locker_id!r}, template {size_class!r}",
                                hint=exc.hint) from None
        return _reservation(body)

    def book(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        """Buy the shipment's offer for the configured service: a hard booking (``confirmed``) with its code."""
        offers = self.client.shipment(reservation_id).get("offers") or []
        offer = next((o for o in offers if (o.get("service") or {}).get("id") == self.config.service), None)
        if offer is None:
            raise RejectedError(f"inpost shipment {reservation_id!r} has no offer for service "
                                f"{self.config.service!r}", hint="check service (LOCKERHUB_INPOST_SERVICE)")
        return _reservation(self.client.buy(reservation_id, int(offer["id"]), idempotency_key=idempotency_key))

    def cancel(self, reservation_id: str) -> None:
        self.client.cancel(reservation_id)

    def get_status(self, reservation_id: str) -> list[VendorEvent]:
        """The shipment's status history, oldest first, mapped through ``statuses.yaml``."""
        shipment = self.client.shipment(reservation_id)
        locker_id = (shipment.get("custom_attributes") or {}).get("target_point")
        number = shipment.get("tracking_number")
        if not number:  # not bought yet (or cancelled before): the shipment's own status is all there is
            history = [(shipment["status"], shipment["updated_at"])]
        else:  # ShipX lists the newest first; equal times keep their listed order
            details = list(reversed(self.client.tracking(number).get("tracking_details") or []))
            history = [(d["status"], d["datetime"]) for d in details]
        events = [self._event(reservation_id, locker_id, status, when) for status, when in history]
        events.sort(key=lambda e: e.event.occurred_at)
        return events

    def _event(self, shipment_id: str, locker_id: str | None, status: str, when: str) -> VendorEvent:
        mapped = crosswalk().map(status)
        event = ParcelEvent(
            status=mapped.status, reason=mapped.reason, occurred_at=datetime.fromisoformat(when), source=self.id,
            raw_code=status, locker_id=locker_id, event_id=f"{shipment_id}:{status}:{when}",
        )
        return VendorEvent(reservation_id=shipment_id, event=event)

    # --- webhooks: hints only (unsigned) ------------------------------------------------------------------

    def webhook_hint(self, body: bytes) -> list[str]:
        """The shipment ids a ShipX webhook names, to fetch now with :meth:`get_status`.

        ShipX webhooks are unsigned, so the status in the body is never used: it may be stale, duplicated, out of
        order or forged. A body that is not a ShipX webhook for this organisation is a
        :class:`~lockerhub.errors.ParseError`."""
        return webhook.shipment_ids(body, organization_id=self.config.organization_id)


def _reservation(body: dict[str, Any]) -> Reservation:
    code = body.get("pickup_code")
    access = None
    if code is not None:
        access = AccessCode(code=SecretStr(str(code)), valid_until=body.get("pickup_code_valid_until"))
    soft = body["status"] in SOFT_STATUSES
    offers = body.get("offers") or [{}]
    return Reservation(
        reservation_id=str(body["id"]),
        locker_id=body["custom_attributes"]["target_point"],
        size_class=body["parcels"][0]["template"],
        kind=ReservationKind.SOFT if soft else ReservationKind.HARD,
        expires_at=offers[0].get("expires_at") if soft else None,
        access_code=access,
    )


def _locker(point: dict[str, Any]) -> Locker:
    status = point.get("status")
    state = POINT_STATES.get(status) if isinstance(status, str) else None
    if state is None:
        raise MappingError(f"inpost point {point.get('name')!r}: unknown point status",
                           expected=f"one of {', '.join(POINT_STATES)}", found=repr(status)[:40])
    location = point.get("location") or {}
    address = point.get("address_details") or {}
    return Locker(
        locker_id=point["name"], name=point.get("location_description"), region=point.get("agency"),
        postal_code=address.get("post_code"), city=address.get("city"),
        latitude=location.get("latitude"), longitude=location.get("longitude"), state=state,
    )
