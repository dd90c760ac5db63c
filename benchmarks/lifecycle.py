"""Applying status events: the table-driven state machine vs a hand-written if-chain of the same rules.

The table (lifecycle.yaml) is the source of truth; this shows what reading rules as data costs per event.
Target: lifecycle_ratio (table / hand-written) <= 3.
Prints a table, then ``RESULT events=... table_per_s=... baseline_per_s=... lifecycle_ratio=...``.
"""

from __future__ import annotations

import random

from benchmarks._harness import args, best_of, report
from lockerhub.model import ParcelState, ParcelStatus, apply_event, lifecycle
from lockerhub.model.state_machine import Outcome

S = ParcelStatus
HAPPY = [S.CREATED, S.BOOKED, S.LABELLED, S.HANDED_OVER, S.IN_TRANSIT, S.DEPOSITED, S.REMINDER_SENT, S.COLLECTED]
RANK = {s: i * 10 for i, s in enumerate(HAPPY)}


def hand_written(status: ParcelStatus, target: ParcelStatus) -> tuple[Outcome, ParcelStatus]:
    """The happy-path rules as a programmer would hard-code them (no overlay, no side exits)."""
    if target == status:
        return Outcome.DUPLICATE, status
    if status == S.COLLECTED:
        return Outcome.STALE, status
    if RANK[target] > RANK[status]:
        return Outcome.APPLIED, target
    return Outcome.STALE, status


def main() -> None:
    opts = args(__doc__ or "")
    n = 20_000 if opts.quick else 200_000
    rng = random.Random(1)
    streams = []
    for _ in range(n // len(HAPPY)):
        events = HAPPY[:]
        rng.shuffle(events)
        streams.append(events)
    lifecycle()  # load the table once, outside the timing

    def table_driven() -> None:
        for events in streams:
            state = ParcelState()
            for e in events:
                _, state = apply_event(state, e)

    def baseline() -> None:
        for events in streams:
            status = S.CREATED
            for e in events:
                _, status = hand_written(status, e)

    repeat = 3 if opts.quick else 7
    t_table, t_base = best_of(table_driven, repeat), best_of(baseline, repeat)
    items = len(streams) * len(HAPPY)
    report("apply status events (shuffled happy paths)",
           [("lockerhub apply_event (table)", t_table, items), ("hand-written if-chain", t_base, items)],
           {"events": items, "table_per_s": round(items / t_table), "baseline_per_s": round(items / t_base),
            "lifecycle_ratio": t_table / t_base})


if __name__ == "__main__":
    main()
