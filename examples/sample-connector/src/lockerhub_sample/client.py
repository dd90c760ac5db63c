"""HTTP calls to the Sample Lockers API, and nothing else: no status mapping, no retries.

Errors are declared, not handled: :func:`lockerhub.plugins.http.raise_for_status` turns 429/5xx into
``TransientError`` (with ``Retry-After`` as ``retry_after``), 401/403 into ``AuthError`` and other 4xx into
``RejectedError``; transport failures are ``TransientError`` too. The runtime decides on retries. Messages name
the method and path, never the token, a body or an access code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from lockerhub.plugins.http import raise_for_status, session, transport_error

VENDOR = "sample"
PAGE_SIZE = 20  # the API's largest page of points


class SampleClient:
    """One ``requests.Session``, created on first use (no I/O in the constructor)."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float, user_agent: str) -> None:
        self.base_url = base_url
        self._token = token
        self.timeout = (min(3.05, timeout_s), timeout_s)
        self.user_agent = user_agent
        self._session: requests.Session | None = None

    def __repr__(self) -> str:
        return f"SampleClient(base_url={self.base_url!r})"

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def points(self) -> Iterator[dict[str, Any]]:
        """Every pickup point, following ``next_cursor`` until the last page."""
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        while True:
            body = self._call("GET", "/v2/points", params=params).json()
            yield from body["data"]
            if not body.get("next_cursor"):
                return
            params = {"limit": PAGE_SIZE, "after": body["next_cursor"]}

    def box_sizes(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v2/box-sizes").json()["data"]  # type: ignore[no-any-return]

    def hold(self, point_id: str, box_size: str, *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", "/v2/holds", json={"point_id": point_id, "box_size": box_size},
                          idempotency_key=idempotency_key).json()

    def confirm(self, hold_id: str, *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", f"/v2/holds/{_seg(hold_id)}/confirm", idempotency_key=idempotency_key).json()

    def release(self, hold_id: str) -> None:
        self._call("DELETE", f"/v2/holds/{_seg(hold_id)}")

    def events(self, hold_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/v2/holds/{_seg(hold_id)}/events").json()["data"]  # type: ignore[no-any-return]

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
              idempotency_key: str | None = None) -> requests.Response:
        if self._session is None:
            self._session = session(self.user_agent)
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self._session.request(method, self.base_url + path, params=params, json=json,
                                             headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise transport_error(VENDOR, exc) from exc
        return raise_for_status(VENDOR, response)


def _seg(value: str) -> str:
    """One path segment, percent-encoded (ids come from the vendor's data)."""
    return requests.utils.quote(value, safe="")
