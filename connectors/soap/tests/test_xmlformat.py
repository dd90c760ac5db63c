"""The ``xml`` source format: path syntax (checked when a mapping loads), namespace-agnostic reads, loops,
positions, the records of a file, and the compiled readers against lxml's XPath engine (the reference semantics)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lockerhub_soap import safexml
from lockerhub_soap.xmlformat import XmlFormat, XmlItem, check_record_path, records

from lockerhub.errors import ConfigError, ParseError
from lockerhub.mapping import load_mapping
from lockerhub.mapping.formats import get_format
from lockerhub.mapping.golden import run_golden
from lockerhub.mapping.load import validate_mapping

ROOT = Path(__file__).resolve().parents[3]
ACME_XML = ROOT / "mappings" / "acme-xml"

PLAIN = b"""<?xml version="1.0" encoding="UTF-8"?>
<Shipments>
  <Shipment id="S-1">
    <Ref>  R-1  </Ref>
    <Recipient>
      <Name>Test Recipient 1</Name>
      <Blank>   </Blank>
      <Empty/>
    </Recipient>
    <Parcels>
      <Parcel id="P-1"><Weight>1.5</Weight></Parcel>
      <Parcel id="P-2"><Weight>2,5</Weight></Parcel>
    </Parcels>
  </Shipment>
</Shipments>
"""

NAMESPACED = b"""<?xml version="1.0" encoding="UTF-8"?>
<f:Shipments xmlns:f="urn:feed" xmlns="urn:feed:default">
  <f:Shipment f:id="S-1">
    <Ref>  R-1  </Ref>
    <f:Recipient>
      <Name>Test Recipient 1</Name>
      <Blank>   </Blank>
      <Empty/>
    </f:Recipient>
    <Parcels xmlns="urn:other">
      <Parcel id="P-1"><Weight>1.5</Weight></Parcel>
      <Parcel id="P-2"><Weight>2,5</Weight></Parcel>
    </Parcels>
  </f:Shipment>
