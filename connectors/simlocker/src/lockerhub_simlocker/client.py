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
from lockerhub.plugins.http import raise_for_status, session, transport_error

VENDOR = "simlocker"
_ERROR_CODE = re.compile(r"[a-z][a-z_]{0,47}")


class SimlockerClient:
    """Thin wrapper over one ``requests.Session``, created on first use."""

    def __init__(
        self, base_url: str, api_key: str, *, timeout_s: float = 10, verify_tls: bool | str = True,
        user_agent: str = "lockerhub-simlocker", per_page: int = 50,
    ) -> None:
        """``verify_tls``: as requests' ``verify``: True (the system's CAs), a CA bundle path, or False."""
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = (min(3.05, timeout_s), timeout_s)
        self.verify_tls = verify_tls
        self.user_agent = user_agent
        self.per_page = per_page
        self._session: requests.Session | None = None

    def __repr__(self) -> str:
        return f"SimlockerClient(base_url={self.base_url!r})"

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = session(self.user_agent)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # --- API --------------------------------------------------------------------------------------------------

    def iter_lockers(self) -> Iterator[dict[str, Any]]:
        """Every locker, page by page, until ``count`` is reached or a page comes back empty."""
        page, seen = 1, 0
        while True:
            body = self._call("GET", "/v1/lockers", params={"page": page, "per_page": self.per_page}).json()
            items = body.get("items") or []
            yield from items
            seen += len(items)
            if not items or seen >= int(body.get("count", 0)):
                return
            page += 1

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
        params: dict[str, Any] = {"page": 1, "per_page": per_page}
        if since is not None:
            params["since"] = since
        seen = 0
        while True:
            body = self._call("GET", "/v1/telemetry", params=params).json()
            items = body.get("items") or []
            yield from items
            seen += len(items)
            if not items or seen >= int(body.get("count", 0)):
                return
            params = {**params, "page": params["page"] + 1, "until": body["until"]}

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        headers = {"X-API-Key": self._api_key, "Accept": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self.session.request(method, self.base_url + path, params=params, json=json, headers=headers,
                                            timeout=self.timeout, verify=self.verify_tls)
        except requests.RequestException as exc:
            raise transport_error(VENDOR, exc) from exc
        try:
            return raise_for_status(VENDOR, response)
        except RejectedError as exc:
            code = _error_code(response)
            if code is None:
                raise
            raise RejectedError(f"{exc.message}: {code}", hint=exc.hint) from None


def _seg(value: str) -> str:
    """One path segment, percent-encoded (ids come from data, not from us)."""
    return requests.utils.quote(value, safe="")


def _error_code(response: requests.Response) -> str | None:
    """The API's snake_case ``error`` code, if the body has one; never anything else from the body."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None
