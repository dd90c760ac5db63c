"""Forward-only parcel lifecycle, driven by the table in ``lifecycle.yaml``.

``apply_event(state, status)`` returns an :class:`Outcome`:

- ``applied``: the transition is in the table; the new state is returned.
- ``duplicate``: the parcel is already in that status; nothing changes.
- ``stale``: a late event (lower rank, or a side event after the fact); it is recorded by the caller, the state
  does not move back.
- otherwise :class:`~lockerhub.errors.TransitionError` (forbidden: e.g. CANCELLED after COLLECTED).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import yaml

from lockerhub.errors import TransitionError, ValidationError
from lockerhub.model.status import ParcelStatus


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    HELD = "held"  # ahead of a gap (e.g. RETURNING while BOOKED): kept until the events before it arrive


@dataclass(frozen=True, slots=True)
class ParcelState:
    """Current status; ``interrupted`` is the status an EXCEPTION overlays (None otherwise)."""

    status: ParcelStatus = ParcelStatus.CREATED
    interrupted: ParcelStatus | None = None

    @property
    def effective(self) -> ParcelStatus:
        return self.interrupted if self.interrupted is not None else self.status


@dataclass(frozen=True, slots=True)
class Lifecycle:
    rank: dict[ParcelStatus, int | None]
    next: dict[ParcelStatus, frozenset[ParcelStatus]]
    overlay: frozenset[ParcelStatus]
    terminal: frozenset[ParcelStatus]
    reasons: dict[ParcelStatus, frozenset[str]]

    def allowed(self, state: ParcelState) -> frozenset[ParcelStatus]:
        """Statuses reachable from ``state`` (for an overlay: recovery plus what the interrupted status allows)."""
        if state.status in self.overlay:
            base = state.interrupted or ParcelStatus.CREATED
            return self.next[base] | {base}
        return self.next[state.status]

    def apply(self, state: ParcelState, target: ParcelStatus, reason: str | None = None) -> tuple[Outcome, ParcelState]:
        self.check_reason(target, reason)
        if target == state.status:
            return Outcome.DUPLICATE, state
        if target in self.allowed(state):
            if target in self.overlay:
                return Outcome.APPLIED, ParcelState(target, state.effective)
            return Outcome.APPLIED, ParcelState(target)
        target_rank, current_rank = self.rank[target], self.rank[state.effective]
        if target_rank is None or (current_rank is not None and target_rank < current_rank):
            return Outcome.STALE, state
        raise TransitionError(
            f"parcel status cannot change from {state.status} to {target}",
            expected=" or ".join(sorted(self.allowed(state))) or "no further status (terminal)",
            found=str(target),
        )

    def check_reason(self, target: ParcelStatus, reason: str | None) -> None:
        allowed = self.reasons.get(target)
        if allowed is not None and reason not in allowed:
            raise ValidationError(
                f"{target} needs a reason", expected=" | ".join(sorted(allowed)), found=repr(reason)
            )


def load_lifecycle(text: str) -> Lifecycle:
    """Parse and validate a lifecycle table (every status known, every status listed, next targets known)."""
    data = yaml.safe_load(text)
    table = data.get("statuses") or {}
    names = set(table)
    known = {s.value for s in ParcelStatus}
    if names != known:
        raise ValidationError(
            "lifecycle table statuses", expected=", ".join(sorted(known)), found=", ".join(sorted(names))
        )
    rank: dict[ParcelStatus, int | None] = {}
    nxt: dict[ParcelStatus, frozenset[ParcelStatus]] = {}
    for name, spec in table.items():
        spec = spec or {}
        unknown = set(spec.get("next", [])) - known
        if unknown:
            raise ValidationError(f"lifecycle {name}.next", expected="canonical statuses", found=", ".join(unknown))
        rank[ParcelStatus(name)] = spec.get("rank")
        nxt[ParcelStatus(name)] = frozenset(ParcelStatus(n) for n in spec.get("next", []))
    return Lifecycle(
        rank=rank,
        next=nxt,
        overlay=frozenset(ParcelStatus(n) for n, s in table.items() if (s or {}).get("overlay")),
        terminal=frozenset(ParcelStatus(n) for n, s in table.items() if (s or {}).get("terminal")),
        reasons={ParcelStatus(k): frozenset(v) for k, v in (data.get("reasons") or {}).items()},
    )


@cache
def lifecycle() -> Lifecycle:
    """The shipped lifecycle table, loaded once."""
    return load_lifecycle(resources.files("lockerhub.model").joinpath("lifecycle.yaml").read_text("utf-8"))


def apply_event(
    state: ParcelState, target: ParcelStatus | str, reason: str | None = None
) -> tuple[Outcome, ParcelState]:
    """Apply one canonical status to ``state`` forward-only. See the module docstring."""
    return lifecycle().apply(state, target if isinstance(target, ParcelStatus) else ParcelStatus(target), reason)
