"""How zeep reaches WSDLs, schemas and services: hardened parse settings and a transport that says where it may go.

Capabilities:
    ``zeep_settings()`` is zeep strict mode with DTDs and entities refused and libxml2's huge-tree limits kept,
    for every WSDL, XSD and SOAP response zeep parses. :class:`HubTransport` loads local files (relative imports of a
    WSDL resolve beside it) and fetches ``http(s)`` only from the hosts it is allowed (none, the WSDL's own host, or
    any); everything else is a :class:`NetworkRefused` naming the URL. It never logs message bodies (they carry
    recipient PII and WS-Security passwords), only their size.

Limits/Pitfalls:
    - zeep caches nothing here: each client loads its WSDL once, at construction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from zeep import Settings
from zeep.transports import Transport

from lockerhub.errors import ConfigError

logger = logging.getLogger(__name__)


class NetworkRefused(ConfigError):
    """A WSDL or schema import would be fetched from a host the transport is not allowed to reach."""


def zeep_settings() -> Settings:
    return Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False,
                    xml_huge_tree=False)


def host_of(url: str) -> str | None:
    parts = urlsplit(url)
    return parts.netloc.lower() if parts.scheme in ("http", "https") else None


class HubTransport(Transport):
    """zeep's requests transport with an allow-list of hosts for loads and no body logging.

    ``allowed_hosts``: None = any host; an empty collection = local files only."""

    def __init__(self, *, allowed_hosts: Iterable[str] | None = (), timeout: float = 30,
                 operation_timeout: float | None = 30, verify: bool | str = True) -> None:
        super().__init__(timeout=timeout, operation_timeout=operation_timeout)
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}
        self.session.verify = verify

    def _check(self, url: str) -> None:
        host = host_of(url)
        if host is None or self.allowed_hosts is None or host in self.allowed_hosts:
            return
        raise NetworkRefused("fetching a WSDL or schema over the network refused",
                             expected="local files (or hosts allowed: " + (", ".join(sorted(self.allowed_hosts))
                                                                           or "none") + ")",
                             found=url, hint="download the WSDL and its imports beside it, or allow the network")

    def load(self, url: str) -> bytes:
        self._check(url)
        return super().load(url)

    def post(self, address, message, headers):  # type: ignore[no-untyped-def]
        logger.debug("SOAP POST %s (%d bytes)", address, len(message))
        response = self.session.post(address, data=message, headers=headers, timeout=self.operation_timeout)
        logger.debug("SOAP response from %s: HTTP %d (%d bytes)", address, response.status_code,
                     len(response.content))
        return response
