"""The maintenance list: lockers a technician should visit, most urgent first, each with the reasons.

A locker is on the list when it has a flag whose kind is in the policy's ``visit_for``. Order: critical before
warning, then the earliest due date (``as_of`` for a condition that is present now, the predicted crossing for
a predicted one), then the lowest score, then the locker id.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lockerhub.health.policy import HealthPolicy
from lockerhub.health.score import SEVERITIES, LockerHealth

CSV_COLUMNS = ("rank", "locker_id", "severity", "score", "due_by", "reasons")


@dataclass(frozen=True, slots=True)
class MaintenanceItem:
    rank: int
    locker_id: str
    severity: str
    score: float
    due_by: datetime
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "locker_id": self.locker_id, "severity": self.severity, "score": self.score,
                "due_by": self.due_by.isoformat(), "reasons": list(self.reasons)}


def maintenance_list(healths: Sequence[LockerHealth], policy: HealthPolicy) -> list[MaintenanceItem]:
    """Lockers needing a visit, most urgent first (see the module docstring)."""
    wanted = set(policy.visit_for)
    candidates = []
    for health in healths:
        flags = [f for f in health.flags if f.kind in wanted]
        if not flags:
            continue
        severity = SEVERITIES[max(SEVERITIES.index(f.severity) for f in flags)]
        due = min(f.predicted_at or health.as_of for f in flags)
        candidates.append((-SEVERITIES.index(severity), due, health.score, health.locker_id, severity,
                           tuple(f"{f.kind}: {f.message}" for f in flags)))
    candidates.sort(key=lambda c: c[:4])
    return [MaintenanceItem(rank, locker_id, severity, score, due, reasons)
            for rank, (_, due, score, locker_id, severity, reasons) in enumerate(candidates, start=1)]


def write_maintenance_csv(items: Sequence[MaintenanceItem], path: str | Path) -> Path:
    """Write the list as CSV (columns ``CSV_COLUMNS``; reasons joined with ``; ``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for item in items:
            writer.writerow([item.rank, item.locker_id, item.severity, f"{item.score:g}", item.due_by.isoformat(),
                             "; ".join(item.reasons)])
    return path
