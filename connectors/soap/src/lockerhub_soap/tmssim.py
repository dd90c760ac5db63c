"""A simulated legacy TMS that speaks SOAP, for tests, the demo and training: a real HTTP server and a pusher.

Capabilities:
    :class:`TmsSimulator` serves ``wsdl/acme-tms-transport.wsdl`` (an invented 2000s-style TMS service, SOAP 1.1
    at ``/transport`` and SOAP 1.2 at ``/transport12``; ``GET /transport?wsdl`` returns the WSDL with its own
    addresses). ``GetNewShipments`` hands out the shipments in ``state.shipments``; ``PostParcelStatus`` records
    status messages, a repeated ``MessageId`` is answered ``Duplicate`` and not recorded twice. It checks a
    WS-Security UsernameToken (PasswordText or PasswordDigest) when ``state.username`` is set.

    Faults to inject (``state``): ``reject`` (shipment numbers whose status posts get a SOAP fault with a
    ``TmsError`` detail, ``UNKNOWN_SHIPMENT``), ``unavailable`` (the next N requests get HTTP 503), ``hostile``
    (the next response carries a DTD with an external entity and an entity bomb).

    :class:`TmsPusher` is the TMS's client side: it pushes shipments to the hub's inbound SOAP service with zeep,
    as a TMS would, from the WSDL the hub serves.

Limits/Pitfalls:
    - State lives in memory and is lost when the server stops.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from lxml import etree

from lockerhub.errors import ParseError
from lockerhub.simulator.server import AppServer
from lockerhub_soap import safexml
from lockerhub_soap.inbound import SOAP11, SOAP12, WSDL_SOAP, Authenticator, Fault
from lockerhub_soap.safexml import local

WSDL = Path(__file__).with_name("wsdl") / "acme-tms-transport.wsdl"
TNS = "http://acme-tms.example/transport/2009"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
HOSTILE = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY xxe SYSTEM "%s"><!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&xxe;&lol1;</soap:Body></soap:Envelope>
"""


@dataclass(frozen=True, slots=True)
class Package:
    number: str
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal


@dataclass(frozen=True, slots=True)
class TmsShipment:
    reference: str
    name: str
    packages: tuple[Package, ...]
    locker_id: str | None = None
    phone: str | None = None
    email: str | None = None
    zip: str | None = None
    city: str | None = None
    country: str | None = "PL"


@dataclass(slots=True)
class TmsState:
    shipments: list[TmsShipment] = field(default_factory=list)
    statuses: dict[int, dict[str, str]] = field(default_factory=dict)  # MessageId -> the status message
    username: str | None = None
    password: str | None = None
    reject: set[str] = field(default_factory=set)
    unavailable: int = 0
    hostile: str | None = None  # the external entity's URL of the next (hostile) response
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _t(name: str) -> str:
    return f"{{{TNS}}}{name}"


def _sub(parent: etree._Element, name: str, value: object | None) -> None:
    if value is not None:
        etree.SubElement(parent, _t(name)).text = str(value)


