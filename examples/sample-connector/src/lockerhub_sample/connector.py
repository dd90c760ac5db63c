"""Sample Lockers: the sample locker-vendor connector of docs/writing-a-connector.md.

'Sample Lockers' is an emulated vendor: its API is the fake one in ``fakeapi.py`` (served over real HTTP for
tests), not any real service. Copy this package to start a connector for your own API.

Capabilities
    list_lockers, soft_reserve, hard_book, cancel, poll_status, access_codes, webhooks (``verify_webhook`` and
    ``parse_webhook``, in ``webhook.py``).

Config (:class:`~lockerhub_sample.config.SampleConfig`)
    ``base_url`` (``LOCKERHUB_SAMPLE_BASE_URL``), ``token`` (``LOCKERHUB_SAMPLE_TOKEN``, sent as a bearer token),
    ``webhook_secret`` (``LOCKERHUB_SAMPLE_WEBHOOK_SECRET``), ``webhook_tolerance_s`` (default 300),
    ``timeout_s`` (default 10).

Status crosswalk file
    ``statuses.yaml`` beside this module: every status the vendor sends, to a canonical status.

Limits / Pitfalls
    - A hold lasts 15 minutes; ``book`` after that is a ``RejectedError``.
    - Idempotency keys are scoped per operation by the vendor, so one domain key may serve ``reserve`` and ``book``.
    - The PIN (access code) comes only in the answer to ``book`` (and its replay); it is an ``AccessCode``, masked
      in repr, str and JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
from pydantic import SecretStr

from lockerhub.errors import AuthError, LockerhubError, MappingError, ParseError, TransientError
from lockerhub.model import (
    AccessCode,
    Dimensions,
    Locker,
    LockerState,
    ParcelEvent,
    Reservation,
    ReservationKind,
    SizeClass,
    to_g,
)
from lockerhub.model.crosswalk import Crosswalk, Mapped, load_crosswalk
from lockerhub.plugins.protocols import Capability, CheckResult, ConnectorKind, VendorEvent
from lockerhub.plugins.registry import package_version
from lockerhub_sample import webhook
from lockerhub_sample.client import SampleClient
from lockerhub_sample.config import ENV_PREFIX, SampleConfig

POINT_STATES = {"active": LockerState.ONLINE, "offline": LockerState.OFFLINE, "maintenance": LockerState.MAINTENANCE}


@cache
def _crosswalk() -> Crosswalk:
    return load_crosswalk(Path(__file__).with_name("statuses.yaml"))


def vendor_status(code: str) -> Mapped:
    """One vendor status through ``statuses.yaml``; an unknown status raises MappingError: it is never guessed."""
    return _crosswalk().map(code)


class SampleConnector:
    """Locker-vendor connector for the Sample Lockers API."""

    id = "sample"
    kind = ConnectorKind.LOCKER_VENDOR
    version = package_version("lockerhub-sample")
    capabilities = frozenset({
        Capability.LIST_LOCKERS, Capability.SOFT_RESERVE, Capability.HARD_BOOK, Capability.CANCEL,
        Capability.POLL_STATUS, Capability.ACCESS_CODES, Capability.WEBHOOKS,
    })
    config_model = SampleConfig

    def __init__(self, config: SampleConfig) -> None:
        self.config = config
        self._client: SampleClient | None = None

    @property
    def client(self) -> SampleClient:
        if self._client is None:
            self._client = SampleClient(self.config.base_url, self.config.token.get_secret_value(),
                                        timeout_s=self.config.timeout_s, user_agent=f"lockerhub-sample/{self.version}")
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def check(self) -> CheckResult:
        """Validate the config, then one authenticated call (``GET /v2/box-sizes``); say what is wrong."""
        result = CheckResult()
        try:
            SampleConfig.model_validate(self.config.model_dump())
        except pydantic.ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            return result.add("config", False, f"invalid field(s): {fields}")
        result.add("config", True)
        try:
            count = len(self.client.box_sizes())
        except AuthError:
            return result.add("auth", False, f"the API refused the token; check token ({ENV_PREFIX}TOKEN)")
        except TransientError as exc:
            return result.add("reachable", False, f"the API is unavailable: {exc.message}; check base_url "
                                                  f"({ENV_PREFIX}BASE_URL)")
        except LockerhubError as exc:
            return result.add("api", False, f"unexpected answer: {exc.message}")
        return result.add("auth", True, f"authenticated; {count} box sizes")

    # --- locker network -----------------------------------------------------------------------------------

    def list_lockers(self) -> Iterator[Locker]:
        for point in self.client.points():
            state = POINT_STATES.get(point["status"])
            if state is None:
                raise MappingError("unknown sample point status", expected=", ".join(POINT_STATES),
                                   found=repr(point["status"]))
            yield Locker(locker_id=point["id"], name=point.get("name"), city=point.get("city"),
                         postal_code=point.get("postcode"), country=point.get("country", "PL"),
                         latitude=point.get("lat"), longitude=point.get("lng"), state=state)

    def size_classes(self) -> list[SizeClass]:
        sizes = []
        for box in self.client.box_sizes():
            length, width, height = box["inner_cm"]
            sizes.append(SizeClass(code=box["code"], inner=Dimensions.of(length, width, height, unit="cm"),
                                   max_weight_g=to_g(box["max_kg"], "kg")))
        return sizes

    # --- reservations -------------------------------------------------------------------------------------

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Reservation:
        return _reservation(self.client.hold(locker_id, size_class, idempotency_key=idempotency_key))

    def book(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        return _reservation(self.client.confirm(reservation_id, idempotency_key=idempotency_key))

    def cancel(self, reservation_id: str) -> None:
        self.client.release(reservation_id)

    def get_status(self, reservation_id: str) -> list[VendorEvent]:
        return [self._event(raw) for raw in self.client.events(reservation_id)]

    def _event(self, raw: dict[str, Any]) -> VendorEvent:
        mapped = vendor_status(raw["status"])
        event = ParcelEvent(status=mapped.status, reason=mapped.reason, occurred_at=datetime.fromisoformat(raw["at"]),
                            source=self.id, raw_code=raw["status"], locker_id=raw.get("point_id"),
                            event_id=raw.get("id"))
        return VendorEvent(reservation_id=raw["hold_id"], event=event)

    # --- webhooks (see webhook.py) ------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> str:
        if self.config.webhook_secret is None:
            raise AuthError("sample webhook: no webhook_secret is configured", hint=f"set {ENV_PREFIX}WEBHOOK_SECRET")
        return webhook.verify(headers, body, secret=self.config.webhook_secret.get_secret_value(),
                              tolerance_s=self.config.webhook_tolerance_s, now=now)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[VendorEvent]:
        events = []
        for index, raw in enumerate(webhook.events(body)):
            try:
                events.append(self._event(raw))
            except MappingError as exc:
                raise ParseError(f"sample webhook: events[{index}].status", expected="a status in statuses.yaml",
                                 found=exc.found) from None
        return events


def _reservation(body: dict[str, Any]) -> Reservation:
    pin = body.get("pin")
    code = None if pin is None else AccessCode(code=SecretStr(pin), valid_until=body.get("pin_valid_until"))
    return Reservation(reservation_id=body["id"], locker_id=body["point_id"], compartment_id=body.get("box_id"),
                       size_class=body["box_size"],
                       kind=ReservationKind.HARD if body["type"] == "booking" else ReservationKind.SOFT,
                       expires_at=body.get("expires_at"), access_code=code)
