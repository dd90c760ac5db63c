"""Compartment allocation: which lockers to try, and which size classes physically fit a parcel.

Candidates: the locker the recipient asked for first (when it is in a routed region), then lockers in the same
postal area (same first two postal-code characters), then the same city; offline lockers are skipped.
Size classes: those whose inner box takes the parcel in some orientation, whose load limit takes its weight and
whose temperature class matches; smallest volume first, so large compartments stay free for large parcels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
    """A vendor's locker network and size classes, as last listed."""

    lockers: dict[str, Locker]
    size_classes: list[SizeClass]
    regions: frozenset[str] | None = None  # pilot rollout; None routes every region

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
        routed = sorted((lk for lk in nearby if self.routed(lk)), key=lambda lk: lk.locker_id)
        chosen.extend(routed)
        online = [lk for lk in chosen if lk.state == LockerState.ONLINE]
        if not online:
            if nearby and not routed and not requested:
                raise AllocationError("outside_pilot_region", expected="a recipient in a routed region",
                                      found=f"postal area {postal or '?'}")
            raise AllocationError("invalid_address", expected="an online locker near the recipient", found="none")
        return online[:limit]
