"""The ``x12`` mapping format: path syntax, loops, the envelope, positions, load-time checks against the version
table, and records read from files (with their envelope errors)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lockerhub_x12.dictionary import dictionary
from lockerhub_x12.envelope import parse
from lockerhub_x12.format import X12Format, X12Loop, X12Stray, X12Transaction

from lockerhub.errors import Location
from lockerhub.mapping import load_mapping, validate_mapping

FMT = X12Format()

BODY = [
    "B2**ACME**SHP-1**PP",
    "L11*BOL-1*BM",
    "L11*PO-1*PO",
    "N1*SH*ACME Warehouse Test",
    "N3*ul. Magazynowa 1",
    "S5*1*CL",
    "N1*SF*ACME Warehouse Test",
    "S5*2*CU",
    "L11*SIM-WAW-0001*ZZ",
    "N1*CN*Test Recipient",
    "N3*ul. Testowa 1*lok. 2",
    "N4*Krakow**30-001*PL",
    "G61*IC*Test Recipient*TE*+48000000001",
    "G61*IC*Test Recipient*EM*recipient@example.invalid",
    "L5*1*PARCEL",
    "AT8*G*K*1.5*1",
    "L11*P1*2I",
    "MEA*PD*LN*30*CM:2",
    "L5*2*PARCEL",
    "AT8*G*L*2*1",
    "L11*P2*2I",
    "HL*1**S",
    "HL*2*1*P",
    "MAN*GM*005900000000000013",
    "HL*3*1*P",
    "MAN*GM*005900000000000020",
]


@pytest.fixture
def item(x12: Any) -> X12Transaction:
    text = x12.interchange(x12.group(x12.tender(body=BODY)), after="\n")
    doc = parse(text, file="in.edi")
    interchange = doc.interchanges[0]
    group = interchange.groups[0]
    return X12Transaction(interchange, group, group.transactions[0], file="in.edi")


def read(item: Any, path: str) -> Any:
    compiled = FMT.compile_path(path)(item)
    assert FMT.read_path(item, path) == compiled  # the reference reader agrees
    return compiled


@pytest.mark.parametrize(("path", "value"), [
    ("B2/04", "SHP-1"),  # first B2, element 04
    ("B2/02", "ACME"),
    ("B2/01", None),  # empty element: no value
    ("B2/12", None),  # beyond the segment: no value
    ("N1[SH]/02", "ACME Warehouse Test"),  # first N1 whose N101 is SH
    ("N1[CN]/02", "Test Recipient"),
    ("N1[CN|ST]/02", "Test Recipient"),  # one of several codes
    ("N1[XX]/02", None),
    ("L11[02=BM]/01", "BOL-1"),  # qualifier in another element
    ("L11[PO]/01", "PO-1"),  # L11 compares L1102 by default (segments.yaml)
    ("L11/01", "BOL-1"),
    ("N1[CN]/N3/01", "ul. Testowa 1"),  # the N3 in the consignee's N1 loop
    ("N1[CN]/N3/02", "lok. 2"),
    ("N1[SH]/N3/01", "ul. Magazynowa 1"),
    ("N1[SF]/N3/01", None),  # the SF loop ends at the next N1 (the consignee's), with no N3 before it
    ("S5[02=CU]/N1[CN]/G61[03=EM]/04", "recipient@example.invalid"),
    ("S5[02=CL]/L11[ZZ]/01", None),  # the CL stop's loop ends at the next S5
    ("S5[02=CU]/L11[ZZ]/01", "SIM-WAW-0001"),
    ("MEA/04-1", "CM"),  # a component
    ("MEA/04-2", "2"),
    ("MEA/04-3", None),
    ("MEA/03-1", "30"),  # a simple element is its own first component
    ("HL[P]/MAN/02", "005900000000000013"),  # HL compares HL03 by default
    ("HL[03=P]/MAN/02", "005900000000000013"),
    ("ISA/06", "ACMETMS"),  # the envelope (trimmed)
    ("ISA/13", "000000001"),
    ("GS/02", "ACMETMS"),
    ("GS[SM]/08", "004010"),
    ("ST/01", "204"),
    ("SE/02", "0001"),
    ("GE/02", "1"),
    ("IEA/01", "1"),
])
def test_paths(item: X12Transaction, path: str, value: str | None) -> None:
    assert read(item, path) == value


def test_repeat_makes_one_item_per_loop(item: X12Transaction) -> None:
    stops = FMT.compile_repeat("S5")(item)
    assert [(s.start, s.end) for s in stops] == [(6, 8), (8, 27)]
    assert all(isinstance(s, X12Loop) for s in stops)
    assert [read(s, "S5/02") for s in stops] == ["CL", "CU"]
    assert [read(s, "N1/01") for s in stops] == ["SF", "CN"]  # paths inside a loop are relative to it
    assert [read(s, "ISA/06") for s in stops] == ["ACMETMS", "ACMETMS"]  # the envelope stays reachable
    parcels = FMT.compile_repeat("S5[02=CU]/L5")(item)
    assert [(read(p, "L11[2I]/01"), read(p, "AT8/02"), read(p, "AT8/03")) for p in parcels] == [
        ("P1", "K", "1.5"), ("P2", "L", "2")]
    assert read(parcels[0], "MEA/04-1") == "CM" and read(parcels[1], "MEA/04-1") is None
    packs = FMT.compile_repeat("HL[03=P]")(item)
    assert [read(p, "MAN[GM]/02") for p in packs] == ["005900000000000013", "005900000000000020"]
    assert len(FMT.compile_repeat("HL[P]")(item)) == 2  # HL03 by default
    assert FMT.compile_repeat("LX")(item) == [] and FMT.compile_repeat("S5[XX]/L5")(item) == []


def test_locate_and_label(item: X12Transaction) -> None:
    assert FMT.label("B2/04") == "element B2/04"
    assert FMT.locate(item, "B2/04") == Location(file="in.edi", line=4, column=11, segment="segment 4 B2",
                                                 element="B204", path="B2/04")
    assert str(FMT.locate(item, "B2/04")) == "in.edi:4:11 (segment 4 B2-B204)"
    assert str(FMT.locate(item, "MEA/04-2")) == "in.edi:21:17 (segment 21 MEA-MEA04-2)"
    assert str(FMT.locate(item, "ISA/06")) == "in.edi:1:36 (segment 1 ISA-ISA06)"
    assert FMT.locate(item, "LX/01") == Location(file="in.edi", line=3, column=1, path="LX/01")  # no LX: the ST
    loop = FMT.compile_repeat("S5")(item)[1]
    assert FMT.locate(loop, "G62/01") == Location(file="in.edi", line=11, column=1, path="G62/01")  # the S5


@pytest.mark.parametrize(("path", "message"), [
    ("B2", "expected an X12 path such as B2/04, N1[CN]/N3/01, L11[02=BM]/01 or AT8/03-1 (a segment, then /, then an "
           "element number), found 'B2'"),
    ("B2/4a", "expected an X12 path such as B2/04, N1[CN]/N3/01, L11[02=BM]/01 or AT8/03-1, found 'B2/4a'"),
    ("b2/04", "expected an X12 path such as B2/04, N1[CN]/N3/01, L11[02=BM]/01 or AT8/03-1, found 'b2/04' "
              "(segment ids are upper case)"),
    ("B2/00", "element and component numbers start at 1 (B2/04, AT8/03-1), found 'B2/00'"),
    ("AT8/03-0", "element and component numbers start at 1 (B2/04, AT8/03-1), found 'AT8/03-0'"),
    ("N1[]/02", "expected an X12 path such as B2/04, N1[CN]/N3/01, L11[02=BM]/01 or AT8/03-1, found 'N1[]/02'"),
    ("GS/N1/02", "envelope segments (ISA, GS, ST, SE, GE, IEA) are read from the transaction's envelope and hold no "
                 "other segments: write ISA/06 or GS/02, found 'GS/N1/02'"),
])
def test_path_syntax_errors(path: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        FMT.compile_path(path)
    assert str(caught.value) == message


@pytest.mark.parametrize(("path", "message"), [
    ("S5/01", "expected an X12 loop such as S5, HL[03=P] or S5[CU]/L5: segments only, no element number, "
              "found 'S5/01'"),
    ("SE", "expected an X12 loop such as S5, HL[03=P] or S5[CU]/L5: envelope segments are not loops, found 'SE'"),
])
def test_loop_syntax_errors(path: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        FMT.compile_repeat(path)
    assert str(caught.value) == message


@pytest.mark.parametrize(("version", "path", "message"), [
    ("004010", "B22/04", "expected a segment of X12 004010, found 'B22' (did you mean 'B2'?)"),
    ("004010", "B2/13", "element 13 of B2: B2 has 12 elements at most in X12 004010"),
    ("004010", "L11/05", "element 05 of L11: L11 has 3 elements at most in X12 004010"),
    ("005010", "N1[12=CN]/02", "qualifier element 12 of N1: N1 has 6 elements at most in X12 005010"),
    ("003040", "ST/03", "element 03 of ST: ST has 2 elements at most in X12 003040"),
    ("004011", "B2/04", "expected an X12 version among 003040, 004010, 005010 (source.version), found '004011'; "
                        "remove source.version to skip the path checks"),
])
def test_paths_are_checked_against_the_version(version: str, path: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        X12Format().compile_path(path, version=version)
    assert str(caught.value) == message


def test_versions_known_to_the_table() -> None:
    table = dictionary()
    assert table.versions == ("003040", "004010", "005010")
    assert table.segments["005010"]["L11"] == 5 and table.segments["005010"]["ST"] == 3
    for version in table.versions:
        for segments in table.transaction_sets[version].values():
            assert set(segments) <= set(table.segments[version])
    for path in ("L11/05", "N4/07", "ST/03", "L4/06"):
        X12Format().compile_path(path, version="005010X214")  # an implementation suffix is ignored


HEAD = 'mapping: test/x12\nsource: {format: x12, version: "004010"}\ntarget: shipment\n'


def test_load_time_path_errors_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + textwrap.dedent("""\
        fields:
          reference: B22/04
          destination_locker: B2/13
          recipient.name: N1[CN]
          recipient.phone: "N1[12=CN]/02"
          parcels:
            repeat: S5/01
            fields:
              parcel_id: "L11[02=2I]/01"
              weight_g: {op: unit, of: AT8/09, from: kg, to: g}
        """), "utf-8")
    assert [str(e).replace(str(path), "m.yaml") for e in validate_mapping(path)] == [
        "m.yaml:5:14: error: fields.reference: path B22/04: expected a segment of X12 004010, found 'B22' "
        "(did you mean 'B2'?)",
        "m.yaml:6:23: error: fields.destination_locker: path B2/13: element 13 of B2: B2 has 12 elements at most in "
        "X12 004010",
        "m.yaml:7:19: error: fields.recipient.name: path N1[CN]: expected an X12 path such as B2/04, N1[CN]/N3/01, "
        "L11[02=BM]/01 or AT8/03-1 (a segment, then /, then an element number), found 'N1[CN]'",
        "m.yaml:8:20: error: fields.recipient.phone: path N1[12=CN]/02: qualifier element 12 of N1: N1 has 6 "
        "elements at most in X12 004010",
        "m.yaml:10:13: error: fields.parcels.repeat: repeat S5/01: expected an X12 loop such as S5, HL[03=P] or "
        "S5[CU]/L5: segments only, no element number, found 'S5/01'",
        "m.yaml:13:32: error: fields.parcels.fields.weight_g.of: path AT8/09: element 09 of AT8: AT8 has 7 elements "
        "at most in X12 004010",
    ]


def test_an_unknown_version_is_one_error_not_one_per_path(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(HEAD.replace("004010", "4010") + "fields:\n  reference: B2/04\n  destination_locker: L11/01\n",
                    "utf-8")
    assert [str(e).replace(str(path), "m.yaml") for e in validate_mapping(path)] == [
        "m.yaml:5:14: error: fields.reference: path B2/04: expected an X12 version among 003040, 004010, 005010 "
        "(source.version), found '4010'; remove source.version to skip the path checks"]


def test_a_mapping_without_version_skips_the_table(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("mapping: test/x12\nsource: {format: x12}\ntarget: json\nfields:\n  x: ZZZ/40\n", "utf-8")
    assert validate_mapping(path) == []


def test_read_yields_transactions_with_their_envelope(x12: Any, write: Any) -> None:
    text = x12.file(
        x12.interchange(x12.group(x12.tender("0001"), x12.tender("0002", count=4)), after="\n"),
        "N1*CN*stray~\n",
        x12.interchange(x12.group(x12.tender("0001"), functional="QM", version="005010"), control=2,
                        version="00501", es="|", term="\n"))
    path = write(text)
    records = list(FMT.read(path))
    assert [type(r).__name__ for r in records] == ["X12Transaction", "X12Transaction", "X12Stray", "X12Transaction"]
    first, second, stray, third = records
    assert (first.kind, first.control, first.sender, first.receiver, first.interchange_control,
            first.group_control, first.functional_id, first.version, first.line) == (
        "204", "0001", "ACMETMS", "LOCKERHUB", "000000001", "1", "SM", "004010", 3)
    assert first.problem is None and first.errors == []
    assert str(second.problem) == (f"{path}:24:4 (segment 24 SE-SE01): error: transaction set 0002: segment count: "
                                   "expected 11, found 4")
    assert isinstance(stray, X12Stray) and str(stray.problem).startswith(
        f"{path}:27:1 (segment 27 N1): error: segment outside an interchange")
    assert (third.functional_id, third.version, third.interchange_control) == ("QM", "005010", "000000002")
    assert first.raw.startswith("ST*204*0001~B2**ACME**SHP-1**PP~") and first.raw.endswith("SE*11*0001~")
    assert third.raw.startswith("ST|204|0001\nB2||ACME")


def test_read_refuses_transaction_sets_the_mapping_does_not_read(x12: Any, write: Any) -> None:
    text = x12.interchange(x12.group(x12.tender("0001")), x12.group(["ST*997*0002", "AK1*SM*1", "SE*3*0002"],
                                                                    control=2, functional="FA"), after="\n")
    records = list(FMT.read(write(text), transaction_sets=["204"]))
    assert records[0].problem is None
    assert str(records[1].problem).endswith("(segment 16 ST-ST01): error: transaction set 0002: not read by this "
                                            "mapping: expected 204, found 997")
    assert list(FMT.read(write(text), transaction_sets="997"))[1].problem is None


def test_golden_style_records_through_a_mapping(mapping_path: Path, x12: Any, write: Any) -> None:
    mapping = load_mapping(mapping_path)
    path = Path(__file__).parents[3] / "mappings" / "acme-x12" / "tests" / "good_204.edi"
    results = [r for record in FMT.read(path) for r in mapping.map_document(record, extra={"partner": "acme"})]
    assert [r.value.reference for r in results] == ["ACME-204-0001", "ACME-204-0002"]
    assert [len(r.value.parcels) for r in results] == [1, 2]


# --------------------------------------------------------------------------- property: compiled == reference

_TAGS = ["N1", "N3", "L11", "S5", "L5", "AT8"]
_CODES = ["CN", "SH", "ZZ", "BM", ""]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.tuples(st.sampled_from(_TAGS), st.lists(st.sampled_from(_CODES + ["x", "y"]), min_size=1,
                                                                  max_size=4)), min_size=0, max_size=20),
       steps=st.lists(st.tuples(st.sampled_from(_TAGS), st.sampled_from([None, *_CODES[:-1]]),
                                st.sampled_from([None, 1, 2])), min_size=1, max_size=3),
       element=st.integers(min_value=1, max_value=5))
def test_compiled_paths_read_what_the_reference_reads(x12: Any, body: list[tuple[str, list[str]]],
                                                      steps: list[tuple[str, str | None, int | None]],
                                                      element: int) -> None:
    segments = ["*".join([tag, *elements]) for tag, elements in body]
    text = x12.interchange(x12.group(x12.tender(body=segments)))
    interchange = parse(text).interchanges[0]
    record = X12Transaction(interchange, interchange.groups[0], interchange.groups[0].transactions[0], file=None)
    parts = [tag + (f"[{f'{q:02d}=' if q else ''}{code}]" if code else "") for tag, code, q in steps]
    path = "/".join(parts) + f"/{element:02d}"
    assert FMT.compile_path(path)(record) == FMT.read_path(record, path)
    for loop in FMT.compile_repeat("/".join(parts))(record):
        assert FMT.compile_path("N1/02")(loop) == FMT.read_path(loop, "N1/02")
