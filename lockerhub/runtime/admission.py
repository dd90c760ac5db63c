"""Admission: the business checks a shipment passes at ingest when its partner is told the outcome per record.

A partner whose connector writes acknowledgements (``write_ack``: X12 997/999, EDIFACT CONTRL/APERAK) hears about
a refused shipment in the acknowledgement of the file that carried it, so the hub decides there and then:

- ``duplicate_shipment``: the partner already sent this shipment reference in another file, or earlier in the same
  file. The same record of the same file read again (a retried ingest after a crash) is not a duplicate: it is
  the same delivery, and it gets the same acknowledgement.
- ``unknown_locker``: the requested locker is not in the vendor's network.
- ``no_compartment_fits``: a parcel is larger or heavier than every size class of the network.

Each refusal is a :class:`~lockerhub.errors.BusinessRejection` located at the source element the refused value came
from (the record's lineage), so an X12 acknowledgement can name the segment (AK3/IK3). When the vendor's network
cannot be listed (unreachable), the locker and size checks are left to booking, which rejects the parcel with the
same reasons and reports it in a status message.

A partner without acknowledgements (CSV drops) is told through status messages instead: its shipments are not
checked here, a re-sent shipment is counted as a duplicate and changes nothing, and booking rejects what does not
fit.
"""

from __future__ import annotations

from sqlalchemy import select

from lockerhub.errors import BusinessRejection, Location, VendorError
from lockerhub.model import Shipment
from lockerhub.plugins.protocols import SourceRecord
from lockerhub.runtime.allocation import fitting_classes
from lockerhub.runtime.hub import Hub
from lockerhub.store import ParcelRow


def _where(record: SourceRecord, *paths: str) -> Location:
    for path in paths:
        try:
            return record.lineage[path]
        except KeyError:
            continue
    return record.location


def check(hub: Hub, partner: str, record: SourceRecord, shipment: Shipment, origin: str) -> list[BusinessRejection]:
    """Every business reason to refuse ``shipment`` (empty: admit it). ``origin`` names the record's delivery
    (file hash and record number)."""
    refused: list[BusinessRejection] = []
    with hub.store.transaction() as s:
        seen = s.scalar(select(ParcelRow.origin).where(
            ParcelRow.partner == partner, ParcelRow.shipment_ref == shipment.reference).limit(1))
    if seen is not None and seen != origin:
        refused.append(BusinessRejection(
            "duplicate_shipment", "duplicate shipment", location=_where(record, "reference"),
            expected="a shipment reference not sent before", found=repr(shipment.reference)))
    try:
        catalog = hub.catalog()
    except VendorError:
        return refused  # the network is unknown right now: booking decides later
    requested = shipment.destination_locker
    if requested and requested not in catalog.lockers:
        refused.append(BusinessRejection(
            "unknown_locker", "unknown locker", location=_where(record, "destination_locker"),
            expected="a locker id of the network", found=repr(requested)))
    for n, parcel in enumerate(shipment.parcels):
        if not fitting_classes(parcel, catalog.size_classes):
            d = parcel.dimensions
            refused.append(BusinessRejection(
                "no_compartment_fits", f"parcel {parcel.parcel_id}: no compartment fits",
                location=_where(record, f"parcels[{n}].dimensions.length_mm", f"parcels[{n}].weight_g"),
                expected="a parcel within the largest size class",
                found=f"{d.length_mm}x{d.width_mm}x{d.height_mm} mm, {parcel.weight_g} g"))
    return refused
