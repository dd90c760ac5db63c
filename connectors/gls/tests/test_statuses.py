"""statuses.yaml: every GLS shipmentStatus mapped, the simulator's codes among them, the docs table in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lockerhub_gls.connector import crosswalk

from lockerhub.errors import MappingError
from lockerhub.model import ParcelStatus
from lockerhub.simulator import EventCode
from lockerhub.simulator.vendors.gls import SHIPMENT_STATUS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "vendors" / "gls.md"
ROW = re.compile(r"^\| `([A-Z_]+)` \| ([A-Z_]+) \| ([a-z_]+|—) \|", re.MULTILINE)


def test_every_code_the_simulator_emits_is_mapped() -> None:
    table = crosswalk()
    assert table.source == "gls" and len(table.codes) == 33  # 32 public shipmentStatus values + BOOKING_CONFIRMED
    assert set(SHIPMENT_STATUS) == set(EventCode)
    assert set(SHIPMENT_STATUS.values()) <= set(table.codes)


@pytest.mark.parametrize(("code", "status", "reason"), [
    ("BOOKING_CREATED", ParcelStatus.CREATED, None),
    ("BOOKING_CONFIRMED", ParcelStatus.BOOKED, None),
    ("BOOKING_EXPIRED", ParcelStatus.CANCELLED, None),
    ("COURIER_DELIVERED", ParcelStatus.DEPOSITED, None),
    ("CONSIGNEE_COLLECTED", ParcelStatus.COLLECTED, None),
    ("CONSIGNEE_COLLECTION_EXPIRED", ParcelStatus.PICKUP_EXPIRED, None),
    ("COURIER_COLLECTED_EXPIRED", ParcelStatus.RETURNING, None),
    ("BOOKING_REJECTED_INVALID_LOCKER", ParcelStatus.REJECTED, "unknown_locker"),
    ("DELIVERY_COMPARTMENT_BROKEN", ParcelStatus.EXCEPTION, "door_fault"),
])
def test_codes_map_to_canonical(code: str, status: ParcelStatus, reason: str | None) -> None:
    mapped = crosswalk().map(code)
    assert (mapped.status, mapped.reason) == (status, reason)


def test_an_unknown_code_is_a_mapping_error_never_a_guess() -> None:
    with pytest.raises(MappingError, match="unknown gls status code") as info:
        crosswalk().map("BOOKING_TELEPORTED")
    assert info.value.expected == "one of the 33 codes in statuses.yaml"


def test_the_docs_table_lists_exactly_the_crosswalk() -> None:
    documented = {code: (status, None if reason == "—" else reason) for code, status, reason in
                  ROW.findall(DOCS.read_text("utf-8"))}
    assert documented == {code: (str(m.status), m.reason) for code, m in crosswalk().codes.items()}
