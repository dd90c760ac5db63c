"""Calling a TMS's SOAP service with zeep: WS-Security, timeouts, retries, and faults as lockerhub errors.

Capabilities:
    :class:`TmsClient` loads the TMS's WSDL once (hardened: :mod:`lockerhub_soap.transport`), picks the configured
    service/port (and endpoint address), adds a WS-Security UsernameToken when a username is set, and ``call``s an
    operation. It returns zeep's result and the response's body payload as an lxml element (positions kept, for
    mapping and lineage).

    Errors, each one :class:`~lockerhub.errors.LockerhubError`:
    - a SOAP 1.1 or 1.2 fault is a :class:`TmsFault` (``code``, ``fault_string``, ``detail``: the detail's leaf
      elements as ``name=value`` pairs), never retried: the TMS answered;
    - timeouts, connection errors and HTTP 429/502/503/504 are :class:`~lockerhub.errors.TransientError`, retried
      ``retries`` times with back-off (Retry-After honoured), then raised;
    - a response with a DTD or entities, or that is not XML, is a :class:`~lockerhub.errors.ParseError`; one that
      does not fit the WSDL a ParseError naming what zeep expected; arguments that do not fit it a MappingError.

Limits/Pitfalls:
    - rpc/encoded services cannot be called (zeep does not support SOAP encoding); ``lockerhub soap inspect``
      says so for a WSDL before anyone writes a mapping for it.
    - MTOM/attachments and WS-Security signatures/encryption are not supported; UsernameToken only.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

import requests
import zeep
import zeep.exceptions as zx
from lxml import etree
from zeep.plugins import Plugin
from zeep.wsse.username import UsernameToken

from lockerhub.errors import ConfigError, Location, MappingError, ParseError, TransientError, VendorError
from lockerhub.runtime.retry import RetryPolicy
from lockerhub_soap.config import SoapConfig
from lockerhub_soap.safexml import local
from lockerhub_soap.transport import HubTransport, NetworkRefused, host_of, zeep_settings

TRANSIENT_HTTP = frozenset({408, 429, 502, 503, 504})


class TmsFault(VendorError):
    """The TMS answered a SOAP fault."""

    def __init__(self, operation: str, code: str, fault_string: str, detail: str) -> None:
        self.operation, self.code, self.fault_string, self.detail = operation, code, fault_string, detail
        super().__init__(f"TMS answered {operation} with a SOAP fault", found=f"{code}: {fault_string}"
                         + (f" [{detail}]" if detail else ""))


def fault_detail(detail: Any, limit: int = 500) -> str:
    """A fault's ``detail`` element as ``name=value; ...`` of its leaf elements (bounded)."""
    if detail is None or not isinstance(detail, etree._Element):
        return ""
    pairs = [f"{local(el.tag)}={(el.text or '').strip()}" for el in detail.iter()
             if isinstance(el.tag, str) and len(el) == 0 and el is not detail and (el.text or "").strip()]
    text = "; ".join(pairs) or (detail.text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Capture(Plugin):
    """Keeps the last response envelope of this thread (zeep parsed it with the hardened settings)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def ingress(self, envelope, http_headers, operation):  # type: ignore[no-untyped-def]
        self.local.envelope = envelope
        return envelope, http_headers


def body_payload(envelope: etree._Element | None) -> etree._Element | None:
    """The first element inside the envelope's Body (SOAP 1.1 or 1.2)."""
    if envelope is None:
        return None
    for child in envelope:
        if local(child.tag) == "Body":
            return next((el for el in child if isinstance(el.tag, str)), None)
    return None


class TmsClient:
    """One TMS's SOAP service as configured (see :mod:`lockerhub_soap.config`)."""

    def __init__(self, config: SoapConfig, *, retry: RetryPolicy | None = None) -> None:
        self.config = config
        self.retry = retry or RetryPolicy(attempts=config.retries)
        self._capture = _Capture()

    @cached_property
    def client(self) -> zeep.Client:
        config = self.config
        location = config.wsdl_location()
        if location is None:
            raise ConfigError("the TMS's WSDL is not configured", expected="wsdl (a file) or wsdl_url",
                              hint="set it in the partner's soap config")
        hosts = {h for h in (host_of(location), host_of(config.address or "")) if h}
        transport = HubTransport(allowed_hosts=hosts, timeout=config.timeout_s, operation_timeout=config.timeout_s,
                                 verify=config.tls_verify())
        password = config.secret("password", "password_env")
        if config.username and not password:
            raise ConfigError("WS-Security username set without a password",
                              expected="the password in LOCKERHUB_SOAP_PASSWORD or the variable password_env names",
                              found="no password")
        wsse = UsernameToken(config.username, password, use_digest=config.password_digest) if config.username \
            else None
        try:
            return zeep.Client(location, transport=transport, settings=zeep_settings(), wsse=wsse,
                               service_name=config.service, port_name=config.port, plugins=[self._capture])
        except NetworkRefused:
            raise
        except (OSError, requests.RequestException) as exc:
            raise ConfigError("the TMS's WSDL cannot be loaded", location=Location(file=location),
                              expected="a readable WSDL (and its imports)", found=type(exc).__name__) from None
        except (zx.DTDForbidden, zx.EntitiesForbidden):
            raise ParseError("WSDL with a DTD refused", location=Location(file=location),
                             expected="a WSDL without DOCTYPE or entities", found="a DTD") from None
        except (zx.Error, etree.LxmlError, ValueError, KeyError) as exc:
            raise ConfigError("the TMS's WSDL cannot be used", location=Location(file=location),
                              expected="a WSDL zeep can read", found=f"{type(exc).__name__}: {exc}"[:300]) from None

    @cached_property
    def service(self) -> Any:
        client = self.client
        if self.config.address is None:
            return client.service
        binding = client.service._binding.name
        return client.create_service(binding, self.config.address)

    def operations(self) -> list[str]:
        return sorted(self.client.service._binding._operations)

    def call(self, operation: str, params: dict[str, Any]) -> tuple[Any, etree._Element | None]:
        """Call ``operation`` with ``params`` (retrying transient failures); returns (zeep's result, the response's
        body payload element)."""
        if operation not in self.client.service._binding._operations:
            raise ConfigError(f"operation {operation!r} not in the TMS's WSDL",
                              expected=" or ".join(self.operations()), found=operation)
        return self.retry.call(lambda: self._once(operation, params))

    def _once(self, operation: str, params: dict[str, Any]) -> tuple[Any, etree._Element | None]:
        self._capture.local.envelope = None
        try:
            result = self.service[operation](**params)
        except zx.Fault as fault:
            code = fault.code if isinstance(fault.code, str) else str(fault.code or "")
            raise TmsFault(operation, code, str(fault.message or "").strip(), fault_detail(fault.detail)) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(f"TMS {operation}: {type(exc).__name__}") from None
        except zx.TransportError as exc:
            if exc.status_code in TRANSIENT_HTTP or exc.status_code >= 500:
                raise TransientError(f"TMS {operation}: HTTP {exc.status_code}") from None
            raise VendorError(f"TMS {operation}: HTTP {exc.status_code}", expected="a SOAP response",
                              found=f"HTTP {exc.status_code}") from None
        except (zx.DTDForbidden, zx.EntitiesForbidden):
            raise ParseError(f"TMS {operation}: response with a DTD refused",
                             expected="a SOAP envelope without DOCTYPE or entities", found="a DTD") from None
        except zx.XMLSyntaxError:
            raise ParseError(f"TMS {operation}: response is not XML", expected="a SOAP envelope",
                             found="text that is not XML") from None
        except zx.XMLParseError as exc:
            raise ParseError(f"TMS {operation}: response does not fit the WSDL", expected="the WSDL's output",
                             found=str(exc)[:300]) from None
        except (zx.ValidationError, TypeError) as exc:
            raise MappingError(f"arguments of {operation} do not fit the WSDL", expected="the WSDL's input",
                               found=str(exc)[:300]) from None
        return result, body_payload(getattr(self._capture.local, "envelope", None))
