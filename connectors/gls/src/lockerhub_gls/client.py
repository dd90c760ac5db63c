"""HTTP calls to the GLS/NXT carrier-connector API, and nothing else (no mapping, no retries).

Errors follow ``lockerhub.plugins.http``: 429/5xx and transport failures are :class:`TransientError` (with
``retry_after``), 401/403 :class:`AuthError`, other 4xx :class:`RejectedError`. A rejection names the API's
``errorCode`` (``BOOKING_REJECTED_INVALID_LOCKER``, ``BOOKING_EXPIRED``, ...) when the body has one, and the locker
a call was about. Messages never carry the API key, access codes, query strings or response bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import requests

from lockerhub.errors import RejectedError
from lockerhub.plugins.http import VendorHttpClient, error_code, raise_for_status
from lockerhub.plugins.http import path_segment as _seg

VENDOR = "gls"
PUBLISH = "/parcels/data/by-tenant-locker-id"
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class GlsClient(VendorHttpClient):
    """Thin wrapper over one ``requests.Session``, created on first use."""

    vendor = VENDOR

    def __init__(
        self, base_url: str, api_key: str, *, timeout_s: float = 10, verify_tls: bool | str = True,
        user_agent: str = "lockerhub-gls", page_size: int = 50,
    ) -> None:
        super().__init__(base_url, timeout_s=timeout_s, verify_tls=verify_tls, user_agent=user_agent)
        self._api_key = api_key
        self.page_size = page_size

    # --- API --------------------------------------------------------------------------------------------------

    def lockers_page(self, page: int, size: int) -> list[dict[str, Any]]:
        """One page of ``GET /lockers`` (0-based)."""
        return self._call("GET", "/lockers", params={"page": page, "size": size}).json()  # type: ignore[no-any-return]

    def iter_lockers(self) -> Iterator[dict[str, Any]]:
        """Every locker, page by page, until a page comes back short."""
        page = 0
        while True:
            items = self.lockers_page(page, self.page_size)
            yield from items
            if len(items) < self.page_size:
                return
            page += 1

    def publish(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /parcels/data/by-tenant-locker-id`` (PRE_CHECK or BOOKING) for ``body["carrierLockerId"]``."""
        response = self._call("POST", PUBLISH, json=body, locker_id=body["carrierLockerId"])
        return response.json()  # type: ignore[no-any-return]

    def confirm(self, parcel_id: str, *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", f"/parcels/{_seg(parcel_id)}/confirm",  # type: ignore[no-any-return]
                          idempotency_key=idempotency_key).json()

    def cancel(self, parcel_id: str) -> dict[str, Any]:
        return self._call("PATCH", f"/parcels/{_seg(parcel_id)}").json()  # type: ignore[no-any-return]

    def parcel(self, parcel_id: str) -> dict[str, Any]:
        """``GET /parcels?ids=<parcel_id>``: the one parcel (a 404 when the platform does not know it)."""
        for item in self._call("GET", "/parcels", params={"ids": parcel_id}).json():
            if item.get("carrierParcelId") == parcel_id:
                return item  # type: ignore[no-any-return]
        raise RejectedError(f"{VENDOR} GET /parcels did not return the parcel asked for", found=repr(parcel_id))

    def parcels_page(self, cursor: str | None = None, *, limit: int = 500) -> dict[str, Any]:
        """One page of every parcel: ``{"items", "nextCursor", "asOf"}``."""
        params: dict[str, Any] = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        return self._call("GET", "/parcels/all", params=params).json()  # type: ignore[no-any-return]

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
        idempotency_key: str | None = None, locker_id: str | None = None,
    ) -> requests.Response:
        headers = {"X-API-Key": self._api_key}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        response = self._send(method, path, params=params, json=json, headers=headers)
        try:
            return raise_for_status(VENDOR, response)
        except RejectedError as exc:
            code = error_code(response, "errorCode", _ERROR_CODE)
            about = f" for locker {locker_id!r}" if locker_id is not None else ""
            if code is None and not about:
                raise
            raise RejectedError(f"{exc.message}{': ' + code if code else ''}{about}", hint=exc.hint) from None
