"""simlocker: lockerhub's reference locker API, as served by the bundled simulator (``lockerhub.simulator``).

The API is lockerhub's own, modelled on the locker-operator reservation style (pre-check, soft reservation,
hard booking, access codes); it is emulated and is no vendor's real API. Use it for pilots, training and
tests, and as the model for a vendor connector.

Capabilities
    list_lockers, precheck, soft_reserve, hard_book, cancel, poll_status, access_codes.

Config (:class:`~lockerhub_simlocker.config.SimlockerConfig`)
    ``base_url`` (``LOCKERHUB_SIMLOCKER_BASE_URL``), ``api_key`` (``LOCKERHUB_SIMLOCKER_API_KEY``, sent as
    ``X-API-Key``), ``timeout_s`` (default 10), ``verify_tls`` (default true).

Status crosswalk file
    ``statuses.yaml`` beside this module: every simulator event code to a canonical status.

Limits / Pitfalls
    - A soft reservation lasts 15 simulated minutes; ``book`` after that is a ``RejectedError``
      (``reservation_expired``), and the same idempotency key replays the original answer, so re-reserve with
      a new key.
    - Idempotency keys are scoped per operation on the server, so one domain key may serve ``reserve`` and
      ``book``; the same key with a different locker or size class is rejected (``idempotency_key_reused``).
    - The access code comes only in the answer to ``book`` (or its replay); ``get_status`` never returns it.
      It is an :class:`~lockerhub.model.AccessCode`: masked in repr, str and JSON.
    - Status is polled (no webhooks); time in the simulator moves only when told (``POST /sim/clock/advance``),
      so expiries appear in ``get_status`` only after the clock moves.
    - ``cancel`` after the courier deposited the parcel is a ``RejectedError`` (``invalid_state``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import pydantic
import requests
from pydantic import SecretStr

from lockerhub.errors import AuthError, LockerhubError, TransientError
from lockerhub.mapping import CompiledMapping, load_mapping
from lockerhub.model import AccessCode, Locker, Parcel, ParcelEvent, Reservation, ReservationKind, SizeClass
from lockerhub.model.crosswalk import Crosswalk, load_crosswalk
from lockerhub.plugins.protocols import Capability, CheckResult, ConnectorKind, VendorEvent
from lockerhub.plugins.registry import package_version
from lockerhub_simlocker.client import SimlockerClient
from lockerhub_simlocker.config import ENV_PREFIX, SimlockerConfig

REQUEST_MAPPINGS: dict[str, Path] = {"precheck": Path(__file__).with_name("requests") / "precheck.yaml"}


@cache
def request_mapping(name: str) -> CompiledMapping:
    """Outbound mapping (canonical -> request JSON) for one API call, loaded once."""
    return load_mapping(REQUEST_MAPPINGS[name])


@cache
def crosswalk() -> Crosswalk:
    """The simulator-code to canonical-status table, loaded once from ``statuses.yaml``."""
    return load_crosswalk(Path(__file__).with_name("statuses.yaml"))


class SimlockerConnector:
    """Locker-vendor connector for the simulator's reference API."""

    id = "simlocker"
    kind = ConnectorKind.LOCKER_VENDOR
    version = package_version("lockerhub-simlocker")
    capabilities = frozenset({
        Capability.LIST_LOCKERS, Capability.PRECHECK, Capability.SOFT_RESERVE, Capability.HARD_BOOK,
        Capability.CANCEL, Capability.POLL_STATUS, Capability.ACCESS_CODES,
    })
    config_model = SimlockerConfig
    request_mappings = REQUEST_MAPPINGS  # outbound mappings per API call (for `lockerhub mapping explain`)

    def __init__(self, config: SimlockerConfig) -> None:
        self.config = config
        self._client: SimlockerClient | None = None

    def __repr__(self) -> str:
        return f"SimlockerConnector(base_url={self.config.base_url!s})"

    @property
    def client(self) -> SimlockerClient:
        if self._client is None:
            self._client = SimlockerClient(
                str(self.config.base_url), self.config.api_key.get_secret_value(),
                timeout_s=self.config.timeout_s, verify_tls=self.config.verify_tls,
                user_agent=f"lockerhub-simlocker/{self.version}",
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- check --------------------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        """Validate the config, then one authenticated call (``GET /v1/size-classes``); say what is wrong."""
        result = CheckResult()
        try:
            SimlockerConfig.model_validate(self.config.model_dump())
        except pydantic.ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            return result.add("config", False, f"invalid field(s): {fields}")
        result.add("config", True)
        where = _masked(str(self.config.base_url))
        try:
            count = len(self.client.size_classes())
        except AuthError:
            return result.add("auth", False, f"{where} answered but refused the API key (HTTP 401/403); "
                                             f"check api_key ({ENV_PREFIX}API_KEY)")
        except TransientError as exc:
            cause = exc.__cause__
            if isinstance(cause, requests.RequestException):
                return result.add("reachable", False, f"cannot reach {where} ({type(cause).__name__}); "
                                                      f"check base_url ({ENV_PREFIX}BASE_URL) and that it is up")
            return result.add("reachable", False, f"{where} is unavailable right now: {exc.message}")
        except LockerhubError as exc:
            return result.add("api", False, f"{where} does not look like the simlocker API: {exc.message}")
        except ValueError:  # JSON decoding
            return result.add("api", False, f"{where} answered with something other than JSON")
        result.add("reachable", True, where)
        return result.add("auth", True, f"authenticated; {count} size classes")

    # --- locker network -----------------------------------------------------------------------------------

    def list_lockers(self) -> Iterator[Locker]:
        for item in self.client.iter_lockers():
            yield Locker.model_validate(item)

    def size_classes(self) -> list[SizeClass]:
        return [SizeClass.model_validate(item) for item in self.client.size_classes()]

    def precheck(self, locker_id: str, parcel: Parcel) -> list[str]:
        result = request_mapping("precheck").map(parcel.model_dump(mode="json"))
        if not result.ok:  # the canonical model guarantees these fields; a failure here is a mapping bug
            raise result.errors[0]
        return list(self.client.precheck(locker_id, result.value))

    # --- reservations -------------------------------------------------------------------------------------

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Reservation:
        return _reservation(self.client.reserve(locker_id, size_class, idempotency_key=idempotency_key))

    def book(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        return _reservation(self.client.confirm(reservation_id, idempotency_key=idempotency_key))

    def cancel(self, reservation_id: str) -> None:
        self.client.cancel(reservation_id)

    def get_status(self, reservation_id: str) -> list[VendorEvent]:
        table = crosswalk()
        events = []
        for raw in self.client.events(reservation_id):
            mapped = table.map(raw["code"])
            event = ParcelEvent(
                status=mapped.status, reason=mapped.reason, occurred_at=datetime.fromisoformat(raw["occurred_at"]),
                source=self.id, raw_code=raw["code"], locker_id=raw.get("locker_id"), event_id=raw.get("event_id"),
            )
            events.append(VendorEvent(reservation_id=reservation_id, event=event))
        return events


def _reservation(body: dict[str, Any]) -> Reservation:
    code = body.get("access_code")
    access = None
    if code is not None:
        access = AccessCode(code=SecretStr(str(code)), valid_until=body.get("valid_until"))
    return Reservation(
        reservation_id=body["reservation_id"],
        locker_id=body["locker_id"],
        compartment_id=body.get("compartment_id"),
        size_class=body["size_class"],
        kind=ReservationKind(body["kind"]),
        expires_at=body.get("expires_at"),
        access_code=access,
    )


def _masked(url: str) -> str:
    """scheme://host:port only, like kombu's ``as_uri``: no credentials, path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"
