"""lockerhub_edifact.format: the ``edifact`` path syntax, loops, positions, and load-time path errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lockerhub_edifact.directory import VERSIONS, directory, normalize_version
from lockerhub_edifact.envelope import EdifactMessage, parse
from lockerhub_edifact.format import EdifactFormat, SegmentLoop, parse_path

from lockerhub.errors import ConfigError, Location
from lockerhub.mapping import load_mapping, validate_mapping

BODY = ["BGM+610+SHP1:2+9", "DTM+137:202601050800:203", "DTM+2:20260106:102", "RFF+ZZZ:KRA01M",
        "NAD+CZ+++ACME Dispatch", "COM+0048000000099:TE",
        "NAD+CN+++Test?+Recipient:Annex+Test Street 1+Warszawa++00-001+PL",
        "COM+recipient@example.invalid:EM", "COM+0048000000001:TE",
        "GID+1+1:PK", "MEA+AAE+AAB+KGM:1.5", "GIN+BJ+005901234500000016",
        "GID+2+2:PK", "MEA+AAE+AAB+KGM:2.5", "PCI+33E", "GIN+BJ+005901234500000023"]


@pytest.fixture
def message(build: Any) -> EdifactMessage:
    body = ["UNG+IFTMIN+ACME+LH+260105:0800+G7+UN+D:04A", *build.message("42", *BODY), "UNE+1+G7"]
    (msg,) = parse(build.interchange(body, ref="1001"), file="in/m.edi").messages()
    return msg


def read(item: Any, path: str, version: str | None = "D04A") -> Any:
    return EdifactFormat().compile_path(path, version=version)(item)


@pytest.mark.parametrize(("path", "value"), [
    ("BGM/02", "SHP1:2"),  # a composite element reads whole
    ("BGM/02-1", "SHP1"),
    ("BGM/02-2", "2"),
    ("BGM/04", None),  # absent element
    ("NAD[CN]/04-1", "Test+Recipient"),
    ("NAD[CN]/04-2", "Annex"),
    ("NAD[CZ]/04", "ACME Dispatch"),
    ("NAD[XX]/04", None),  # no such qualifier
    ("DTM[137]/01-2", "202601050800"),  # the qualifier is component 1 of a composite element 1
    ("DTM[2]/C507/2380", "20260106"),
    ("NAD[CN]/C080/3036", "Test+Recipient"),
    ("NAD[CN]/3036", "Test+Recipient"),  # a component named without its composite
    ("NAD[CN]/C059/3042", "Test Street 1"),
    ("NAD[CN]/3164", "Warszawa"),
    ("NAD[CN]/3207", "PL"),
    ("BGM/C106/1004", "SHP1"),
    ("BGM/C106", "SHP1:2"),
    ("RFF[ZZZ]/C506/1154", "KRA01M"),
    ("COM[01-2=TE]/01-1", "0048000000099"),
    ("COM[3155=TE]/3148", "0048000000099"),
    ("NAD[CN]/COM[3155=TE]/3148", "0048000000001"),  # inside the consignee's NAD loop
    ("NAD[CN]/COM[3155=EM]/3148", "recipient@example.invalid"),
    ("NAD[CZ]/COM[3155=EM]/3148", None),
    ("NAD[CZ|CN]/04", "ACME Dispatch"),
    ("NAD[XX|CN]/04-2", "Annex"),
    ("GID[2]/GIN/C208/7402", "005901234500000023"),
    ("UNB/02-1", "ACMETMS"),
    ("UNB/S003/0010", "LOCKERHUB"),
    ("UNB/05", "1001"),
    ("UNZ/02", "1001"),
    ("UNG/05", "G7"),
    ("UNE/01", "1"),
    ("UNH/01", "42"),
    ("UNH/S009/0065", "IFTMIN"),
    ("UNT/01", str(len(BODY) + 2)),
])
def test_paths_read_values(message: EdifactMessage, path: str, value: str | None) -> None:
    assert read(message, path) == value
    assert EdifactFormat().read_path(message, path) == value  # uncompiled: the directory the message declares


def test_the_directory_decides_where_a_named_element_is(message: EdifactMessage) -> None:
    assert read(message, "BGM/1004", "D96A") == "SHP1:2"  # D.96A: the simple element 2
    assert read(message, "BGM/1004", "D.96A") == "SHP1:2"
    assert read(message, "BGM/1004", "D04A") == "SHP1"  # D.04A: C106 component 1
    with pytest.raises(ValueError, match="BGM has no data element 'C106' in D96A"):
        read(message, "BGM/C106/1004", "D96A")


def test_loops_run_to_the_next_trigger_and_paths_inside_read_the_loop(message: EdifactMessage) -> None:
    fmt = EdifactFormat()
    loops = fmt.compile_repeat("GID", version="D04A")(message)
    assert [[s.tag for s in loop.segments] for loop in loops] == [["GID", "MEA", "GIN"], ["GID", "MEA", "PCI", "GIN"]]
    weight = fmt.compile_path("MEA[AAE]/C174/6314", version="D04A")
    assert [weight(loop) for loop in loops] == ["1.5", "2.5"]
    assert fmt.compile_path("UNH/01", version="D04A")(loops[1]) == "42"  # the envelope is still there
    assert [len(fmt.compile_repeat("GID[2]", version="D04A")(message))] == [1]
    scoped = fmt.compile_repeat("GID[2]/GIN", version="D04A")(message)
    assert [[s.tag for s in loop.segments] for loop in scoped] == [["GIN"]]
    scoped = fmt.compile_repeat("GID[2]/GIN", version="D04A")(message)
    assert [[s.tag for s in loop.segments] for loop in scoped] == [["GIN"]]
    nested = fmt.compile_repeat("GIN")(loops[1])
    assert isinstance(nested[0], SegmentLoop) and nested[0].message is message
    assert fmt.compile_repeat("CNI")(message) == []


def test_cni_loops_for_iftsta(build: Any) -> None:
    body = ["BGM+23+ST1+9", "CNI+1+SHP1", "STS+1+21", "CNI+2+SHP2", "STS+1+23", "RFF+CU:X"]
    (msg,) = parse(build.interchange(build.message("1", *body, kind="IFTSTA:D:04A:UN"))).messages()
    fmt = EdifactFormat()
    loops = fmt.compile_repeat("CNI", version="D04A")(msg)
    assert [fmt.compile_path("CNI/C503/1004", version="D04A")(x) for x in loops] == ["SHP1", "SHP2"]
    assert [fmt.compile_path("STS/C555/4405", version="D04A")(x) for x in loops] == ["21", "23"]
    assert [fmt.compile_path("STS/C555/9011", version="D96A")(x) for x in loops] == ["21", "23"]


def test_locate_gives_the_element_and_component_position(message: EdifactMessage) -> None:
    fmt = EdifactFormat()
    fmt.compile_path("NAD[CN]/C080/3036", version="D04A")
    assert fmt.locate(message, "NAD[CN]/C080/3036") == Location(
        file="in/m.edi", line=11, column=10, segment="segment 10 NAD", element="NAD04")
    assert fmt.locate(message, "NAD[CN]/04-2") == Location(  # uncompiled: the message's own UNH version
        file="in/m.edi", line=11, column=26, segment="segment 10 NAD", element="NAD04")
    assert fmt.locate(message, "NAD[XX]/04") == Location(file="in/m.edi", line=4, column=1, segment="segment 3 UNH")
    assert str(fmt.locate(message, "UNT/01")) == "in/m.edi:21:5 (segment 20 UNT-UNT01)"
    assert fmt.label("NAD[CN]/04-1") == "element NAD[CN]/04-1"


@pytest.mark.parametrize(("path", "version", "message"), [
    ("BGM", "D04A", "the element to read is missing in 'BGM'"),
    ("bgm/02", "D04A", "a segment path like BGM/02, NAD[CN]/04-1 or NAD[CN]/C080/3036, found 'bgm/02'"),
    ("NDA[CN]/04", "D04A", "unknown segment 'NDA' in directory D04A (did you mean 'NAD'?)"),
    ("NAD/10", "D04A", "NAD has 9 elements in D04A, found element 10"),
    ("NAD/01-2", "D04A", "NAD element 01 is the 3035 simple data element (no components) in D04A, found component 2"),
    ("NAD/04-7", "D04A", "NAD element 04 (C080 composite) has 6 components in D04A, found component 7"),
    ("NAD/3063", "D04A", "NAD has no data element '3063' in D04A (did you mean '3036'?)"),
    ("NAD/C080/3124", "D04A", "C080 has no component '3124' in D04A"),
    ("NAD/3164/1", "D04A", "a segment path like BGM/02"),
    ("NAD/C080", None, "data element names in NAD need the directory: set source.version"),
    ("HAN/C524/4079", "D04A", "no data element names for HAN in D04A"),
    ("NAD[]/04", "D04A", "a qualifier value in [...]"),
    ("UNB[X]/01", "D04A", "no qualifier on envelope segment UNB"),
    ("NAD/UNB/01", "D04A", "envelope segment UNB is not inside a loop"),
    ("UNH/BGM/01", "D04A", "envelope segment UNH cannot start a loop"),
    ("NAD[CN|]/04", "D04A", "a qualifier value in [...]"),
    ("NAD/C080/3036/1", "D04A", "a segment path like BGM/02"),
    ("NAD/00", "D04A", "positions count from 1"),
    ("BGM/02", "D05B", "EDIFACT directory D96A, D04A, found 'D05B'"),
])
def test_bad_paths_say_what_was_expected(path: str, version: str | None, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_path(path, version=version)
    assert message in str(info.value)


def test_positional_paths_need_no_version_and_accept_any_tag() -> None:
    assert parse_path("ZZZ/03-2").element == 3
    assert parse_path("HAN/01", version="D04A").tag == "HAN"  # a transport segment without element data


def test_loop_paths() -> None:
    with pytest.raises(ValueError, match="without an element"):
        parse_path("GID/01", loop=True)
    with pytest.raises(ValueError, match="cannot start a loop"):
        parse_path("UNH", loop=True)


def test_directory_data_is_complete() -> None:
    assert normalize_version("d:04a") == "D04A" and normalize_version(None) is None
    for version in VERSIONS:
        book = directory(version)
        for tag in ("BGM", "DTM", "NAD", "GID", "MEA", "DIM", "RFF", "LOC", "STS", "CNI", "GIN", "TDT", "PCI", "FTX",
                    "CNT", "UNH", "UNB", "UNT"):
            assert book.named(tag).elements, (version, tag)
    assert directory("D04A").named("NAD").resolve(["C080", "3036"], "D04A") == (4, 1)


def test_load_time_path_errors_have_exact_lines(tmp_path: Path) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(
        "mapping: acme-edifact/bad\n"
        "source: {format: edifact, version: D04A}\n"
        "target: shipment\n"
        "fields:\n"
        "  reference: {op: path, path: BGM/C106/1040}\n"
        "  recipient.name: NDA[CN]/C080/3036\n"
        "  parcels:\n"
        "    repeat: GID/01\n"
        "    fields:\n"
        "      parcel_id: GIN[BJ]/02-9\n"
        "      weight_g: {op: unit, of: 'MEA[AAE]/C174/6314', from: kg, to: g}\n"
        "      dimensions.length_mm: DIM/C211/6168\n"
        "      dimensions.width_mm: DIM/C211/6140\n"
        "      dimensions.height_mm: DIM/C211/6008\n", "utf-8")
    file = str(mapping)
    assert [str(e) for e in validate_mapping(mapping)] == [
        f"{file}:5:31: error: fields.reference.path: path BGM/C106/1040: C106 has no component '1040' in D04A "
        "(did you mean '1004'?)",
        f"{file}:6:19: error: fields.recipient.name: path NDA[CN]/C080/3036: unknown segment 'NDA' in directory "
        "D04A (did you mean 'NAD'?)",
        f"{file}:8:13: error: fields.parcels.repeat: repeat GID/01: a loop is a segment (GID, GID[qualifier], "
        "NAD[CN]/CTA), without an element: found 'GID/01'",
        f"{file}:10:18: error: fields.parcels.fields.parcel_id: path GIN[BJ]/02-9: GIN element 02 (C208 "
        "composite) has 2 components in D04A, found component 9"]


def test_the_repository_mapping_loads_and_maps_the_golden_input(iftmin_mapping: Path) -> None:
    mapping = load_mapping(iftmin_mapping)
    source = iftmin_mapping.parent / "tests" / "iftmin-basic.edi"
    (item,) = list(mapping.format.read(source))
    result = mapping.map(item, extra={"partner": "acme-edifact"})
    assert result.errors == []
    assert result.value.recipient.name == "Test Recipient+Co's Annex"
    assert [p.weight_g for p in result.value.parcels] == [1500, 800]
    with pytest.raises(ConfigError, match="expected chunk_size or nothing .*, found delimiter"):
        list(mapping.format.read(source, delimiter=";"))
