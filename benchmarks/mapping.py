"""The mapping engine alone: a compiled YAML mapping vs a hand-written Python function doing the same mapping.

Both map the same pre-parsed CSV rows (``CsvRow`` items of the csv format) of the ACME pilot mapping to canonical
``Shipment`` objects, including the model's validation; file reading is outside the timing.
Target (issue): mapping_ratio (compiled / hand-written) <= 1.5.
Prints a table, then ``RESULT rows=... mapping_per_s=... baseline_per_s=... mapping_ratio=...``.
"""

from __future__ import annotations

import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from benchmarks._harness import args, best_of, report
from lockerhub.mapping import load_mapping
from lockerhub.model import Shipment
from lockerhub.simulator import build_network
from lockerhub.simulator.tms_drops import render, rows
from lockerhub_csv.format import CsvFormat

MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "acme-tms" / "shipments.yaml"


def _mm(text: str | None, factor: Decimal) -> int | None:
    if text is None:
        return None
    return int((Decimal(text.replace(",", ".")) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def hand_written(row: dict[str, Any]) -> Shipment:
    """What a developer would write for this one layout (same output, no positions, no error collection)."""
    return Shipment.model_validate({
        "partner": "acme-tms", "reference": row["shipment_ref"], "destination_locker": row["locker_id"],
        "recipient": {"name": row["recipient_name"], "phone": row["recipient_phone"], "email": row["recipient_email"],
                      "address": {"postal_code": row["postal_code"], "city": row["city"], "country": "PL"}},
        "parcels": [{
            "parcel_id": row["parcel_id"], "sscc": row["sscc"],
            "dimensions": {"length_mm": _mm(row["length_cm"], Decimal(10)), "width_mm": _mm(row["width_cm"], Decimal(10)),
                           "height_mm": _mm(row["height_cm"], Decimal(10))},
            "weight_g": _mm(row["weight_kg"], Decimal(1000)),
            "temperature": (row["temperature"] or "ambient").lower(),
        }],
    })


def main() -> None:
    opts = args(__doc__ or "")
    n = 2_000 if opts.quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drop.csv"
        path.write_bytes(render(rows(n, build_network(30, seed=1), seed=1)))
        items = list(CsvFormat().read(path))
    mapping = load_mapping(MAPPING)
    extra = {"partner": "acme-tms"}
    compiled = [mapping.map(item, extra=extra).value for item in items]
    assert compiled == [hand_written(item) for item in items], "both must produce the same shipments"

    def engine() -> None:
        for item in items:
            mapping.map(item, extra=extra)

    def baseline() -> None:
        for item in items:
            hand_written(item)

    repeat = 3 if opts.quick else 7
    t_engine, t_base = best_of(engine, repeat), best_of(baseline, repeat)
    report(f"rows -> canonical shipments ({n} rows, {len(mapping.steps)} top-level rules)",
           [("compiled YAML mapping", t_engine, n), ("hand-written function", t_base, n)],
           {"rows": n, "mapping_per_s": round(n / t_engine), "baseline_per_s": round(n / t_base),
            "mapping_ratio": t_engine / t_base})


if __name__ == "__main__":
    main()
