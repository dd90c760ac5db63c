"""HTTP calls to the simulator's reference API, and nothing else (no mapping, no retries).

Errors follow ``lockerhub.plugins.http``: 429/5xx and transport failures are :class:`TransientError` (with
``retry_after``), 401/403 :class:`AuthError`, other 4xx :class:`RejectedError`. A rejection names the API's
error code (``no_free_compartment``, ``reservation_expired``, ...) when the body has one. Messages never carry
the API key, access codes, query strings or response bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import requests

from lockerhub.errors import RejectedError
from lockerhub.plugins.http import VendorHttpClient, error_code, pages, raise_for_status
from lockerhub.plugins.http import path_segment as _seg

VENDOR = "simlocker"
_ERROR_CODE = re.compile(r"[a-z][a-z_]{0,47}")


class SimlockerClient(VendorHttpClient):
    """Thin wrapper over one ``requests.Session``, created on first use."""

    vendor = VENDOR

    def __init__(
        self, base_url: str, api_key: str, *, timeout_s: float = 10, verify_tls: bool | str = True,
        user_agent: str = "lockerhub-simlocker", per_page: int = 50,
    ) -> None:
        super().__init__(base_url, timeout_s=timeout_s, verify_tls=verify_tls, user_agent=user_agent)
        self._api_key = api_key
        self.per_page = per_page

    # --- API --------------------------------------------------------------------------------------------------

    def iter_lockers(self) -> Iterator[dict[str, Any]]:
        """Every locker, page by page, until ``count`` is reached or a page comes back empty."""
        return pages(lambda page: self._call("GET", "/v1/lockers",
                                             params={"page": page, "per_page": self.per_page}).json())

    def size_classes(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/size-classes").json()  # type: ignore[no-any-return]

    def precheck(self, locker_id: str, parcel: dict[str, Any]) -> list[str]:
        return self._call("POST", f"/v1/lockers/{_seg(locker_id)}/precheck", json=parcel).json()["size_classes"]

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", "/v1/reservations", json={"locker_id": locker_id, "size_class": size_class},
                          idempotency_key=idempotency_key).json()

    def confirm(self, reservation_id: str, *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/reservations/{_seg(reservation_id)}/confirm",
                          idempotency_key=idempotency_key).json()

    def cancel(self, reservation_id: str) -> None:
        self._call("DELETE", f"/v1/reservations/{_seg(reservation_id)}")

    def events(self, reservation_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/v1/reservations/{_seg(reservation_id)}/events").json()["items"]

    def reservations(self, cursor: str | None = None, *, limit: int = 500) -> dict[str, Any]:
        """One page of every reservation: ``{"items", "next_cursor", "as_of"}``."""
        params: dict[str, Any] = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        return self._call("GET", "/v1/reservations", params=params).json()  # type: ignore[no-any-return]

    def iter_telemetry(self, since: str | None, *, per_page: int = 500) -> Iterator[dict[str, Any]]:
        """Telemetry readings from ``since`` (ISO 8601) up to the server's now, page by page; every page after
        the first asks with the ``until`` the first one answered, so the pages describe one snapshot."""
        params: dict[str, Any] = {"per_page": per_page} if since is None else {"per_page": per_page, "since": since}

        def fetch(page: int) -> dict[str, Any]:
            body: dict[str, Any] = self._call("GET", "/v1/telemetry", params={**params, "page": page}).json()
            if "until" in body:  # the first page's snapshot, for every later page
                params.setdefault("until", body["until"])
            return body

        return pages(fetch)

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        headers = {"X-API-Key": self._api_key}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        response = self._send(method, path, params=params, json=json, headers=headers)
        try:
            return raise_for_status(VENDOR, response)
        except RejectedError as exc:
            code = error_code(response, "error", _ERROR_CODE)
            if code is None:
                raise
            raise RejectedError(f"{exc.message}: {code}", hint=exc.hint) from None
