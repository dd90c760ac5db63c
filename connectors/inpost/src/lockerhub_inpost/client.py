"""HTTP calls to a ShipX-style API, and nothing else (no mapping, no retries).

Errors follow ``lockerhub.plugins.http``: 429/5xx and transport failures are :class:`TransientError` (with
``retry_after``), 401/403 :class:`AuthError`, other 4xx :class:`RejectedError`. A rejection names ShipX's
``error`` code and, for ``validation_failed``, the fields and codes of ``details`` (``custom_attributes.target_point:
does_not_exist``): snake_case names only, never values, the token, query strings or anything else from the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import requests

from lockerhub.errors import RejectedError
from lockerhub.plugins.http import VendorHttpClient, pages, raise_for_status
from lockerhub.plugins.http import path_segment as _seg

VENDOR = "inpost"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_TOKEN = re.compile(r"[a-z][a-z0-9_]{0,47}")
_MAX_PROBLEMS = 5


class ShipxClient(VendorHttpClient):
    """Thin wrapper over one ``requests.Session``, created on first use."""

    vendor = VENDOR

    def __init__(
        self, base_url: str, token: str, organization_id: int, *, timeout_s: float = 10,
        verify_tls: bool | str = True, user_agent: str = "lockerhub-inpost", per_page: int = 100,
    ) -> None:
        super().__init__(base_url, timeout_s=timeout_s, verify_tls=verify_tls, user_agent=user_agent)
        self._token = token
        self.organization_id = organization_id
        self.per_page = per_page

    def __repr__(self) -> str:
        return f"ShipxClient(base_url={self.base_url!r}, organization_id={self.organization_id})"

    # --- API --------------------------------------------------------------------------------------------------

    def organization(self) -> dict[str, Any]:
        return self._call("GET", f"/v1/organizations/{self.organization_id}").json()  # type: ignore[no-any-return]

    def iter_points(self) -> Iterator[dict[str, Any]]:
        """Every point, page by page, until ``count`` is reached or a page comes back empty."""
        return pages(lambda page: self._call("GET", "/v1/points",
                                             params={"page": page, "per_page": self.per_page}).json())

    def create_shipment(self, shipment: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/organizations/{self.organization_id}/shipments", json=shipment,
                          idempotency_key=idempotency_key).json()

    def shipment(self, shipment_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/shipments/{_seg(shipment_id)}").json()  # type: ignore[no-any-return]

    def buy(self, shipment_id: str, offer_id: int, *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/shipments/{_seg(shipment_id)}/buy", json={"offer_id": offer_id},
                          idempotency_key=idempotency_key).json()

    def cancel(self, shipment_id: str) -> None:
        self._call("DELETE", f"/v1/shipments/{_seg(shipment_id)}")

    def tracking(self, tracking_number: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/tracking/{_seg(tracking_number)}").json()  # type: ignore[no-any-return]

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        if idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        response = self._send(method, path, params=params, json=json, headers=headers)
        try:
            return raise_for_status(VENDOR, response)
        except RejectedError as exc:
            what = _explain(response)
            if what is None:
                raise
            raise RejectedError(f"{exc.message}: {what}", hint=exc.hint) from None


def _explain(response: requests.Response) -> str | None:
    """ShipX's ``error`` code plus the fields named in ``details``, e.g. ``validation_failed
    (custom_attributes.target_point: does_not_exist)``; None when the body is not a ShipX error."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    if not isinstance(code, str) or not _TOKEN.fullmatch(code):
        return None
    problems = list(_problems(body.get("details"), ""))[:_MAX_PROBLEMS]
    return f"{code} ({'; '.join(problems)})" if problems else code


def _problems(details: Any, path: str) -> Iterator[str]:
    """``field.path: code`` for every code in ShipX's nested ``details`` (names and codes only, never values)."""
    if isinstance(details, dict):
        for key, value in details.items():
            if isinstance(key, str) and _TOKEN.fullmatch(key):
                yield from _problems(value, f"{path}.{key}" if path else key)
    elif isinstance(details, list):
        for item in details:
            yield from _problems(item, path)
    elif isinstance(details, str) and path and _TOKEN.fullmatch(details):
        yield f"{path}: {details}"
