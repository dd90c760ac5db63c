"""gls: lockers of the GLS/NXT out-of-home (OOH) platform, through its carrier-connector API.

Modelled on the public GLS/NXT "OOH Platform Integration REST API" v1 (``X-API-Key``, ``GET /lockers``,
``POST /parcels/data/by-tenant-locker-id`` with PRE_CHECK / BOOKING and SOFT_ / HARD_RESERVATION, ``PATCH
/parcels/{parcelId}`` to cancel, ``GET /parcels?ids=``, ParcelUpdates and LockerUpdates callbacks). The tests run
against lockerhub's bundled GLS-style simulator (:mod:`lockerhub.simulator.vendors.gls`), not GLS's service; what
the public docs do not show is emulated there and listed in docs/vendors/gls.md.

Capabilities
    list_lockers, precheck, soft_reserve, hard_book, cancel, poll_status, access_codes, list_reservations,
    webhooks (ParcelUpdates: ``verify_webhook`` and ``parse_webhook``); LockerUpdates are read with
    :func:`~lockerhub_gls.webhook.parse_locker_updates` (also ``GlsConnector.parse_locker_updates``).

Config (:class:`~lockerhub_gls.config.GlsConfig`)
    ``base_url`` (``LOCKERHUB_GLS_BASE_URL``, default ``https://api.glsnxt.com/ooh/carrier-connector/v1``),
    ``api_key`` (``LOCKERHUB_GLS_API_KEY``, sent as ``X-API-Key``), ``timeout_s`` (default 10), ``verify_tls``,
    ``ca_bundle``, ``page_size`` (lockers per page, default 50), ``webhook_secret`` (``LOCKERHUB_GLS_WEBHOOK_SECRET``),
    ``webhook_tolerance_s`` (replay window, default 300).

Status crosswalk file
    ``statuses.yaml`` beside this module: every GLS ``shipmentStatus`` to a canonical status, for ``get_status``,
    ``parse_webhook`` and ``list_reservations`` alike. An unknown code is a ``MappingError``.

Limits / Pitfalls
    - ``reserve`` publishes a BOOKING with ``allocationType: SOFT_RESERVATION`` whose ``carrierParcelId`` is
      derived from the idempotency key (``lh-`` and 29 hex digits of its SHA-256: 32 characters whatever the key's
      length): the platform keys parcels by it, so the same key again is the same parcel, and the reservation id
      lockerhub keeps is that ``carrierParcelId``. The same key for another locker or size is refused
      (``PARCEL_ALREADY_EXISTS``).
    - A soft reservation lasts until ``expiresAt`` (15 simulated minutes); ``book`` after that is a ``RejectedError``
      (``BOOKING_EXPIRED``) and the parcel's status becomes BOOKING_EXPIRED (canonical CANCELLED): reserve again
      with a new key.
    - ``book`` (``POST /parcels/{id}/confirm``, emulated) sends its key as ``Idempotency-Key``; a repeat replays
      the first answer, access code included. The code is an :class:`~lockerhub.model.AccessCode` with
      ``validFrom``/``validUntil``; it is masked in repr, str and JSON, and never in an error.
    - ``cancel`` once the courier delivered is refused (``BOOKING_CANCELLATION_FAILED``); cancelling twice is fine.
    - GLS sizes are SMALL < MEDIUM < LARGE < XLARGE < XXLARGE by volume; ``size_classes`` walks every locker page
      and takes, per size, the smallest inner box and load limit any locker offers for it. GLS compartments are
      ambient only: ``precheck`` of a chilled or frozen parcel is an empty list.
    - Callbacks are at-least-once: the same ``X-GLS-Delivery`` comes again on retries and duplicates, and updates
      may arrive out of order. Each ParcelUpdates carries the parcel's history; ``parse_webhook`` returns every
      event in it with a stable ``event_id`` (shipment, status, time), so the hub drops what it has seen and applies
      the rest forward-only. Polling (``get_status``) stays the fallback for a silent callback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lockerhub.errors import AuthError, MappingError, ParseError
from lockerhub.mapping import CompiledMapping, load_mapping
from lockerhub.model import (
    AccessCode,
    Compartment,
    CompartmentState,
    Dimensions,
    Locker,
    Module,
    Parcel,
    ParcelEvent,
    Reservation,
    ReservationKind,
    SizeClass,
    TemperatureClass,
)
from lockerhub.model.crosswalk import Crosswalk, load_crosswalk
from lockerhub.plugins.http import check_http
from lockerhub.plugins.lifecycle import ClientOwner
from lockerhub.plugins.protocols import (
    Capability,
    CheckResult,
    ConnectorKind,
    ReservationPage,
    VendorEvent,
    VendorReservation,
)
from lockerhub.plugins.registry import package_version
from lockerhub_gls import webhook
from lockerhub_gls.client import GlsClient
from lockerhub_gls.config import ENV_PREFIX, GlsConfig

REQUEST_MAPPINGS: dict[str, Path] = {"precheck": Path(__file__).with_name("requests") / "precheck.yaml"}
HARD = "HARD_RESERVATION"


@cache
def request_mapping(name: str) -> CompiledMapping:
    """Outbound mapping (canonical -> request JSON) for one API call, loaded once."""
    return load_mapping(REQUEST_MAPPINGS[name])


@cache
def crosswalk() -> Crosswalk:
    """The GLS shipmentStatus to canonical-status table, loaded once from ``statuses.yaml``."""
    return load_crosswalk(Path(__file__).with_name("statuses.yaml"))


class GlsConnector(ClientOwner[GlsClient]):
    """Locker-vendor connector for the GLS/NXT out-of-home platform."""

    id = "gls"
    kind = ConnectorKind.LOCKER_VENDOR
    version = package_version("lockerhub-gls")
    capabilities = frozenset({
        Capability.LIST_LOCKERS, Capability.PRECHECK, Capability.SOFT_RESERVE, Capability.HARD_BOOK,
        Capability.CANCEL, Capability.POLL_STATUS, Capability.ACCESS_CODES, Capability.WEBHOOKS,
        Capability.LIST_RESERVATIONS,
    })
    config_model = GlsConfig
    request_mappings = REQUEST_MAPPINGS  # outbound mappings per API call (for `lockerhub mapping explain`)
    parse_locker_updates = staticmethod(webhook.parse_locker_updates)

    def __init__(self, config: GlsConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"GlsConnector(base_url={self.config.base_url!s})"

    def _new_client(self) -> GlsClient:
        return GlsClient(
            self.config.base_url, self.config.api_key.get_secret_value(), timeout_s=self.config.timeout_s,
            verify_tls=self.config.tls_verify(), user_agent=f"lockerhub-gls/{self.version}",
            page_size=self.config.page_size,
        )

    # --- check --------------------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        """Validate the config, then one authenticated call (the first locker); say what is wrong."""
        def probe() -> str:
            self.client.lockers_page(0, 1)
            return "authenticated"

        return check_http(
            self.config, self.config.base_url, probe, env_prefix=ENV_PREFIX,
            refused=f"answered but refused the API key (HTTP 401/403); check api_key ({ENV_PREFIX}API_KEY)",
            api="the GLS carrier-connector API",
        )

    # --- locker network -----------------------------------------------------------------------------------

    def list_lockers(self) -> Iterator[Locker]:
        for item in self.client.iter_lockers():
            yield _locker(item)

    def size_classes(self) -> list[SizeClass]:
        """Per GLS size, the smallest inner box and load limit of any locker's compartment type of that size."""
        smallest: dict[str, tuple[int, int, int, int]] = {}
        for item in self.client.iter_lockers():
            for kind in item.get("compartmentTypes") or []:
                box = (int(kind["length"]), int(kind["width"]), int(kind["height"]), int(kind["maxWeight"]))
                seen = smallest.get(kind["size"])
                smallest[kind["size"]] = box if seen is None else tuple(map(min, seen, box))  # type: ignore[assignment]
        classes = [SizeClass(code=size, inner=Dimensions(length_mm=l_, width_mm=w, height_mm=h), max_weight_g=g)
                   for size, (l_, w, h, g) in smallest.items()]
        return sorted(classes, key=lambda s: (s.inner.volume_mm3, s.code))

    def precheck(self, locker_id: str, parcel: Parcel) -> list[str]:
        """``eventType: PRE_CHECK``: the sizes with a free compartment that take the parcel, smallest first."""
        if parcel.temperature != TemperatureClass.AMBIENT:
            return []
        result = request_mapping("precheck").map(parcel.model_dump(mode="json"))
        if not result.ok:  # the canonical model guarantees these fields; a failure here is a mapping bug
            raise result.errors[0]
        body = self.client.publish({**result.value, "carrierLockerId": locker_id})
        return list(body["compartmentSizes"])

    # --- reservations -------------------------------------------------------------------------------------

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Reservation:
        return _reservation(self.client.publish({
            "eventType": "BOOKING", "carrierLockerId": locker_id, "carrierParcelId": carrier_parcel_id(idempotency_key),
            "shipmentType": "LAST_MILE", "allocationType": "SOFT_RESERVATION", "compartmentSize": size_class,
        }))

    def book(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        return _reservation(self.client.confirm(reservation_id, idempotency_key=idempotency_key))

    def cancel(self, reservation_id: str) -> None:
        self.client.cancel(reservation_id)

    def get_status(self, reservation_id: str) -> list[VendorEvent]:
        return self._events(self.client.parcel(reservation_id))

    def list_reservations(self, *, cursor: str | None = None) -> ReservationPage:
        body = self.client.parcels_page(cursor)
        items = []
        for raw in body["items"]:
            mapped = crosswalk().map(raw["shipmentStatus"])
            history = raw.get("events") or []
            items.append(VendorReservation(
                reservation_id=raw["carrierParcelId"], locker_id=raw["carrierLockerId"], status=mapped.status,
                state=raw["shipmentStatus"], kind=_kind(raw), reason=mapped.reason,
                created_at=_when(history[0]["timestamp"]) if history else None, expires_at=_when(raw.get("expiresAt")),
            ))
        return ReservationPage(tuple(items), body.get("nextCursor"), _when(body.get("asOf")))

    def _events(self, parcel: dict[str, Any]) -> list[VendorEvent]:
        """Every event of a parcel's history (and its current status, if the history lacks it), mapped."""
        history = [(e["eventType"], e["timestamp"]) for e in parcel.get("events") or []]
        current = (parcel["shipmentStatus"], parcel["eventTimestamp"])
        if current not in history:
            history.append(current)
        reservation_id = parcel["carrierParcelId"]
        shipment = parcel.get("shipmentUid") or reservation_id
        events = []
        for code, timestamp in history:
            mapped = crosswalk().map(code)
            event = ParcelEvent(status=mapped.status, reason=mapped.reason, occurred_at=_when(timestamp),
                                source=self.id, raw_code=code, locker_id=parcel.get("carrierLockerId"),
                                event_id=f"{shipment}:{code}:{timestamp}")
            events.append(VendorEvent(reservation_id=reservation_id, event=event))
        return events

    # --- callbacks (see webhook.py) -----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> str:
        secret = self.config.webhook_secret.get_secret_value() if self.config.webhook_secret else ""
        if not secret:
            raise AuthError("gls callback: no webhook_secret is configured, so no callback can be verified",
                            hint=f"set {ENV_PREFIX}WEBHOOK_SECRET")
        return webhook.verify(headers, body, secret=secret, tolerance_s=self.config.webhook_tolerance_s, now=now)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[VendorEvent]:
        """A ParcelUpdates delivery as events (its history included); LockerUpdates go to parse_locker_updates."""
        try:
            return self._events(webhook.parcel_update(body))
        except MappingError as exc:  # the crosswalk names its file; a sender is told the field only
            raise ParseError("gls ParcelUpdates: shipmentStatus or events[].eventType",
                             expected="a GLS shipmentStatus listed in statuses.yaml",
                             found=(exc.found or "")[:60] or None) from None


def _locker(raw: dict[str, Any]) -> Locker:
    carrier, location = raw["carrier"], raw.get("location") or {}
    metadata = {m.get("key"): m.get("value") for m in raw.get("metadata") or [] if isinstance(m, dict)}
    return Locker(
        locker_id=carrier["lockerId"], name=carrier.get("lockerName"), region=metadata.get("region"),
        postal_code=location.get("postalCode"), city=location.get("city"),
        country=location.get("countryCode") or "PL", latitude=location.get("lat"), longitude=location.get("lon"),
        state=webhook.locker_state(carrier.get("status")),
        modules=[Module(module_id=m["moduleId"], compartments=[_compartment(c) for c in m.get("compartments") or []])
                 for m in raw.get("modules") or []],
    )


def _compartment(raw: dict[str, Any]) -> Compartment:
    return Compartment(
        compartment_id=raw["compartmentId"], size_class=raw["size"],
        inner=Dimensions(length_mm=raw["length"], width_mm=raw["width"], height_mm=raw["height"]),
        max_weight_g=raw["maxWeight"], state=CompartmentState(str(raw.get("status", "FREE")).lower()),
    )


def carrier_parcel_id(idempotency_key: str) -> str:
    """The ``carrierParcelId`` of a reservation: the same for the same key, 32 characters for any key."""
    return "lh-" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:29]


def _reservation(body: dict[str, Any]) -> Reservation:
    compartment = body.get("compartment") or {}
    code = (body.get("accessCodes") or {}).get("consigneeCollectionCode")
    access = None
    if code is not None and code.get("code"):
        access = AccessCode(code=SecretStr(str(code["code"])), valid_from=code.get("validFrom"),
                            valid_until=code.get("validUntil"))
    return Reservation(
        reservation_id=body["carrierParcelId"], locker_id=body["carrierLockerId"],
        compartment_id=compartment.get("compartmentId"), size_class=compartment.get("size") or "",
        kind=_kind(body), expires_at=body.get("expiresAt"), access_code=access,
    )


def _kind(body: dict[str, Any]) -> ReservationKind:
    return ReservationKind.HARD if body.get("allocationType") == HARD else ReservationKind.SOFT


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

