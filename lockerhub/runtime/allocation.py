"""Compartment allocation: which lockers to try, and which size classes physically fit a parcel.

Candidates: the locker the recipient asked for first (when it is in a routed region), then lockers in the same
postal area (same first two postal-code characters) or the same city, the preferred vendor's first; offline
lockers are skipped. With several routed vendors each candidate is booked with the vendor that lists it.
Size classes: those whose inner box takes the parcel in some orientation, whose load limit takes its weight and
whose temperature class matches; smallest volume first, so large compartments stay free for large parcels.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from lockerhub.errors import AllocationError
from lockerhub.model import CompartmentState, Locker, LockerState, Parcel, Party, SizeClass


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
    _free: dict[str, Counter[str]] = field(default_factory=dict, repr=False)
    _near: dict[tuple[str, str], tuple[list[Locker], list[Locker]]] = field(default_factory=dict, repr=False)

    def add(self, vendor: str, lockers: Iterable[Locker], classes: list[SizeClass]) -> None:
        """One more vendor's network, after those already added (which keep their lockers' ids)."""
        for locker in lockers:
            if locker.locker_id not in self.lockers:
                self.lockers[locker.locker_id] = locker
                self.owners[locker.locker_id] = vendor
        self.vendor_classes[vendor] = classes
        self.size_classes.extend(classes)
        self._near.clear()

    def owner(self, locker_id: str) -> str | None:
        """The vendor whose network holds the locker (None in a catalog of one unnamed vendor)."""
        return self.owners.get(locker_id)

    def classes_of(self, vendor: str | None) -> list[SizeClass]:
        """A vendor's size classes (every class when the catalog names no vendors)."""
        return self.vendor_classes.get(vendor, self.size_classes) if vendor is not None else self.size_classes

    def routed(self, locker: Locker) -> bool:
        return self.regions is None or locker.region in self.regions

    def free(self, locker_id: str) -> Counter[str]:
        """Free compartments per size class at a locker: as listed, less what this hub reserved since."""
        if locker_id not in self._free:
            self._free[locker_id] = Counter(c.size_class for c in self.lockers[locker_id].compartments()
                                            if c.state == CompartmentState.FREE)
        return self._free[locker_id]

    def taken(self, locker_id: str, size_class: str) -> None:
        """One compartment of ``size_class`` reserved at the locker (the listing is not asked again in this run)."""
        free = self.free(locker_id)
        free[size_class] = max(0, free[size_class] - 1)

    def candidates(self, recipient: Party, requested: str | None, limit: int,
                   parcel: Parcel | None = None) -> list[Locker]:
        """Lockers to try in order; raises AllocationError(reason) when there is none. With ``parcel``, lockers
        with no free compartment that takes it (as listed, less this hub's reservations since) go last, and the
        nearest to the requested locker come first when the lockers have coordinates."""
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
            same_area = postal and (lk.postal_code or "")[:2] == postal
            return bool(same_area or (city and (lk.city or "").casefold() == city))

        if (postal, city) not in self._near:  # the same area's lockers, found once per catalog
            close = [lk for lk in self.lockers.values() if near(lk)]
            self._near[(postal, city)] = (close, [lk for lk in close if self.routed(lk)])
        close, close_routed = self._near[(postal, city)]
        nearby = [lk for lk in close if lk.locker_id != requested]
        rank = {vendor: i for i, vendor in enumerate(self.vendor_classes)}
        anchor = self.lockers.get(requested) if requested else None
        fitting: dict[str | None, list[str]] = {}

        def full(lk: Locker) -> bool:
            if parcel is None:
                return False
            owner = self.owners.get(lk.locker_id)
            if owner not in fitting:
                fitting[owner] = fitting_classes(parcel, self.classes_of(owner))
            free = self.free(lk.locker_id)
            return not any(free[code] for code in fitting[owner])

        routed = [lk for lk in close_routed if lk.locker_id != requested]
        chosen.extend(sorted((lk for lk in routed if lk.state == LockerState.ONLINE),
                             key=lambda lk: (rank.get(self.owners.get(lk.locker_id, ""), 0), full(lk),
                                             distance_km(anchor, lk), lk.locker_id)))
        online = [lk for lk in chosen if lk.state == LockerState.ONLINE]
        if not online:
            if nearby and not routed and not requested:
                raise AllocationError("outside_pilot_region", expected="a recipient in a routed region",
                                      found=f"postal area {postal or '?'}")
            raise AllocationError("invalid_address", expected="an online locker near the recipient", found="none")
        return online[:limit]


def distance_km(anchor: Locker | None, locker: Locker) -> float:
    """Kilometres between two lockers (equirectangular: exact enough within a city); 0 without coordinates."""
    if anchor is None or None in (anchor.latitude, anchor.longitude, locker.latitude, locker.longitude):
        return 0.0
    lat1, lon1, lat2, lon2 = map(math.radians, (anchor.latitude, anchor.longitude, locker.latitude, locker.longitude))
    x = (lon2 - lon1) * math.cos((lat1 + lat2) / 2)
    return 6371.0 * math.hypot(x, lat2 - lat1)
