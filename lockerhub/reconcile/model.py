"""What a reconciliation finds: typed discrepancies, the action each gets, and the result of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any


class Kind(StrEnum):
    """The kinds of discrepancy, in report order."""

    MISSING_IN_VENDOR = "missing_in_vendor"  # the hub has an active booking the vendor does not know
    MISSING_IN_HUB = "missing_in_hub"  # the TMS manifest lists a parcel the hub never received
    STATUS_MISMATCH = "status_mismatch"  # the vendor's status maps to a canonical status other than the hub's
    ORPHAN_BOOKING = "orphan_booking"  # a confirmed vendor reservation no hub parcel refers to
    STALE_RESERVATION = "stale_reservation"  # a soft hold past its expiry (or TTL), never confirmed


class Action(StrEnum):
    APPLY_VENDOR_STATUS = "apply_vendor_status"  # the vendor is ahead: its status goes through the event path
    CANCEL_AT_VENDOR = "cancel_at_vendor"  # release a stale hold no hub parcel refers to
    QUARANTINE = "quarantine"  # a person decides; one open item per discrepancy across runs


@dataclass(slots=True)
class Discrepancy:
    """One discrepancy: its kind, the keys that identify it, what each source says, why, and what was done.

    Keys: ``partner``/``shipment_ref``/``parcel_id`` (None for a reservation no parcel refers to),
    ``reservation_id``/``locker_id`` (None when the vendor has nothing). What each source says:
    ``manifest_line``/``manifest_status`` (the row that lists the parcel; no line = not listed),
    ``hub_status`` (None = no such parcel; ``hub_over`` is the status an EXCEPTION interrupted),
    ``vendor_status`` (canonical; ``vendor_state`` as the vendor said it; None = no such reservation).
    """

    kind: Kind
    why: str
    action: Action
    partner: str | None = None
    shipment_ref: str | None = None
    parcel_id: str | None = None
    reservation_id: str | None = None
    locker_id: str | None = None
    manifest_line: int | None = None
    manifest_status: str | None = None
    hub_status: str | None = None
    hub_over: str | None = None
    vendor_status: str | None = None
    vendor_state: str | None = None
    vendor_reason: str | None = None
    outcome: str = ""  # applied | cancelled | q-000123 | would ... (dry run) | resolved | deferred: ...
    parcel_pk: int | None = field(default=None, repr=False)  # the hub's row id, for the action

    @property
    def parcel(self) -> str | None:
        if self.partner is None:
            return None
        return f"{self.partner}/{self.shipment_ref}/{self.parcel_id}"

    def says_manifest(self) -> str:
        if self.partner is None:
            return "-"
        if self.manifest_line is None:
            return "not listed"
        return f"line {self.manifest_line}" + (f": {self.manifest_status}" if self.manifest_status else "")

    def says_hub(self) -> str:
        if self.hub_status is None:
            return "no such parcel" if self.partner is not None else "no parcel refers to it"
        return f"{self.hub_status} over {self.hub_over}" if self.hub_over else self.hub_status

    def says_vendor(self) -> str:
        if self.kind is Kind.MISSING_IN_HUB:
            return "-"  # no hub parcel, so no reservation to look up
        if self.vendor_status is None:
            return "no such reservation"
        state = f" ({self.vendor_state})" if self.vendor_state and self.vendor_state != self.vendor_status else ""
        return f"{self.vendor_status}{state}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind), "partner": self.partner, "shipment_ref": self.shipment_ref,
            "parcel_id": self.parcel_id, "reservation_id": self.reservation_id, "locker_id": self.locker_id,
            "manifest": self.says_manifest(), "hub": self.says_hub(), "vendor": self.says_vendor(),
            "manifest_line": self.manifest_line, "manifest_status": self.manifest_status,
            "hub_status": self.hub_status, "vendor_status": self.vendor_status, "vendor_state": self.vendor_state,
            "why": self.why, "action": str(self.action), "outcome": self.outcome,
        }


@dataclass(slots=True)
class ReconcileResult:
    """A run: what was read, what was found (counts per kind, every discrepancy), what was done, and where the
    report is. ``as_dict(items=False)`` is the small summary an orchestrator keeps."""

    manifest: str
    vendor: str
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None = None
    manifest_rows: int = 0
    hub_parcels: int = 0
    vendor_reservations: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    manifest_errors: list[str] = field(default_factory=list)  # rendered, one line per error of a bad row
    bad_rows: int = 0
    bad_rows_quarantined: list[str] = field(default_factory=list)  # quarantine ids
    out_dir: Path | None = None
    csv_path: Path | None = None
    html_path: Path | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts = {str(k): 0 for k in Kind}
        for d in self.discrepancies:
            counts[str(d.kind)] += 1
        return counts

    @property
    def outcomes(self) -> dict[str, int]:
        """How many discrepancies ended how (quarantine ids are counted as ``quarantined``)."""
        out: dict[str, int] = {}
        for d in self.discrepancies:
            key = "quarantined" if d.outcome.startswith("q-") else d.outcome.split(":", 1)[0]
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))

    def as_dict(self, *, items: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "manifest": self.manifest, "vendor": self.vendor, "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "sources": {"manifest_rows": self.manifest_rows, "hub_parcels": self.hub_parcels,
                        "vendor_reservations": self.vendor_reservations},
            "counts": self.counts, "total": len(self.discrepancies), "outcomes": self.outcomes,
            "bad_rows": self.bad_rows, "bad_rows_quarantined": self.bad_rows_quarantined,
            "manifest_errors": self.manifest_errors,
            "report": {"dir": _str(self.out_dir), "csv": _str(self.csv_path), "html": _str(self.html_path)},
        }
        if items:
            data["discrepancies"] = [d.as_dict() for d in self.discrepancies]
        return data


def _str(path: Path | None) -> str | None:
    return str(path) if path is not None else None