def _envelope(payload: etree._Element, soap: str) -> bytes:
    env = etree.Element(f"{{{soap}}}Envelope", nsmap={"soap": soap, "tms": TNS})
    etree.SubElement(env, f"{{{soap}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _fault(soap: str, sender: bool, text: str, code: str) -> bytes:
    detail = etree.Element(_t("TmsError"), nsmap={"tms": TNS})
    _sub(detail, "ErrorCode", code)
    _sub(detail, "ErrorText", text)
    fault = etree.Element(f"{{{soap}}}Fault", nsmap={"soap": soap})
    if soap == SOAP11:
        etree.SubElement(fault, "faultcode").text = "soap:Client" if sender else "soap:Server"
        etree.SubElement(fault, "faultstring").text = text
        etree.SubElement(fault, "detail").append(detail)
    else:
        value = etree.SubElement(etree.SubElement(fault, f"{{{soap}}}Code"), f"{{{soap}}}Value")
        value.text = "soap:Sender" if sender else "soap:Receiver"
        reason = etree.SubElement(etree.SubElement(fault, f"{{{soap}}}Reason"), f"{{{soap}}}Text")
        reason.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        reason.text = text
        etree.SubElement(fault, f"{{{soap}}}Detail").append(detail)
    return _envelope(fault, soap)


def wsdl_for(base_url: str) -> bytes:
    tree = safexml.parse(WSDL.read_bytes(), file=str(WSDL))
    for address in tree.iter(f"{{{WSDL_SOAP}}}address"):
        address.set("location", f"{base_url}/transport")
    for address in tree.iter(f"{{{WSDL_SOAP12}}}address"):
        address.set("location", f"{base_url}/transport12")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _shipments(state: TmsState, payload: etree._Element) -> etree._Element:
    limit = payload.findtext(_t("MaxItems"))
    answer = etree.Element(_t("GetNewShipmentsResponse"), nsmap={"tms": TNS})
    box = etree.SubElement(answer, _t("Shipments"))
    for shipment in state.shipments[: int(limit) if limit else None]:
        el = etree.SubElement(box, _t("Shipment"))
        _sub(el, "ShipmentNo", shipment.reference)
        _sub(el, "LockerId", shipment.locker_id)
        who = etree.SubElement(el, _t("Consignee"))
        for name, value in (("Name", shipment.name), ("Phone", shipment.phone), ("Email", shipment.email),
                            ("Zip", shipment.zip), ("City", shipment.city), ("Country", shipment.country)):
            _sub(who, name, value)
        packages = etree.SubElement(el, _t("Packages"))
        for package in shipment.packages:
            p = etree.SubElement(packages, _t("Package"))
            for name, value in (("PackageNo", package.number), ("Weight", package.weight_kg),
                                ("Length", package.length_cm), ("Width", package.width_cm),
                                ("Height", package.height_cm)):
                _sub(p, name, value)
    return answer


def _status(state: TmsState, payload: etree._Element) -> etree._Element:
    fields = {local(el.tag): (el.text or "").strip() for el in payload if isinstance(el.tag, str)}
    missing = [n for n in ("MessageId", "ShipmentNo", "PackageNo", "StatusCode", "EventTime") if not fields.get(n)]
    if missing:
        raise Fault("SCHEMA", f"PostParcelStatus without {', '.join(missing)}")
    if fields["ShipmentNo"] in state.reject:
        raise Fault("UNKNOWN_SHIPMENT", f"shipment {fields['ShipmentNo']} is not known to this TMS")
    message_id = int(fields["MessageId"])
    duplicate = message_id in state.statuses
    state.statuses.setdefault(message_id, fields)
    answer = etree.Element(_t("PostParcelStatusResponse"), nsmap={"tms": TNS})
    _sub(answer, "Accepted", "true")
    _sub(answer, "Duplicate", "true" if duplicate else "false")
    return answer


def create_app(state: TmsState) -> FastAPI:
    app = FastAPI(title="simulated legacy TMS (SOAP)")
    auth = Authenticator(state.username, state.password, tolerance_s=300)

    def answer(request: Request, body: bytes, soap: str) -> Response:
        media = "text/xml; charset=utf-8" if soap == SOAP11 else "application/soap+xml; charset=utf-8"
        with state.lock:
            state.requests += 1
            if state.unavailable > 0:
                state.unavailable -= 1
                return Response(b"service unavailable", status_code=503, media_type="text/plain")
            if state.hostile is not None:
                url, state.hostile = state.hostile, None
                return Response(HOSTILE % url.encode(), status_code=200, media_type=media)
            try:
                root = safexml.parse(body, file="request")
                if local(root.tag) != "Envelope" or etree.QName(root).namespace != soap:
                    raise Fault("VERSION", "wrong SOAP version for this port")
                if state.username:
                    auth.check(root.find(f"{{{soap}}}Header"), datetime.now(UTC))
                body_el = root.find(f"{{{soap}}}Body")
                payload = next((el for el in body_el if isinstance(el.tag, str)), None) if body_el is not None \
                    else None
                name = local(payload.tag) if payload is not None else ""
                if name == "GetNewShipments":
                    reply = _shipments(state, payload)
                elif name == "PostParcelStatus":
                    reply = _status(state, payload)
                else:
                    raise Fault("UNKNOWN_OPERATION", f"no operation {name or '(empty body)'}")
            except ParseError as exc:
                return Response(_fault(soap, True, exc.message, "BAD_XML"), status_code=500, media_type=media)
            except Fault as fault:
                return Response(_fault(soap, True, fault.message, fault.code), status_code=500, media_type=media)
        return Response(_envelope(reply, soap), status_code=200, media_type=media)

    @app.get("/transport")
    def wsdl(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return Response(wsdl_for(base), media_type="text/xml; charset=utf-8")

    @app.post("/transport")
    async def soap11(request: Request) -> Response:
        return answer(request, await request.body(), SOAP11)

    @app.post("/transport12")
    async def soap12(request: Request) -> Response:
        return answer(request, await request.body(), SOAP12)

    return app


class TmsSimulator(AppServer):
    """The simulated TMS over real HTTP; ``wsdl_url`` is where zeep (and the soap connector) find its WSDL."""

    name = "TMS simulator"

    def __init__(self, state: TmsState | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.state = state or TmsState()

    def create_app(self) -> FastAPI:
        return create_app(self.state)

    @property
    def wsdl_url(self) -> str:
        return f"{self.url}/transport?wsdl"


class TmsPusher:
    """The TMS pushing work to the hub's inbound SOAP service (``endpoint`` = ``<ingress>/tms/<partner>``)."""

    def __init__(self, endpoint: str, *, username: str, password: str, digest: bool = False) -> None:
        import zeep
        from zeep.wsse.username import UsernameToken

        from lockerhub_soap.transport import HubTransport, host_of, zeep_settings

        transport = HubTransport(allowed_hosts={host_of(endpoint) or ""}, timeout=10, operation_timeout=30)
        self.client = zeep.Client(f"{endpoint}?wsdl", transport=transport, settings=zeep_settings(),
                                  wsse=UsernameToken(username, password, use_digest=digest))

    @staticmethod
    def shipment(s: TmsShipment) -> dict[str, Any]:
        recipient = {"name": s.name, "phone": s.phone, "email": s.email, "postalCode": s.zip, "city": s.city,
                     "country": s.country}
        return {"reference": s.reference, "destinationLocker": s.locker_id,
                "recipient": {k: v for k, v in recipient.items() if v is not None},
                "parcels": {"parcel": [{"parcelId": p.number, "lengthCm": p.length_cm, "widthCm": p.width_cm,
                                        "heightCm": p.height_cm, "weightKg": p.weight_kg} for p in s.packages]}}

    def create(self, shipment: TmsShipment) -> Any:
        return self.client.service.createShipment(shipment=self.shipment(shipment))

    def cancel(self, reference: str) -> Any:
        return self.client.service.cancelShipment(reference=reference)

    def status(self, reference: str, parcel_id: str | None = None) -> Any:
        return self.client.service.getParcelStatus(reference=reference, parcelId=parcel_id)
