"""214, 990, 997 and 999: exact text for small cases, codes from the YAML tables, acknowledgements of parsed files."""

from __future__ import annotations

import datetime as dt

import pytest
from lockerhub_x12.envelope import parse
from lockerhub_x12.messages import (
    ElementNote,
    GroupAck,
    SegmentNote,
    TransactionAck,
    acknowledge,
    at7_code,
    build_214,
    build_990,
    build_997,
    build_999,
    functional_id,
    table_214,
    time_code,
)
from lockerhub_x12.writer import FunctionalGroup, TransactionSet, WriteDelimiters, write_interchange, write_segments

from lockerhub.errors import Location, MappingError, ValidationError
from lockerhub.model import ParcelEvent
from lockerhub.model.status import ParcelStatus
from lockerhub.plugins.protocols import StatusUpdate

CET = dt.timezone(dt.timedelta(hours=1))
D = WriteDelimiters(newline="\n")


def body(txn: TransactionSet) -> str:
    """ST .. SE of one transaction set, one segment per line."""
    segments = [["ST", txn.kind, txn.control_text], *txn.segments, ["SE", str(len(txn.segments) + 2),
                                                                      txn.control_text]]
    return write_segments(segments, D)


def update(status: str, when: dt.datetime, *, parcel: str = "P1", locker: str | None = None,
           reason: str | None = None) -> StatusUpdate:
    event = ParcelEvent(status=ParcelStatus(status), occurred_at=when, source="hub", locker_id=locker, reason=reason)
    return StatusUpdate(partner="acme", shipment_reference="SHP-1", parcel_id=parcel, event=event)


def test_214_exact_text() -> None:
    updates = [update("DEPOSITED", dt.datetime(2026, 3, 14, 9, 5, tzinfo=CET), locker="WAW-01"),
               update("COLLECTED", dt.datetime(2026, 3, 15, 18, 40, tzinfo=dt.UTC), locker="XYZ-99")]
    txn = build_214("SHP-1", updates, control=1, scac="LKHB", cities={"WAW-01": ("Warszawa", "PL")})
    assert body(txn) == ("ST*214*0001~\n"
                         "B10*P1*SHP-1*LKHB~\n"
                         "LX*1~\n"
                         "AT7*X1*NS***20260314*0905*01~\n"
                         "MS1*Warszawa**PL~\n"
                         "L11*P1*2I~\n"
                         "LX*2~\n"
                         "AT7*D1*NS***20260315*1840*UT~\n"
                         "L11*P1*2I~\n"
                         "SE*10*0001~\n")
    assert functional_id("214") == "QM"


def test_at7_codes_come_from_the_yaml_table() -> None:
    assert {s: at7_code(s) for s in ("DEPOSITED", "COLLECTED", "IN_TRANSIT", "HANDED_OVER", "PICKUP_EXPIRED",
                                     "EXCEPTION")} == {"DEPOSITED": "X1", "COLLECTED": "D1", "IN_TRANSIT": "X6",
                                                       "HANDED_OVER": "AF", "PICKUP_EXPIRED": "AP",
                                                       "EXCEPTION": "A9"}
    assert at7_code("BOOKED") is None
    assert all(isinstance(s, ParcelStatus) for s in table_214().codes)


@pytest.mark.parametrize(("offset", "code"), [(0, "UT"), (2, "02"), (12, "12"), (-5, "20"), (-1, "24"),
                                              (-12, "13"), (5.5, "LT")])
def test_time_code_from_the_events_offset(offset: float, code: str) -> None:
    when = dt.datetime(2026, 3, 14, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=offset)))
    assert time_code(when) == code


def test_214_refuses_a_status_it_cannot_send_and_other_shipments() -> None:
    when = dt.datetime(2026, 3, 14, 9, 5, tzinfo=CET)
    with pytest.raises(MappingError, match="status BOOKED is not sent in an X12 214"):
        build_214("SHP-1", [update("BOOKED", when)], control=1)
    with pytest.raises(MappingError, match="214 for one shipment"):
        build_214("SHP-2", [update("DEPOSITED", when)], control=1)


def test_214_with_a_delimiter_in_a_city_is_an_error_when_written() -> None:
    txn = build_214("SHP-1", [update("DEPOSITED", dt.datetime(2026, 3, 14, 9, 5, tzinfo=CET), locker="L1")],
                    control=1, cities={"L1": "Bielsko*Biala"})
    with pytest.raises(ValidationError, match=r"segment 7 MS1-MS101"):
        write_interchange("LOCKERHUB", "ACMETMS", [FunctionalGroup("QM", 1, [txn])], control_number=1,
                          date=dt.date(2026, 3, 14), time=dt.time(9, 30))