</f:Shipments>
"""

PATHS = ["Ref", "@id", "Recipient/Name", "Recipient/Blank", "Recipient/Empty", "Recipient/Nope", "Nope/Deeper",
         "Parcels/Parcel/@id", "Parcels/Parcel[2]/@id", "Parcels/Parcel[2]/Weight", "Parcels/Parcel[3]/Weight",
         "./Ref", "Parcels/Parcel/@nope"]
VALUES = ["R-1", "S-1", "Test Recipient 1", None, None, None, None, "P-1", "P-2", "2,5", None, "R-1", None]


def shipment(data: bytes, file: str = "feed.xml") -> XmlItem:
    [item] = records(safexml.parse(data, file=file), "Shipment", file=file)
    return item


@pytest.fixture(scope="module")
def fmt() -> XmlFormat:
    return XmlFormat()


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("data", [PLAIN, NAMESPACED], ids=["plain", "namespaced"])
def test_paths_read_plain_and_namespaced_documents_alike(fmt: XmlFormat, data: bytes) -> None:
    item = shipment(data)
    assert [fmt.compile_path(p)(item) for p in PATHS] == VALUES
    assert [fmt.read_path(item, p) for p in PATHS] == VALUES


def test_dot_reads_the_items_own_text_and_a_repeat_item_reads_relative_paths(fmt: XmlFormat) -> None:
    item = shipment(PLAIN)
    parcels = fmt.compile_repeat("Parcels/Parcel")(item)
    assert [type(p) for p in parcels] == [XmlItem, XmlItem]
    assert [fmt.compile_path("@id")(p) for p in parcels] == ["P-1", "P-2"]
    assert [fmt.compile_path("Weight")(p) for p in parcels] == ["1.5", "2,5"]
    weights = fmt.compile_repeat("Parcels/Parcel/Weight")(item)
    assert [fmt.compile_path(".")(w) for w in weights] == ["1.5", "2,5"]
    assert [fmt.compile_path(".")(p) for p in fmt.compile_repeat("Parcels/Parcel[2]")(item)] == [None]
    assert fmt.compile_repeat(".")(item) == [item]
    assert fmt.compile_repeat("Parcels/Nope")(item) == []


def test_text_is_the_elements_own_text_stripped_with_cdata_and_without_child_elements(fmt: XmlFormat) -> None:
    data = b"<Shipments><Shipment><A> x <!-- c --> y <b>child</b> z </A><B><![CDATA[ <&> ]]></B></Shipment></Shipments>"
    item = shipment(data)
    assert fmt.compile_path("A")(item) == "x  y  z"
    assert fmt.compile_path("B")(item) == "<&>"
    assert fmt.compile_path("A/b")(item) == "child"


def test_a_step_without_index_finds_the_first_match_in_document_order(fmt: XmlFormat) -> None:
    data = b"<r><Shipment><P><Q>no weight</Q></P><P><W>2</W></P><P><W>3</W></P></Shipment></r>"
    item = shipment(data)
    assert fmt.compile_path("P/W")(item) == fmt.read_path(item, "P/W") == "2"
    assert fmt.compile_path("P[1]/W")(item) is None
    assert fmt.locate(item, "P/W").path == "/r/Shipment/P[2]/W"


def test_attributes_by_local_name_prefer_the_unqualified_one(fmt: XmlFormat) -> None:
    item = shipment(b'<r xmlns:x="urn:x"><Shipment x:id="qualified" code=" C "><P x:n="7"/></Shipment></r>')
    assert fmt.compile_path("@id")(item) == "qualified"
    assert fmt.compile_path("@code")(item) == "C"
    assert fmt.compile_path("P/@n")(item) == "7"
    both = shipment(b'<r xmlns:x="urn:x"><Shipment x:id="qualified" id="plain"/></r>')
    assert fmt.compile_path("@id")(both) == "plain"


@pytest.mark.parametrize(("path", "why"), [
    ("", "an XML path of local element names"),
    (" Ref", "an XML path of local element names"),
    ("/Shipment/Ref", "paths are relative to the record"),
    ("Recipient//Name", "an XML path of local element names"),
    ("ns:Name", "write 'Name' and not 'ns:Name'"),
    ("Parcel[0]/Weight", "positions start at 1"),
    ("Parcel[x]", "an XML path of local element names"),
    ("@", "an XML path of local element names"),
    ("@id/Name", "an XML path of local element names"),
    ("*", "an XML path of local element names"),
    ("../Ref", "an XML path of local element names"),
    ("Name[@id='1']", "an XML path of local element names"),
])
def test_bad_paths_are_refused_with_what_was_expected(fmt: XmlFormat, path: str, why: str) -> None:
    with pytest.raises(ValueError, match="expected") as info:
        fmt.compile_path(path)
    assert why in str(info.value) and repr(path) in str(info.value)


def test_a_repeat_selects_elements_only(fmt: XmlFormat) -> None:
    with pytest.raises(ValueError, match=r"expected a path of local element names .*found an attribute"):
        fmt.compile_repeat("Parcels/Parcel/@id")


def test_a_mapping_with_bad_xml_paths_is_refused_when_it_loads_with_positions(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "mapping: acme-xml/bad\nsource: {format: xml}\ntarget: shipment\nfields:\n"
        "  reference: {op: path, path: 'Ref//x', required: true}\n"
        "  recipient.name: 'tms:Name'\n"
        "  parcels:\n    repeat: Parcels/Parcel/@id\n    fields:\n      parcel_id: '@id'\n", "utf-8")
    errors = [e.render() for e in validate_mapping(mapping)]
    assert errors == [
        f"{mapping}:5:31: error: fields.reference.path: path Ref//x: expected an XML path of local element names "
        "like Recipient/Name, Parcels/Parcel[2]/Weight, @id, Parcel/@id or ., found 'Ref//x'",
        f"{mapping}:6:19: error: fields.recipient.name: path tms:Name: expected an XML path of local element names "
        "like Recipient/Name, Parcels/Parcel[2]/Weight, @id, Parcel/@id or .: steps are local names matched in any "
        "namespace, so write 'Name' and not 'tms:Name', found 'tms:Name'",
        f"{mapping}:8:13: error: fields.parcels.repeat: repeat Parcels/Parcel/@id: expected a path of local element "
        "names like Parcels/Parcel (a repeat selects elements), found an attribute in 'Parcels/Parcel/@id'",
    ]


def test_labels_name_elements_and_attributes(fmt: XmlFormat) -> None:
    assert fmt.label("Recipient/Name") == "element Recipient/Name"
    assert fmt.label("Parcel/@id") == "attribute Parcel/@id"
    assert fmt.label(".") == "the element's text"


# --------------------------------------------------------------------------- positions


def test_locate_gives_the_line_and_xpath_of_the_value_or_of_the_item_when_missing(fmt: XmlFormat) -> None:
    item = shipment(PLAIN)
    assert (item.line, item.xpath) == (3, "/Shipments/Shipment")
    where = fmt.locate(item, "Recipient/Name")
    assert (where.file, where.line, where.path) == ("feed.xml", 6, "/Shipments/Shipment/Recipient/Name")
    assert fmt.locate(item, "@id").path == "/Shipments/Shipment/@id"
    assert fmt.locate(item, "Parcels/Parcel[2]/@id").path == "/Shipments/Shipment/Parcels/Parcel[2]/@id"
    assert fmt.locate(item, "Parcels/Parcel[2]/Weight").line == 12
    missing = fmt.locate(item, "Recipient/Phone")
    assert (missing.line, missing.path) == (3, "/Shipments/Shipment/Recipient/Phone")
    assert fmt.locate(item, ".").path == "/Shipments/Shipment"
    second = fmt.compile_repeat("Parcels/Parcel")(item)[1]
    assert (second.line, second.xpath) == (12, "/Shipments/Shipment/Parcels/Parcel[2]")
    assert fmt.locate(second, "Weight").path == "/Shipments/Shipment/Parcels/Parcel[2]/Weight"
    assert fmt.locate(second, "Volume").path == "/Shipments/Shipment/Parcels/Parcel[2]/Volume"
    namespaced = shipment(NAMESPACED)
    assert fmt.locate(namespaced, "Parcels/Parcel[2]/@id").path == "/Shipments/Shipment/Parcels/Parcel[2]/@id"


def test_an_item_made_from_a_bare_element_works_out_its_xpath() -> None:
    root = safexml.parse(PLAIN, file="feed.xml")
    parcel = root.find("Shipment/Parcels/Parcel[2]")
    item = XmlItem(parcel, "feed.xml")
    assert item.xpath == "/Shipments/Shipment/Parcels/Parcel[2]"
    assert item.raw == '<Parcel id="P-2"><Weight>2,5</Weight></Parcel>'
    assert repr(item) == "<XmlItem Parcel at feed.xml:12>"


# --------------------------------------------------------------------------- records


def test_read_yields_the_record_elements_with_their_xpaths(fmt: XmlFormat, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b"<Feed>\n<Header/>\n<Shipment n='1'/>\n<Batch><Shipment n='2'/><Shipment n='3'/></Batch>\n"
                     b"<Batch><Shipment n='4'/></Batch>\n<Shipment n='5'/>\n</Feed>\n")
    def read(**options: object) -> list[tuple[int | None, str]]:
        return [(i.line, i.xpath) for i in fmt.read(feed, **options)]
    assert read(record="Shipment") == [(3, "/Feed/Shipment[1]"), (6, "/Feed/Shipment[2]")]
    assert read(record="Batch/Shipment") == [(4, "/Feed/Batch[1]/Shipment[1]"), (4, "/Feed/Batch[1]/Shipment[2]"),
                                             (5, "/Feed/Batch[2]/Shipment")]
    assert read(record="Batch[2]/Shipment") == [(5, "/Feed/Batch[2]/Shipment")]
    assert read() == [(2, "/Feed/Header"), (3, "/Feed/Shipment[1]"), (4, "/Feed/Batch[1]"), (5, "/Feed/Batch[2]"),
                      (6, "/Feed/Shipment[2]")]
    assert [i.file for i in fmt.read(feed)] == [str(feed)] * 5


def test_a_file_without_records_is_a_parse_error_naming_what_was_expected(fmt: XmlFormat, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b'<?xml version="1.0"?>\n  <f:Shipments xmlns:f="urn:f"><f:Header/><f:Shipment/></f:Shipments>')
    with pytest.raises(ParseError) as info:
        list(fmt.read(feed, record="Shipments/Shipment"))
    assert info.value.render() == (
        f"{feed}:2:3: error: no records at 'Shipments/Shipment': expected <Shipment> elements at Shipments/Shipment "
        "below the root <Shipments>, found <Shipments> holding <Header>, <Shipment> (record is a path below the root "
        "<Shipments>: try record: Shipment)")
    feed.write_bytes(b"<Shipments>\n</Shipments>\n")
    with pytest.raises(ParseError) as info:
        list(fmt.read(feed))
    assert info.value.render() == (f"{feed}:1:1: error: no records: expected record elements inside the root "
                                   "<Shipments>, found an empty <Shipments>")


def test_reader_options_are_checked(fmt: XmlFormat, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b"<r><Shipment/></r>")
    with pytest.raises(ConfigError, match=r"options \(source.options of the mapping\): expected record, found records"):
        list(fmt.read(feed, records="Shipment"))
    for bad in ("Shipment/@id", "/r/Shipment", ".", 3):
        with pytest.raises(ConfigError, match="xml reader option 'record': expected a slash path"):
            list(fmt.read(feed, record=bad))
    with pytest.raises(ValueError, match="expected a slash path of local element names"):
        check_record_path("Shipments//Shipment")
    assert check_record_path("Batch[2]/Shipment") == "Batch[2]/Shipment"


def test_records_of_a_parsed_element_are_empty_rather_than_an_error() -> None:
    body = safexml.parse(b'<s:Body xmlns:s="urn:soap"><r:getNewShipmentsResponse xmlns:r="urn:tms"><Shipments>'
                         b'<Shipment>A</Shipment><Shipment>B</Shipment></Shipments></r:getNewShipmentsResponse>'
                         b'</s:Body>', file="response")
    payload = body[0]
    items = records(payload, "Shipments/Shipment", file="getNewShipments response")
    assert [(i.xpath, i.file, XmlFormat().compile_path(".")(i)) for i in items] == [
        ("/Body/getNewShipmentsResponse/Shipments/Shipment[1]", "getNewShipments response", "A"),
        ("/Body/getNewShipmentsResponse/Shipments/Shipment[2]", "getNewShipments response", "B")]
    assert records(payload, "Shipments/Parcel", file="x") == []
    with pytest.raises(ValueError, match="expected a slash path"):
        records(payload, "Shipments/@id", file="x")


# --------------------------------------------------------------------------- through the mapping engine


def test_the_format_comes_from_the_xml_connector() -> None:
    assert isinstance(get_format("xml"), XmlFormat)


def test_the_acme_xml_golden_cases_pass() -> None:
    results = run_golden(ACME_XML)
    assert sorted(Path(r.case).name for r in results) == ["broken_record", "daily_feed", "namespaced_feed"]
    assert all(r.status == "pass" for r in results), [(r.case, r.diff, r.problems) for r in results]


def test_a_mapping_reads_the_namespaced_feed_as_the_plain_one() -> None:
    mapping = load_mapping(ACME_XML / "shipments.yaml")
    plain = [mapping.map(i, extra={"partner": "p"}).value for i in records(safexml.parse(PLAIN), "Shipment",
                                                                          file="a")]
    spaced = [mapping.map(i, extra={"partner": "p"}).value for i in records(safexml.parse(NAMESPACED), "Shipment",
                                                                           file="b")]
    assert plain == spaced


# --------------------------------------------------------------------------- compiled readers = XPath reference

_names = st.sampled_from(["A", "B", "C"])


@st.composite
def _tree(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(_names)
    prefix = draw(st.sampled_from(["", "p:", "q:"]))
    attrs = "".join(f' {draw(st.sampled_from(["", "p:"]))}{a}="{draw(st.sampled_from(["1", " 2 ", ""]))}"'
                    for a in draw(st.lists(st.sampled_from(["id", "n"]), unique=True, max_size=2)))
    text = draw(st.sampled_from(["", "x", "  y  ", " "]))
    children = "".join(draw(st.lists(_tree(depth + 1), max_size=3))) if depth < 3 else ""
    tail = draw(st.sampled_from(["", "t", " "]))
    return f"<{prefix}{name}{attrs}>{text}{children}</{prefix}{name}>{tail}"


@st.composite
def _path(draw: st.DrawFn) -> str:
    steps = [draw(_names) + draw(st.sampled_from(["", "", "[1]", "[2]"])) for _ in range(draw(st.integers(0, 3)))]
    attr = draw(st.sampled_from([None, None, "id", "n"]))
    parts = steps + ([f"@{attr}"] if attr else [])
    return "/".join(parts) or "."


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_tree(), paths=st.lists(_path(), min_size=1, max_size=8))
def test_compiled_paths_read_what_lxml_xpath_reads(tree: str, paths: list[str]) -> None:
    fmt = XmlFormat()
    data = f'<root xmlns:p="urn:p" xmlns:q="urn:q">{tree}</root>'.encode()
    [item] = records(safexml.parse(data), None, file="t")
    for path in paths:
        assert fmt.compile_path(path)(item) == fmt.read_path(item, path), path
        where = fmt.locate(item, path)
        assert where.path is not None and where.path.startswith(item.xpath)
