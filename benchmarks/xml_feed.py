"""Reading an XML shipment feed into canonical shipments: the xml connector vs xmltodict and a hand-written walk.

Every contender reads the same generated feed (fake recipients; 1-3 parcels per shipment, sizes in cm and weights in
kg, some with a comma as decimal separator, the ``mappings/acme-xml`` layout):
- lockerhub: ``XmlFeedConnector.read`` through ``mappings/acme-xml/shipments.yaml``: hardened parse (no DTD, no
  entities), one record per ``<Shipment>`` with its position and XPath, every field through the mapping with
  per-field errors, the raw record text kept for quarantine, lineage on demand;
- baseline: ``xmltodict.parse`` of the same bytes and a dict walk written for this one layout (units inline,
  ``Shipment.model_validate`` per shipment): no positions, no raw text, no per-field error collection, no
  namespace handling;
- lower bound: ``lxml.etree.fromstring`` alone (the parse, nothing mapped).
Both readers must produce the same shipments. Prints a table, then ``RESULT shipments=... connector_per_s=...
baseline_per_s=... lxml_parse_per_s=... xml_ratio=... parse_ratio=...`` (``xml_ratio``: connector time / baseline
time; ``parse_ratio``: connector time / parse-only time).
"""

from __future__ import annotations

import random
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import xmltodict
from lockerhub_soap.xmlconfig import XmlFeedConfig
from lockerhub_soap.xmlfeed import XmlFeedConnector
from lxml import etree

from benchmarks._harness import args, best_of, report
from lockerhub.model import Shipment

MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "acme-xml" / "shipments.yaml"
CITIES = [("00", "Warszawa", "WAW"), ("30", "Kraków", "KRK"), ("80", "Gdańsk", "GDN")]
TEMPERATURE = {"A": "ambient", "C": "chilled", "F": "frozen"}


def _number(rng: random.Random, low: int, high: int, places: int) -> str:
    text = f"{rng.randint(low * 10 ** places, high * 10 ** places) / 10 ** places:.{places}f}"
    return text.replace(".", ",") if rng.random() < 0.2 else text


def feed(n: int, *, seed: int = 1) -> bytes:
    """``n`` fake shipments in the acme-xml layout."""
    rng = random.Random(seed)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<Shipments>\n  <Header><Sender>ACMETMS</Sender></Header>\n']
    for i in range(1, n + 1):
        prefix, city, region = rng.choice(CITIES)
        locker = f"<LockerId>SIM-{region}-{rng.randint(1, 30):04d}</LockerId>" if rng.random() < 0.8 else ""
        phone = f"<Phone>+48{i:09d}</Phone>" if rng.random() < 0.7 else ""
        parcels = []
        for j in range(rng.randint(1, 3)):
            temperature = f"<Temperature>{rng.choice('ACF')}</Temperature>" if rng.random() < 0.3 else ""
            parcels.append(
                f'      <Parcel id="P{i:07d}-{j}">\n'
                f"        <Dimensions><Length>{_number(rng, 5, 60, 1)}</Length><Width>{_number(rng, 5, 40, 1)}"
                f"</Width><Height>{_number(rng, 1, 40, 1)}</Height></Dimensions>\n"
                f"        <Weight>{_number(rng, 0, 25, 3)}</Weight>{temperature}\n      </Parcel>\n")
        out.append(
            f"  <Shipment id={quoteattr(f'ACME-X-{i:07d}')}>\n    {locker}\n"
            f"    <Recipient>\n      <Name>{escape(f'Test Recipient {i}')}</Name>{phone}\n"
            f"      <Email>recipient{i}@example.invalid</Email>\n"
            f"      <Address><PostalCode>{prefix}-{i % 1000:03d}</PostalCode><City>{city}</City></Address>\n"
            f"    </Recipient>\n    <Parcels>\n{''.join(parcels)}    </Parcels>\n  </Shipment>\n")
    out.append("</Shipments>\n")
    return "".join(out).encode("utf-8")


def _text(node: Any) -> str | None:
    if isinstance(node, dict):
        node = node.get("#text")
    if node is None:
        return None
    return node.strip() or None


def _scaled(text: str, factor: int) -> int:
    return int((Decimal(text.replace(",", ".")) * factor).to_integral_value())


def hand_written(data: bytes) -> list[Shipment]:
    """xmltodict and a walk written for this layout only."""
    doc = xmltodict.parse(data, force_list=("Shipment", "Parcel"))
    out = []
    for s in doc["Shipments"]["Shipment"]:
        recipient = s["Recipient"]
        address = recipient.get("Address") or {}
        parcels = []
        for p in s["Parcels"]["Parcel"]:
            dims = p["Dimensions"]
            code = _text(p.get("Temperature"))
            parcels.append({
                "parcel_id": p["@id"], "sscc": _text(p.get("Sscc")),
                "dimensions": {"length_mm": _scaled(dims["Length"], 10), "width_mm": _scaled(dims["Width"], 10),
                               "height_mm": _scaled(dims["Height"], 10)},
                "weight_g": _scaled(p["Weight"], 1000),
                "temperature": TEMPERATURE[code.upper()] if code else "ambient"})
        out.append(Shipment.model_validate({
            "partner": "acme-xml", "reference": s["@id"], "destination_locker": _text(s.get("LockerId")),
            "recipient": {"name": _text(recipient.get("Name")), "phone": _text(recipient.get("Phone")),
                          "email": _text(recipient.get("Email")),
                          "address": {"street": _text(address.get("Street")),
                                      "postal_code": _text(address.get("PostalCode")),
                                      "city": _text(address.get("City")),
                                      "country": _text(address.get("Country")) or "PL"}},
            "parcels": parcels}))
    return out


def main() -> None:
    opts = args(__doc__ or "")
    n = 2_000 if opts.quick else 20_000
    data = feed(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.xml"
        path.write_bytes(data)
        connector = XmlFeedConnector(XmlFeedConfig(inbox=Path(tmp), mapping=MAPPING))  # type: ignore[arg-type]

        def lockerhub() -> list[Shipment | None]:
            return [r.shipment for r in connector.read(path, partner="acme-xml")]

        first = lockerhub()
        assert len(first) == n and all(first), "every generated shipment must map"
        assert first == hand_written(data), "both readers must produce the same shipments"
        repeat = 3 if opts.quick else 5
        t_conn = best_of(lockerhub, repeat)
        t_base = best_of(lambda: hand_written(data), repeat)
        t_parse = best_of(lambda: etree.fromstring(data), repeat)
    report(f"XML feed -> canonical shipments ({n} shipments, {len(data) / 1e6:.1f} MB)",
           [("lockerhub xml connector (read)", t_conn, n), ("xmltodict + hand-written walk", t_base, n),
            ("lxml parse only (lower bound)", t_parse, n)],
           {"shipments": n, "connector_per_s": round(n / t_conn), "baseline_per_s": round(n / t_base),
            "lxml_parse_per_s": round(n / t_parse), "xml_ratio": t_conn / t_base, "parse_ratio": t_conn / t_parse},
           unit="shipments/s")


if __name__ == "__main__":
    main()