def test_990_accept_and_decline() -> None:
    accept = build_990("SHP-1", accepted=True, control=1, date=dt.date(2026, 3, 14), scac="LKHB")
    assert body(accept) == "ST*990*0001~\nB1*LKHB*SHP-1*20260314*A~\nSE*3*0001~\n"
    decline = build_990("SHP-2", accepted=False, control=2, date=dt.date(2026, 3, 14))
    assert body(decline) == "ST*990*0002~\nB1**SHP-2*20260314*D~\nSE*3*0002~\n"
    assert functional_id("990") == "GF"


GROUP = GroupAck("SM", "7", "005010", [
    TransactionAck("204", "0001"),
    TransactionAck("204", "0002", "R", ("5",), (SegmentNote("L11", 3, "8", (ElementNote(1, "7"),)),)),
    TransactionAck("204", "0003", "R", ("4",)),
], included=3)


def test_997_exact_text() -> None:
    assert body(build_997(GROUP, control=9)) == ("ST*997*0009~\n"
                                                 "AK1*SM*7~\n"
                                                 "AK2*204*0001~\n"
                                                 "AK5*A~\n"
                                                 "AK2*204*0002~\n"
                                                 "AK3*L11*3**8~\n"
                                                 "AK4*1**7~\n"
                                                 "AK5*R*5~\n"
                                                 "AK2*204*0003~\n"
                                                 "AK5*R*4~\n"
                                                 "AK9*P*3*3*1~\n"
                                                 "SE*12*0009~\n")
    assert functional_id("997") == "FA"


def test_999_exact_text() -> None:
    group = GroupAck("SM", "7", "005010", [TransactionAck(
        "204", "0002", "R", ("5",), (SegmentNote("AT8", 6, "8", (ElementNote(2, "7", component=1),)),))])
    assert body(build_999(group, control=1)) == ("ST*999*0001~\n"
                                                 "AK1*SM*7*005010~\n"
                                                 "AK2*204*0002~\n"
                                                 "IK3*AT8*6**8~\n"
                                                 "IK4*2:1**7~\n"
                                                 "IK5*R*5~\n"
                                                 "AK9*R*1*1*0~\n"
                                                 "SE*8*0001~\n")


def test_group_status() -> None:
    assert GroupAck("SM", "1", transactions=[TransactionAck("204", "1")]).status == "A"
    assert GroupAck("SM", "1", transactions=[TransactionAck("204", "1", "E")]).status == "E"
    assert GroupAck("SM", "1", transactions=[TransactionAck("204", "1", "R")]).status == "R"
    assert GroupAck("SM", "1", transactions=[TransactionAck("204", "1")], codes=("5",)).status == "R"


def test_997_for_a_file_with_one_bad_transaction_rejects_it_and_accepts_the_others(x12) -> None:
    text = x12.interchange(x12.group(x12.tender("0001", "SHP-1"), x12.tender("0002", "SHP-2", count=99),
                                     x12.tender("0003", "SHP-3")))
    doc = parse(text, file="in.edi")
    assert len(doc.errors) == 1
    (group,) = acknowledge(doc)
    assert [(t.control, t.status, t.codes) for t in group.transactions] == [
        ("0001", "A", ()), ("0002", "R", ("4",)), ("0003", "A", ())]
    text = body(build_997(group, control=1))
    assert "AK2*204*0002~\nAK5*R*4~\n" in text and "AK2*204*0001~\nAK5*A~\n" in text
    assert "AK9*P*3*3*2~" in text


def test_business_rejections_are_r_with_segment_and_element_errors(x12) -> None:
    doc = parse(x12.interchange(x12.group(x12.tender("0001", "SHP-1"), x12.tender("0002", "SHP-2"))), file="in.edi")
    l11 = doc.interchanges[0].groups[0].transactions[1].segments[1]
    assert l11.tag == "L11"
    unknown_locker = ValidationError("unknown locker", location=Location(
        file="in.edi", segment=f"segment {l11.number} L11", element="L1101"))
    (group,) = acknowledge(doc, rejected={("000000001", "1", "0002"): [unknown_locker]})
    assert [t.status for t in group.transactions] == ["A", "R"]
    assert group.transactions[1].segments == (SegmentNote("L11", 3, "8", (ElementNote(1, "7"),)),)
    assert body(build_999(group, control=1)).splitlines()[5:8] == ["IK3*L11*3**8~", "IK4*1**7~", "IK5*R*5~"]


def test_group_errors_go_to_ak9(x12) -> None:
    doc = parse(x12.interchange(x12.group(x12.tender("0001"), count=2)))
    (group,) = acknowledge(doc)
    assert group.codes == ("5",) and group.status == "R" and group.included == 2
    assert body(build_997(group, control=1)).splitlines()[-2] == "AK9*R*2*1*1*5~"
