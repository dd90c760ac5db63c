"""The status crosswalk: every ShipX status maps, nothing unknown is guessed."""

from __future__ import annotations

import pytest
import responses
from lockerhub_inpost import InpostConfig, InpostConnector
from lockerhub_inpost.connector import crosswalk

from lockerhub.errors import MappingError
from lockerhub.model import ParcelStatus
from lockerhub.simulator.state import EventCode
from lockerhub.simulator.vendors import inpost as simulator

# shared/reference/VENDORS.md, section 1.A (InPost ShipX statuses)
VENDORS_MD = (
    "created", "offers_prepared", "offer_selected", "confirmed", "dispatched_by_sender", "collected_from_sender",
    "taken_by_courier", "adopted_at_source_branch", "sent_from_source_branch", "adopted_at_sorting_center",
    "sent_from_sorting_center", "adopted_at_target_branch", "out_for_delivery", "ready_to_pickup",
    "pickup_reminder_sent", "delivered", "pickup_time_expired", "avizo", "returned_to_sender", "canceled",
    "claim_rejected", "stack_in_box_machine", "stack_parcel_pickup_time_expired", "undelivered",
)
# shared/reference/VENDORS.md, section 5 (crosswalk starting point)
SECTION_5 = {
    "created": ParcelStatus.CREATED, "offers_prepared": ParcelStatus.CREATED, "confirmed": ParcelStatus.BOOKED,
    "dispatched_by_sender": ParcelStatus.HANDED_OVER, "taken_by_courier": ParcelStatus.HANDED_OVER,
    "adopted_at_sorting_center": ParcelStatus.IN_TRANSIT, "sent_from_source_branch": ParcelStatus.IN_TRANSIT,
    "sent_from_sorting_center": ParcelStatus.IN_TRANSIT, "out_for_delivery": ParcelStatus.IN_TRANSIT,
    "ready_to_pickup": ParcelStatus.DEPOSITED, "stack_in_box_machine": ParcelStatus.DEPOSITED,
    "pickup_reminder_sent": ParcelStatus.REMINDER_SENT, "delivered": ParcelStatus.COLLECTED,
    "pickup_time_expired": ParcelStatus.PICKUP_EXPIRED, "returned_to_sender": ParcelStatus.RETURNING,
    "canceled": ParcelStatus.CANCELLED, "claim_rejected": ParcelStatus.EXCEPTION,
}


def test_every_documented_and_simulated_status_is_listed() -> None:
    table = crosswalk()
    assert table.source == "inpost"
    assert set(VENDORS_MD) <= set(table.codes)
    assert set(table.codes) == set(simulator.STATUSES)
    assert {s for code in EventCode for s in simulator.EVENT_STATUSES[code]} <= set(table.codes)


@pytest.mark.parametrize("code", simulator.STATUSES)
def test_every_code_maps_to_a_canonical_status(code: str) -> None:
    mapped = crosswalk().map(code)
    assert isinstance(mapped.status, ParcelStatus)
    assert (mapped.reason is not None) == (mapped.status == ParcelStatus.EXCEPTION)


def test_section_5_of_the_reference_is_followed() -> None:
    assert {code: crosswalk().map(code).status for code in SECTION_5} == SECTION_5
    assert crosswalk().map("oversized").reason == "oversized" and crosswalk().map("missing").reason == "missing"


@pytest.mark.parametrize("code", ["other", "Delivered", "parcel_exploded", ""])
def test_unknown_codes_raise_mapping_error(code: str) -> None:
    with pytest.raises(MappingError, match="unknown inpost status code"):
        crosswalk().map(code)


@responses.activate(assert_all_requests_are_fired=True)
def test_unknown_status_in_tracking_is_a_mapping_error() -> None:
    base = "https://shipx.test"
    responses.get(f"{base}/v1/shipments/42", json={"id": 42, "status": "other", "tracking_number": "1" * 24,
                                                   "custom_attributes": {"target_point": "KRA012"}})
    responses.get(f"{base}/v1/tracking/{'1' * 24}", json={"tracking_details": [
        {"status": "other", "datetime": "2026-01-05T08:00:00+00:00"},
        {"status": "confirmed", "datetime": "2026-01-05T07:00:00+00:00"}]})
    with InpostConnector(InpostConfig(base_url=base, token="t", organization_id=1)) as conn:
        with pytest.raises(MappingError) as err:
            conn.get_status("42")
    assert err.value.found == "'other'"


@responses.activate(assert_all_requests_are_fired=True)
def test_unknown_point_status_is_a_mapping_error() -> None:
    base = "https://shipx.test"
    responses.get(f"{base}/v1/points", json={"href": f"{base}/v1/points", "count": 1, "page": 1, "per_page": 100,
                                             "items": [{"name": "KRA012", "status": "Exploded"}]})
    with InpostConnector(InpostConfig(base_url=base, token="t", organization_id=1)) as conn:
        with pytest.raises(MappingError, match="point 'KRA012': unknown point status"):
            list(conn.list_lockers())
