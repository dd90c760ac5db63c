"""lockerhub_edifact.messages: IFTSTA, CONTRL and APERAK text for small cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from lockerhub_edifact.envelope import parse
from lockerhub_edifact.messages import HERE, aperak, contrl, edifact_time, iftsta
from lockerhub_edifact.writer import Party, write_interchange

from lockerhub.errors import MappingError
from lockerhub.model import ParcelEvent
from lockerhub.model.crosswalk import load_crosswalk
from lockerhub.plugins.protocols import StatusUpdate

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
HUB, TMS = Party("LOCKERHUB", "ZZ"), Party("ACMETMS", "ZZ")
CET = timezone(timedelta(hours=1))


def update(shipment: str, status: str, at: datetime, *, locker: str | None = None,
           reason: str | None = None) -> StatusUpdate:
    event = ParcelEvent(status=status, occurred_at=at, source="hub", locker_id=locker, reason=reason)
    return StatusUpdate(partner="acme", shipment_reference=shipment, parcel_id="P-" + shipment, event=event)


def body(text: str) -> list[str]:
    return text.splitlines()[2:-2]


def envelope(message: Any, control: int = 1) -> str:
    return write_interchange([message], sender=HUB, recipient=TMS, control=control, prepared=AT, newline="\n")


def test_iftsta_has_one_cni_loop_per_shipment_with_codes_from_the_crosswalk() -> None:
    updates = [update("SHP1", "DEPOSITED", datetime(2026, 1, 5, 9, 30, tzinfo=CET), locker="WAW01M"),
               update("SHP2", "IN_TRANSIT", datetime(2026, 1, 5, 7, 0, tzinfo=UTC)),
               update("SHP1", "COLLECTED", datetime(2026, 1, 5, 18, 5, tzinfo=CET), locker="WAW01M")]
    text = envelope(iftsta(updates, reference="1", document_number="ST1", prepared=AT))
    assert body(text) == [
        "BGM+23+ST1+9'", "DTM+137:202601050800:203'",
        "CNI+1+SHP1'",
        "STS+1+1'", "RFF+CU:SHP1'", "DTM+334:202601050930?+01:303'", "LOC+14+WAW01M'",
        "STS+1+21'", "RFF+CU:SHP1'", "DTM+334:202601051805?+01:303'", "LOC+14+WAW01M'",
        "CNI+2+SHP2'",
        "STS+1+31'", "RFF+CU:SHP2'", "DTM+334:202601050700:203'",
    ]
    assert text.splitlines()[-2] == "UNT+17+1'"
    (m,) = parse(text).messages()
    assert m.problems == [] and m.segments[5].value(1, 2) == "202601050930+01"


def test_exception_reasons_pick_their_code_and_unmapped_statuses_are_errors() -> None:
    m = iftsta([update("S", "EXCEPTION", AT, reason="lost")], reference="1", document_number="D", prepared=AT)
    assert m.body[3].elements == ("1", "49")
    with pytest.raises(MappingError, match="no IFTSTA status event code for LABELLED"):
        iftsta([update("S", "LABELLED", AT)], reference="1", document_number="D", prepared=AT)


def test_the_crosswalk_file_is_valid_against_the_lifecycle() -> None:
    crosswalk = load_crosswalk(HERE / "statuses_iftsta.yaml")
    assert crosswalk.source == "edifact-iftsta" and crosswalk.map("21").status == "COLLECTED"


def test_event_times_keep_whole_hour_offsets_and_convert_others_to_utc() -> None:
    assert edifact_time(datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))) == ["202603011200-05",
                                                                                              "303"]
    assert edifact_time(datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))) == [
        "202603010630", "203"]


def test_aperak_lists_business_rejections_from_the_table() -> None:
    text = envelope(aperak(reference="9", document_number="A1", prepared=AT, acknowledged="SHP1",
                           rejections=["unknown_locker", "no_compartment_fits"]))
    assert body(text) == ["BGM+313+A1+9'", "DTM+137:202601050800:203'", "RFF+ACW:SHP1'",
                          "ERC+LH01'", "FTX+AAO+++unknown locker'",
                          "ERC+LH02'", "FTX+AAO+++no compartment fits the parcel'"]
    assert text.splitlines()[-2] == "UNT+9+9'"
    with pytest.raises(MappingError, match="APERAK rejection reason"):
        aperak(reference="9", document_number="A1", prepared=AT, acknowledged="X", rejections=["nope"])


def test_contrl_rejects_the_bad_message_and_acknowledges_the_others(build: Any) -> None:
    text = build.interchange(build.iftmin("1"), build.iftmin("2", count=13), build.iftmin("3"), ref="77")
    (interchange,) = parse(text, file="in/x.edi").interchanges
    reply = envelope(contrl(interchange, reference="C1"))
    assert body(reply) == [
        "UCI+77+ACMETMS:ZZ+LOCKERHUB:ZZ+7'",
        "UCM+1+IFTMIN:D:04A:UN+7'",
        "UCM+2+IFTMIN:D:04A:UN+4+29+UNT+1'",
        "UCM+3+IFTMIN:D:04A:UN+7'",
    ]
    assert reply.splitlines()[1] == "UNH+C1+CONTRL:D:3:UN'"
    assert parse(reply).errors == []


def test_contrl_rejects_an_interchange_with_its_own_errors_and_can_say_received_only(build: Any) -> None:
    bad = build.interchange(build.iftmin("1"), ref="5", trailer_ref="6")
    (interchange,) = parse(bad).interchanges
    assert body(envelope(contrl(interchange, reference="C1"))) == ["UCI+5+ACMETMS:ZZ+LOCKERHUB:ZZ+4+28+UNZ+2'"]
    (good,) = parse(build.interchange(build.iftmin("1"), ref="5")).interchanges
    assert body(envelope(contrl(good, reference="C2", received_only=True))) == ["UCI+5+ACMETMS:ZZ+LOCKERHUB:ZZ+8'"]


def test_contrl_points_at_body_segments_with_ucs_and_ucd(build: Any) -> None:
    # a character UNOA does not allow, in element 2 of the message's 3rd segment (UNH = 1)
    text = build.interchange(build.message("1", "BGM+610+X+9", "LOC+14+Zürich"), una=None, syntax="UNOA:3")
    (interchange,) = parse(text).interchanges
    assert body(envelope(contrl(interchange, reference="C1"))) == [
        "UCI+1+ACMETMS:ZZ+LOCKERHUB:ZZ+7'", "UCM+1+IFTMIN:D:04A:UN+4+21'", "UCS+3'", "UCD+21+2'"]
