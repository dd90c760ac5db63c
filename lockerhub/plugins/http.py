"""HTTP plumbing for connector clients: one session factory and one status-to-error table.

Connectors declare what kind of error a response was; the runtime decides on retries. Messages name the
vendor, the method and the path, never the response body, query string or headers (they may hold PII or
secrets).

Timeouts: ``requests`` waits forever unless told otherwise, and one hung vendor call would stall a whole booking
run (and hold its circuit breaker's probe). Clients pass an explicit ``timeout`` on every call (a connector test
checks this); the session from :func:`session` adds :data:`DEFAULT_TIMEOUT` to any call that forgets one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from lockerhub.errors import AuthError, RejectedError, TransientError, VendorError

DEFAULT_TIMEOUT = (3.05, 15.0)  # connect, read (seconds)


class TimeoutSession(requests.Session):
    """A ``requests.Session`` whose requests always have a timeout: ``default_timeout`` unless one is given."""

    default_timeout: float | tuple[float, float] = DEFAULT_TIMEOUT

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if len(args) < 7 and kwargs.get("timeout") is None:  # args[6] would be a positional timeout
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def session(user_agent: str) -> requests.Session:
    s = TimeoutSession()
    s.headers["User-Agent"] = user_agent
    return s


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _what(vendor: str, response: requests.Response) -> str:
    request = response.request
    return f"{vendor} {request.method} {urlsplit(request.url or '').path} returned HTTP {response.status_code}"


def raise_for_status(vendor: str, response: requests.Response) -> requests.Response:
    """429/5xx -> TransientError (with Retry-After), 401/403 -> AuthError, other 4xx -> RejectedError."""
    code = response.status_code
    if code < 400:
        return response
    what = _what(vendor, response)
    if code == 429 or code >= 500:
        raise TransientError(what, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    if code in (401, 403):
        raise AuthError(what, hint="check the API key or token for this connector")
    if 400 <= code < 500:
        raise RejectedError(what)
    raise VendorError(what)  # pragma: no cover - 1xx/3xx never reach here with requests


def transport_error(vendor: str, exc: requests.RequestException) -> TransientError:
    """Connection errors and timeouts are transient; the message names the kind of failure only."""
    return TransientError(f"{vendor} request failed: {type(exc).__name__}")
