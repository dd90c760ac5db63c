"""HTTP calls to a BoxNow-style partner API, and nothing else (no mapping, no retries beyond one token refresh).

Auth is OAuth2 client credentials: ``POST /api/v1/auth-sessions`` answers ``{access_token, token_type,
expires_in}``. The token is cached and renewed ``refresh_margin_s`` before it expires (at most half its lifetime
early); a 401 on a call made with a cached token renews it once and sends the call once more, and a second 401 is
an :class:`AuthError`. The token endpoint refusing the client (400/401/403) is an :class:`AuthError` too.

Other errors follow ``lockerhub.plugins.http``: 429/5xx and transport failures are :class:`TransientError` (with
``retry_after``), 401/403 :class:`AuthError`, other 4xx :class:`BoxnowRejection` (a :class:`RejectedError` that
keeps BoxNow's error ``code`` such as ``P402``). Messages never carry secrets, tokens, access codes, query strings
or response bodies.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests

from lockerhub.errors import AuthError, RejectedError, VendorError
from lockerhub.plugins.http import VendorHttpClient, error_code, raise_for_status
from lockerhub.plugins.http import path_segment as _seg

VENDOR = "boxnow"
TOKEN_PATH = "/api/v1/auth-sessions"
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


class BoxnowRejection(RejectedError):
    """A 4xx refusal; ``code`` is BoxNow's error code (``P402``, ``P410``, ...) when the body names one."""

    def __init__(self, message: str, *, code: str | None = None, **kwargs: Any) -> None:
        self.code = code
        super().__init__(message, **kwargs)


class BoxnowClient(VendorHttpClient):
    """Thin wrapper over one ``requests.Session`` (created on first use) and one cached access token."""

    vendor = VENDOR

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, *, timeout_s: float = 10,
        verify_tls: bool = True, user_agent: str = "lockerhub-boxnow", refresh_margin_s: float = 60,
    ) -> None:
        super().__init__(base_url, timeout_s=timeout_s, verify_tls=verify_tls, user_agent=user_agent)
        self._client_id = client_id
        self._client_secret = client_secret
        self.refresh_margin_s = refresh_margin_s
        self._token: str | None = None
        self._renew_at = 0.0
        self._token_lock = threading.Lock()

    # --- API --------------------------------------------------------------------------------------------------

    def iter_destinations(self, *, page_size: int) -> Iterator[dict[str, Any]]:
        """Every destination, following ``pagination.next`` until a page has none."""
        params: dict[str, Any] = {"limit": page_size}
        seen: set[str] = set()
        while True:
            body = self._call("GET", "/api/v1/destinations", params=params).json()
            yield from body.get("data") or []
            token = (body.get("pagination") or {}).get("next")
            if not token:
                return
            if token in seen:
                raise VendorError("boxnow GET /api/v1/destinations repeated a page token; stopped paging")
            seen.add(token)
            params = {"limit": page_size, "pageToken": token}

    def create_delivery_request(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/delivery-requests", json=body).json()  # type: ignore[no-any-return]

    def parcels(self, **filters: str) -> list[dict[str, Any]]:
        """The parcels matching ``filters`` (``parcelId`` or ``orderNumber``), every page."""
        params: dict[str, Any] = {**filters, "limit": 100}
        found: list[dict[str, Any]] = []
        while True:
            body = self._call("GET", "/api/v1/parcels", params=params).json()
            found.extend(body.get("data") or [])
            token = (body.get("pagination") or {}).get("next")
            if not token:
                return found
            params = {**params, "pageToken": token}

    def confirm(self, parcel_id: str, *, idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/parcels/{_seg(parcel_id)}:confirm",  # type: ignore[no-any-return]
                          headers={"Idempotency-Key": idempotency_key}).json()

    def cancel(self, parcel_id: str) -> None:
        self._call("POST", f"/api/v1/parcels/{_seg(parcel_id)}:cancel")

    # --- the access token -------------------------------------------------------------------------------------

    def access_token(self, *, renew: bool = False) -> tuple[str, bool]:
        """The cached token, or a new one when there is none, it is due, or ``renew``; and whether it is new."""
        with self._token_lock:
            if self._token is not None and not renew and time.monotonic() < self._renew_at:
                return self._token, False
            self._token = None
            body = self._token_request()
            token, lifetime = body.get("access_token"), body.get("expires_in")
            if not isinstance(token, str) or not token or not isinstance(lifetime, int | float) or lifetime <= 0:
                raise VendorError(f"boxnow POST {TOKEN_PATH} answered without an access_token and a positive "
                                  "expires_in")
            self._token = token
            self._renew_at = time.monotonic() + lifetime - min(self.refresh_margin_s, lifetime / 2)
            return token, True

    def _token_request(self) -> dict[str, Any]:
        payload = {"grant_type": "client_credentials", "client_id": self._client_id,
                   "client_secret": self._client_secret}
        response = self._send("POST", TOKEN_PATH, json=payload, headers={})
        if response.status_code in (400, 401, 403):
            raise AuthError(f"boxnow POST {TOKEN_PATH} refused the client credentials "
                            f"(HTTP {response.status_code})",
                            hint="check client_id and client_secret (LOCKERHUB_BOXNOW_CLIENT_SECRET)")
        raise_for_status(VENDOR, response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise VendorError(f"boxnow POST {TOKEN_PATH} answered with something other than a JSON object")
        return body

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
              headers: dict[str, str] | None = None) -> requests.Response:
        token, new = self.access_token()
        response = self._send(method, path, params=params, json=json,
                              headers={**(headers or {}), "Authorization": f"Bearer {token}"})
        if response.status_code == 401 and not new:  # revoked or expired early: renew once, send once more
            token, _ = self.access_token(renew=True)
            response = self._send(method, path, params=params, json=json,
                                  headers={**(headers or {}), "Authorization": f"Bearer {token}"})
        try:
            return raise_for_status(VENDOR, response)
        except AuthError as exc:
            raise AuthError(exc.message, hint="the access token was refused; check the client's permissions "
                                              "with BoxNow support") from None
        except RejectedError as exc:
            code = error_code(response, "code", _ERROR_CODE)
            raise BoxnowRejection(f"{exc.message}: {code}" if code else exc.message, code=code) from None
