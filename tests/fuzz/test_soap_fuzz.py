"""The inbound SOAP service (what ``POST /tms/<partner>`` runs): arbitrary and mutated requests, authenticated or not,
always get an answer (a response or a SOAP fault valid against the service's WSDL), never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from lockerhub_soap.inbound import SOAP11, TNS, schema
from lxml import etree

from lockerhub.plugins.protocols import PushRequest
from lockerhub.runtime.desk import Desk
from lockerhub.runtime.hub import Hub
from lockerhub.simulator import SimulatorServer

PASSWORD = "fuzz-push-password"  # not a credential
SECURITY = ('<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0'
            f'.xsd"><wsse:UsernameToken><wsse:Username>acme</wsse:Username><wsse:Password>{PASSWORD}</wsse:Password>'
            "</wsse:UsernameToken></wsse:Security>")
CREATE = ("<t:createShipment><t:shipment><t:reference>FZ-1</t:reference>"
          "<t:destinationLocker>WAW-01</t:destinationLocker><t:recipient><t:name>Fuzz Recipient</t:name>"
          "<t:phone>+48000000009</t:phone></t:recipient><t:parcels>"
          "<t:parcel><t:parcelId>FZ-1-P</t:parcelId><t:lengthCm>30</t:lengthCm><t:widthCm>20</t:widthCm>"
          "<t:heightCm>5</t:heightCm><t:weightKg>1.5</t:weightKg></t:parcel></t:parcels></t:shipment>"
          "</t:createShipment>")
SEEDS = [(f'<s:Envelope xmlns:s="{SOAP11}" xmlns:t="{TNS}"><s:Header>{SECURITY}</s:Header><s:Body>{body}</s:Body>'
          "</s:Envelope>").encode()
         for body in (CREATE, "<t:cancelShipment><t:reference>FZ-1</t:reference></t:cancelShipment>",
                      "<t:getParcelStatus><t:reference>FZ-1</t:reference></t:getParcelStatus>")]


def test_pushed_requests(fuzz, pilot: Path, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ACME_SOAP_PUSH_PASSWORD", PASSWORD)
    hub = Hub.open(pilot)
    connector = hub.partner("acme-soap")
    desk = Desk(hub, "acme-soap", source="push:acme-soap")

    @fuzz.settings
    @given(fuzz.inputs(SEEDS, alphabet=b'<>/:="&;'))
    def run(body: bytes) -> None:
        reply = connector.handle_push(PushRequest("acme-soap", "http://hub/tms/acme-soap", {}, body), desk)
        assert reply.status in (200, 500)
        envelope = etree.fromstring(reply.body)
        payload = envelope.find(f"{{{SOAP11}}}Body")[0]
        if reply.status == 500:
            detail = payload.find(f"detail/{{{TNS}}}lockerhubFault")
            assert detail is not None and schema().validate(detail), schema().error_log
        else:
            assert schema().validate(payload), schema().error_log

    try:
        run()
    finally:
        hub.close()
