"""The inbound SOAP service: a legacy TMS pushes createShipment, cancelShipment and getParcelStatus to the hub.

Capabilities:
    The service is defined by ``wsdl/lockerhub-tms.wsdl`` (document/literal wrapped, SOAP 1.1), served with the
    endpoint's own address by ``describe``. ``handle`` answers one POSTed envelope:

    1. read with :mod:`lockerhub_soap.safexml` (no DTD, no entities, nothing fetched);
    2. authenticate the WS-Security UsernameToken of the header (PasswordText, or PasswordDigest with a fresh
       ``Created`` and a nonce not seen before) against the partner's inbound credentials;
    3. validate the body's payload against the WSDL's schema;
    4. dispatch on the payload's element to the hub's :class:`~lockerhub.plugins.protocols.ShipmentDesk`.

    Answers are valid against the WSDL. A refusal is a SOAP 1.1 fault (HTTP 500) whose ``detail`` holds a
    ``lockerhubFault``: ``code`` (BAD_REQUEST, MAPPING, REFUSED, UNKNOWN_SHIPMENT, NOT_CANCELLABLE, UNAUTHORISED,
    UNAVAILABLE), the business ``reason`` s, the ``quarantineId`` of the kept request and one ``error`` per problem
    (message, line, path, expected, found). Authenticated createShipment requests that are refused are kept in the
    quarantine (stage ``soap``) without their security header; unauthenticated ones are not kept (anybody could
    fill the quarantine).

Limits/Pitfalls:
    - Nonces of PasswordDigest tokens are remembered in this process only (a bounded cache for the tolerance
      window): with several ingress processes, a digest replayed to another process within the window is
      accepted. Use PasswordText over TLS, or one ingress process, where that matters.
    - SOAP 1.2 envelopes are answered with a VersionMismatch fault: the service has a SOAP 1.1 binding only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from lockerhub.errors import BusinessRejection, Location, LockerhubError, ParseError, TransientError
from lockerhub.mapping import CompiledMapping
from lockerhub.plugins.lineage import MappedLineage
from lockerhub.plugins.protocols import ParcelView, PushReply, PushRequest, ShipmentDesk, SourceRecord, Submission
from lockerhub_soap import safexml
from lockerhub_soap.safexml import local, xpath_of
from lockerhub_soap.xmlformat import XmlItem, line_of

WSDL = Path(__file__).with_name("wsdl") / "lockerhub-tms.wsdl"
TNS = "urn:lockerhub:soap:tms:1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = "#PasswordDigest"
CONTENT_TYPE = "text/xml; charset=utf-8"
OPERATIONS = ("createShipment", "cancelShipment", "getParcelStatus")
STAGE = "soap"


@cache
def _wsdl_tree() -> etree._Element:
    return safexml.parse(WSDL.read_bytes(), file=str(WSDL))


@cache
def schema() -> etree.XMLSchema:
    """The service's XML Schema (the WSDL's ``types``)."""
    return etree.XMLSchema(_wsdl_tree().find(f"{{{WSDL_NS}}}types/{{{XSD}}}schema"))


def describe(url: str) -> bytes:
    """The WSDL with ``url`` as the port's address."""
    tree = etree.fromstring(etree.tostring(_wsdl_tree()))
    for address in tree.iter(f"{{{WSDL_SOAP}}}address"):
        address.set("location", url)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


