"""HTTP plumbing for connector clients: one session factory and one status-to-error table.

Connectors declare what kind of error a response was; the runtime decides on retries. Messages name the
vendor, the method and the path, never the response body, query string or headers (they may hold PII or
secrets).

Timeouts: ``requests`` waits forever unless told otherwise, and one hung vendor call would stall a whole booking
run (and hold its circuit breaker's probe). Clients pass an explicit ``timeout`` on every call (a connector test
checks this); the session from :func:`session` adds :data:`DEFAULT_TIMEOUT` to any call that forgets one.

Vendor clients subclass :class:`VendorHttpClient` (session, timeouts, TLS, sending); connectors answer ``check()``
with :func:`check_http`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pydantic
import requests

from lockerhub.errors import AuthError, LockerhubError, RejectedError, TransientError, VendorError
from lockerhub.plugins.protocols import CheckResult

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


def masked_url(url: str) -> str:
    """scheme://host:port only, like kombu's ``as_uri``: no credentials, path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def error_code(response: requests.Response, field: str, pattern: re.Pattern[str]) -> str | None:
    """The vendor's error code in the JSON body's ``field``, if it has one of the expected shape; never anything
    else from the body (it may echo request values)."""
    try:
        code = response.json().get(field)
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) and pattern.fullmatch(code) else None


def pages(fetch: Callable[[int], dict[str, Any]]) -> Iterator[Any]:
    """The items of a page-numbered listing (``{"items": [...], "count": N}`` per page, pages from 1), page by
    page until ``count`` is reached or a page comes back empty."""
    page, seen = 1, 0
    while True:
        body = fetch(page)
        items = body.get("items") or []
        yield from items
        seen += len(items)
        if not items or seen >= int(body.get("count", 0)):
            return
        page += 1


def path_segment(value: str) -> str:
    """One path segment, percent-encoded (ids come from data, not from us)."""
    return requests.utils.quote(value, safe="")


class VendorHttpClient:
    """What every vendor's HTTP client shares: the base URL, timeouts, TLS verification, the user agent and one
    ``requests.Session`` (from :func:`session`), created on first use. Subclasses set ``vendor`` (the name errors
    carry) and add credentials and the vendor's calls."""

    vendor: ClassVar[str]

    def __init__(self, base_url: str, *, timeout_s: float, verify_tls: bool | str, user_agent: str) -> None:
        """``verify_tls``: as requests' ``verify``: True (the system's CAs), a CA bundle path, or False."""
        self.base_url = base_url.rstrip("/")
        self.timeout = (min(3.05, timeout_s), timeout_s)  # connect, read
        self.verify_tls = verify_tls
        self.user_agent = user_agent
        self._session: requests.Session | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = session(self.user_agent)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _send(self, method: str, path: str, *, headers: dict[str, str], params: dict[str, Any] | None = None,
              json: Any = None) -> requests.Response:
        """One request (``Accept: application/json``, the timeout, TLS as configured), its status not yet read;
        connection errors and timeouts are :func:`transport_error`."""
        try:
            return self.session.request(method, self.base_url + path, params=params, json=json,
                                        headers={"Accept": "application/json", **headers}, timeout=self.timeout,
                                        verify=self.verify_tls)
        except requests.RequestException as exc:
            raise transport_error(self.vendor, exc) from exc


def check_http(
    config: pydantic.BaseModel, base_url: str, probe: Callable[[], str], *, env_prefix: str, refused: str, api: str,
) -> CheckResult:
    """A connector's ``check()``: the config validated again, then ``probe`` (one cheap authenticated call that
    returns what to say when it worked), its errors said as what to fix. ``refused`` follows the masked base URL
    when the vendor refuses the credentials (AuthError); ``api`` names what the base URL should serve."""
    result = CheckResult()
    try:
        type(config).model_validate(config.model_dump())
    except pydantic.ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "config" for e in exc.errors())  # () = the whole
        return result.add("config", False, f"invalid field(s): {fields}")
    result.add("config", True)
    where = masked_url(base_url)
    try:
        authenticated = probe()
    except AuthError:
        return result.add("auth", False, f"{where} {refused}")
    except TransientError as exc:
        if isinstance(exc.__cause__, requests.RequestException):
            return result.add("reachable", False, f"cannot reach {where} ({type(exc.__cause__).__name__}); "
                                                  f"check base_url ({env_prefix}BASE_URL) and that it is up")
        return result.add("reachable", False, f"{where} is unavailable right now: {exc.message}")
    except LockerhubError as exc:
        return result.add("api", False, f"{where} does not look like {api}: {exc.message}")
    except ValueError:  # JSON decoding
        return result.add("api", False, f"{where} answered with something other than JSON")
    result.add("reachable", True, where)
    return result.add("auth", True, authenticated)
