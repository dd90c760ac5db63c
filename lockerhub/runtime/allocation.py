"""Compartment allocation: which lockers to try, and which size classes physically fit a parcel.

Candidates: the locker the recipient asked for first (when it is in a routed region), then lockers in the same
postal area (same first two postal-code characters) or the same city, the preferred vendor's first; offline
lockers are skipped. With several routed vendors each candidate is booked with the vendor that lists it.
Size classes: those whose inner box takes the parcel in some orientation, whose load limit takes its weight and
whose temperature class matches; smallest volume first, so large compartments stay free for large parcels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lockerhub.errors import AllocationError
from lockerhub.model import Locker, LockerState, Parcel, Party, SizeClass


def fitting_classes(parcel: Parcel, classes: Iterable[SizeClass]) -> list[str]:
    fits = [
        c for c in classes
        if parcel.dimensions.fits_in(c.inner) and parcel.weight_g <= c.max_weight_g
        and c.temperature == parcel.temperature
    ]
    return [c.code for c in sorted(fits, key=lambda c: (c.inner.volume_mm3, c.code))]


@dataclass(slots=True)
class Catalog:
    """The routed vendors' locker networks and size classes, as last listed.

    ``size_classes`` is every vendor's (what fits anywhere); ``owners`` names the vendor of each locker and
    ``vendor_classes`` each vendor's own classes (empty for a catalog of one unnamed vendor). A locker id listed by
    two vendors belongs to the first one added (the preferred)."""

    lockers: dict[str, Locker]
    size_classes: list[SizeClass]
    regions: frozenset[str] | None = None  # pilot rollout; None routes every region
    owners: dict[str, str] = field(default_factory=dict)
    vendor_classes: dict[str, list[SizeClass]] = field(default_factory=dict)

    def add(self, vendor: str, lockers: Iterable[Locker], classes: list[SizeClass]) -> None:
        """One more vendor's network, after those already added (which keep their lockers' ids)."""
        for locker in lockers:
            if locker.locker_id not in self.lockers:
                self.lockers[locker.locker_id] = locker
                self.owners[locker.locker_id] = vendor
        self.vendor_classes[vendor] = classes
        self.size_classes.extend(classes)

    def owner(self, locker_id: str) -> str | None:
        """The vendor whose network holds the locker (None in a catalog of one unnamed vendor)."""
        return self.owners.get(locker_id)

    def classes_of(self, vendor: str | None) -> list[SizeClass]:
        """A vendor's size classes (every class when the catalog names no vendors)."""
        return self.vendor_classes.get(vendor, self.size_classes) if vendor is not None else self.size_classes

    def routed(self, locker: Locker) -> bool:
        return self.regions is None or locker.region in self.regions

    def candidates(self, recipient: Party, requested: str | None, limit: int) -> list[Locker]:
        """Lockers to try in order; raises AllocationError(reason) when there is none."""
        chosen: list[Locker] = []
        if requested:
            locker = self.lockers.get(requested)
            if locker is None:
                raise AllocationError("unknown_locker", found=repr(requested), expected="a locker id of the network")
            if not self.routed(locker):
                raise AllocationError("outside_pilot_region", found=str(locker.region),
                                      expected=", ".join(sorted(self.regions or ())))
            chosen.append(locker)
        address = recipient.address
        postal = (address.postal_code or "")[:2] if address else ""
        city = (address.city or "").casefold() if address else ""

        def near(lk: Locker) -> bool:
            return bool((postal and (lk.postal_code or "")[:2] == postal) or (city and (lk.city or "").casefold() == city))

        nearby = [lk for lk in self.lockers.values() if lk.locker_id != requested and near(lk)]
        rank = {vendor: i for i, vendor in enumerate(self.vendor_classes)}
        routed = sorted((lk for lk in nearby if self.routed(lk)),
                        key=lambda lk: (rank.get(self.owners.get(lk.locker_id, ""), 0), lk.locker_id))
        chosen.extend(routed)
        online = [lk for lk in chosen if lk.state == LockerState.ONLINE]
        if not online:
            if nearby and not routed and not requested:
                raise AllocationError("outside_pilot_region", expected="a recipient in a routed region",
                                      found=f"postal area {postal or '?'}")
            raise AllocationError("invalid_address", expected="an online locker near the recipient", found="none")
        return online[:limit]