class Fault(Exception):
    """A refusal to answer as a SOAP fault."""

    def __init__(self, code: str, message: str, *, client: bool = True, reasons: Sequence[str] = (),
                 errors: Sequence[LockerhubError] = (), quarantine_id: str | None = None,
                 soap_code: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.client = code, message, client
        self.reasons, self.errors, self.quarantine_id, self.soap_code = reasons, errors, quarantine_id, soap_code


def _t(name: str) -> str:
    return f"{{{TNS}}}{name}"


def _sub(parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
    el = etree.SubElement(parent, _t(name))
    if text is not None:
        el.text = text.isoformat() if isinstance(text, datetime) else str(text)
    return el


def _envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11, "tns": TNS})
    etree.SubElement(env, f"{{{SOAP11}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def delivery_of(payload: etree._Element) -> str:
    """The delivery id of a pushed request: its canonical XML's hash (a re-sent request has the same)."""
    return "soap:" + hashlib.sha256(etree.tostring(payload, method="c14n")).hexdigest()


def body_of(envelope: etree._Element) -> etree._Element | None:
    """The first element of a SOAP 1.1 envelope's Body."""
    body = envelope.find(f"{{{SOAP11}}}Body")
    return next((el for el in body if isinstance(el.tag, str)), None) if body is not None else None


def fault_reply(fault: Fault) -> PushReply:
    body = etree.Element(f"{{{SOAP11}}}Fault", nsmap={"soap": SOAP11, "tns": TNS})
    code = fault.soap_code or ("Client" if fault.client else "Server")
    etree.SubElement(body, "faultcode").text = f"soap:{code}"
    etree.SubElement(body, "faultstring").text = fault.message
    detail = etree.Element(_t("lockerhubFault"))
    _sub(detail, "code", fault.code)
    for reason in fault.reasons:
        _sub(detail, "reason", reason)
    if fault.quarantine_id:
        _sub(detail, "quarantineId", fault.quarantine_id)
    for error in fault.errors[:50]:
        el = _sub(detail, "error")
        _sub(el, "message", error.message)
        where = error.location
        if where is not None and where.line is not None:
            _sub(el, "line", where.line)
        if where is not None and where.path:
            _sub(el, "path", where.path)
        if error.expected is not None:
            _sub(el, "expected", error.expected)
        if error.found is not None:
            _sub(el, "found", error.found)
    etree.SubElement(body, "detail").append(detail)
    return PushReply(500, _envelope(body), CONTENT_TYPE)


def _shipment_state(parent: etree._Element, reference: str, parcels: Sequence[ParcelView]) -> None:
    shipment = _sub(parent, "shipment")
    _sub(shipment, "reference", reference)
    for view in parcels:
        el = _sub(shipment, "parcel")
        _sub(el, "parcelId", view.parcel_id)
        _sub(el, "status", view.status)
        if view.reason:
            _sub(el, "reason", view.reason)
        if view.locker_id:
            _sub(el, "lockerId", view.locker_id)
        _sub(el, "updatedAt", view.updated_at)


class Authenticator:
    """WS-Security UsernameToken check against one partner's inbound credentials."""

    def __init__(self, username: str | None, password: str | None, *, tolerance_s: float,
                 cache_size: int = 10_000) -> None:
        self.username, self.password, self.tolerance = username, password, timedelta(seconds=tolerance_s)
        self.nonces: OrderedDict[str, datetime] = OrderedDict()
        self.cache_size = cache_size

    def check(self, header: etree._Element | None, now: datetime) -> None:
        if not self.username or not self.password:
            raise Fault("UNAUTHORISED", "pushes are not configured for this partner (no inbound credentials)")
        token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken") if header is not None else None
        if token is None:
            raise Fault("UNAUTHORISED", "a WS-Security UsernameToken is required in the SOAP header")
        user = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password_el = token.find(f"{{{WSSE}}}Password")
        given = (password_el.text or "").strip() if password_el is not None else ""
        if password_el is not None and (password_el.get("Type") or "").endswith(DIGEST):
            expected = self._digest(token, now)
        else:
            expected = self.password
        ok_user = hmac.compare_digest(user.encode(), self.username.encode())
        if not (hmac.compare_digest(given.encode(), expected.encode()) and ok_user):
            raise Fault("UNAUTHORISED", "the WS-Security username or password is wrong")

    def _digest(self, token: etree._Element, now: datetime) -> str:
        nonce = (token.findtext(f"{{{WSSE}}}Nonce") or "").strip()
        created = (token.findtext(f"{{{WSU}}}Created") or "").strip()
        try:
            when = datetime.fromisoformat(created.replace("Z", "+00:00"))
            raw_nonce = base64.b64decode(nonce, validate=True)
        except ValueError:
            raise Fault("UNAUTHORISED", "a PasswordDigest needs a base64 Nonce and an ISO 8601 Created") from None
        if when.tzinfo is None or abs(now - when) > self.tolerance:
            raise Fault("UNAUTHORISED", "the UsernameToken's Created is outside the allowed clock skew")
        while self.nonces and next(iter(self.nonces.values())) < now - self.tolerance * 2:
            self.nonces.popitem(last=False)
        if nonce in self.nonces:
            raise Fault("UNAUTHORISED", "this UsernameToken nonce was used before (a replayed request)")
        self.nonces[nonce] = now
        if len(self.nonces) > self.cache_size:
            self.nonces.popitem(last=False)
        assert self.password is not None
        digest = hashlib.sha1(raw_nonce + created.encode() + self.password.encode()).digest()  # noqa: S324 - WSS spec
        return base64.b64encode(digest).decode()


class InboundService:
    """Answers pushes for one partner (see the module docstring)."""

    def __init__(self, *, mapping: Callable[[], CompiledMapping], authenticator: Authenticator,
                 clock: Callable[[], datetime]) -> None:
        self.mapping, self.auth, self.clock = mapping, authenticator, clock

    def handle(self, request: PushRequest, desk: ShipmentDesk) -> PushReply:
        try:
            payload = self._payload(request)
            return PushReply(200, _envelope(self._dispatch(request, payload, desk)), CONTENT_TYPE)
        except Fault as fault:
            return fault_reply(fault)

    def _payload(self, request: PushRequest) -> etree._Element:
        try:
            root = safexml.parse(request.body, file="request")
        except ParseError as exc:
            raise Fault("BAD_REQUEST", "the request is not readable XML", errors=[exc]) from None
        if root.tag == f"{{{SOAP12}}}Envelope":
            raise Fault("BAD_REQUEST", "SOAP 1.2 is not served here: send a SOAP 1.1 envelope",
                        soap_code="VersionMismatch")
        if root.tag != f"{{{SOAP11}}}Envelope":
            raise Fault("BAD_REQUEST", f"expected a SOAP 1.1 Envelope, found <{local(root.tag)}>")
        self.auth.check(root.find(f"{{{SOAP11}}}Header"), self.clock())
        payload = body_of(root)
        if payload is None or etree.QName(payload).namespace != TNS or local(payload.tag) not in OPERATIONS:
            found = f"<{local(payload.tag)}>" if payload is not None else "an empty Body"
            raise Fault("BAD_REQUEST", f"expected one of {', '.join(OPERATIONS)} in namespace {TNS}, found {found}")
        return payload

    def _invalid(self, payload: etree._Element) -> list[LockerhubError]:
        checker = schema()
        if checker.validate(payload):
            return []
        return [ParseError("not valid against the service's WSDL", expected="the schema of "
                           f"{local(payload.tag)}", found=e.message.replace(f"{{{TNS}}}", ""),
                           location=_where(payload, e)) for e in checker.error_log]

    def _dispatch(self, request: PushRequest, payload: etree._Element, desk: ShipmentDesk) -> etree._Element:
        name = local(payload.tag)
        invalid = self._invalid(payload)
        if name == "createShipment":
            return self._create(request, payload, desk, invalid)
        if invalid:
            raise Fault("BAD_REQUEST", f"{name} is not valid against the service's WSDL", errors=invalid)
        reference = payload.findtext(_t("reference")) or ""
        try:
            if name == "cancelShipment":
                parcels = desk.cancel(reference)
            else:
                parcels = desk.status(reference, payload.findtext(_t("parcelId")))
        except BusinessRejection as exc:
            raise Fault(exc.reason.upper(), exc.message, reasons=[exc.reason], errors=[exc]) from None
        except TransientError as exc:
            raise Fault("UNAVAILABLE", f"{name} cannot be done now, send it again later ({exc.message})",
                        client=False) from None
        answer = etree.Element(_t(f"{name}Response"), nsmap={"tns": TNS})
        _shipment_state(answer, reference, parcels)
        return answer

    def _create(self, request: PushRequest, payload: etree._Element, desk: ShipmentDesk,
                invalid: list[LockerhubError]) -> etree._Element:
        delivery = delivery_of(payload)
        record = self.record(payload, partner=request.partner, errors=invalid)
        submission = desk.submit(record, delivery=delivery, stage=STAGE)
        if not submission.accepted:
            raise _refusal(submission)
        answer = etree.Element(_t("createShipmentResponse"), nsmap={"tns": TNS})
        _sub(answer, "result", "ALREADY_RECEIVED" if submission.already else "ACCEPTED")
        _shipment_state(answer, submission.reference or "", submission.parcels)
        return answer

    def record(self, payload: etree._Element, *, partner: str, errors: Sequence[LockerhubError] = (),
               file: str = "createShipment") -> SourceRecord:
        """A createShipment payload as a source record (mapped by the inbound mapping unless ``errors``)."""
        raw = etree.tostring(payload, encoding="unicode")
        shipment_el = payload.find(_t("shipment"))
        where = _location(file, shipment_el if shipment_el is not None else payload)
        if errors or shipment_el is None:
            return SourceRecord(location=where, raw=raw, errors=tuple(errors) or (
                ParseError("createShipment without a shipment", expected="a <shipment> element", found="none"),))
        result = self.mapping().map(XmlItem(shipment_el, file), extra={"partner": partner})
        return SourceRecord(location=where, raw=raw, shipment=None if result.errors else result.value,
                            errors=tuple(result.errors), lineage=MappedLineage(result))


def _location(file: str, el: etree._Element) -> Location:
    return Location(file=file, line=line_of(el), path=xpath_of(el))


def _where(payload: etree._Element, entry: Any) -> Location:
    return Location(file="request", line=entry.line or payload.sourceline, path=entry.path)


def _refusal(submission: Submission) -> Fault:
    if submission.reasons:
        return Fault("REFUSED", f"shipment refused: {', '.join(submission.reasons)}", reasons=submission.reasons,
                     errors=submission.errors, quarantine_id=submission.quarantine_id)
    code = "BAD_REQUEST" if any(isinstance(e, ParseError) for e in submission.errors) else "MAPPING"
    return Fault(code, "the shipment could not be read; nothing was created", errors=submission.errors,
                 quarantine_id=submission.quarantine_id)
