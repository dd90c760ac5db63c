"""Reading a TMS CSV drop into canonical shipments: the csv connector vs a hand-written reader.

The baseline is what an integrator would write by hand for this one file layout: ``csv.DictReader`` over the
decoded text, unit conversion inline, one ``Shipment.model_validate`` per row; no encoding/delimiter
detection, no positions, no lineage, no per-cell error collection. The connector does all of those.
Target: csv_ratio (connector / hand-written) <= 3; measured about 2.8 on the development machine.
Prints a table, then ``RESULT rows=... connector_per_s=... baseline_per_s=... csv_ratio=...``.
"""

from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from benchmarks._harness import args, best_of, report
from lockerhub.model import Shipment
from lockerhub.simulator import build_network
from lockerhub.simulator.tms_drops import render, rows
from lockerhub.mapping import load_mapping
from lockerhub_csv.reader import read_records

MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "acme-tms" / "shipments.yaml"


def hand_written(path: Path) -> list[Shipment]:
    out = []
    for row in csv.DictReader(io.StringIO(path.read_text("utf-8"))):
        def mm(col: str, row: dict[str, str] = row) -> int:
            return int((Decimal(row[col]) * 10).to_integral_value())

        out.append(Shipment.model_validate({
            "partner": "acme-tms", "reference": row["shipment_ref"], "destination_locker": row["locker_id"] or None,
            "recipient": {"name": row["recipient_name"], "phone": row["recipient_phone"],
                          "email": row["recipient_email"],
                          "address": {"postal_code": row["postal_code"], "city": row["city"], "country": "PL"}},
            "parcels": [{"parcel_id": row["parcel_id"], "sscc": row["sscc"] or None,
                         "dimensions": {"length_mm": mm("length_cm"), "width_mm": mm("width_cm"),
                                        "height_mm": mm("height_cm")},
                         "weight_g": int((Decimal(row["weight_kg"]) * 1000).to_integral_value()),
                         "temperature": (row["temperature"] or "ambient").lower()}],
        }))
    return out


def main() -> None:
    opts = args(__doc__ or "")
    n = 2_000 if opts.quick else 20_000
    data = rows(n, build_network(30, seed=1), seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drop.csv"
        path.write_bytes(render(data))
        mapping = load_mapping(MAPPING)

        def connector() -> None:
            shipments = [r.shipment for r in read_records(path, mapping, partner="acme-tms")]
            assert len(shipments) == n and all(shipments)

        def baseline() -> None:
            assert len(hand_written(path)) == n

        first = [r.shipment for r in read_records(path, mapping, partner="acme-tms")]
        assert first == hand_written(path), "both readers must produce the same shipments"
        repeat = 3 if opts.quick else 5
        t_conn, t_base = best_of(connector, repeat), best_of(baseline, repeat)
    report(f"CSV drop -> canonical shipments ({n} rows)",
           [("lockerhub csv connector", t_conn, n), ("hand-written DictReader", t_base, n)],
           {"rows": n, "connector_per_s": round(n / t_conn), "baseline_per_s": round(n / t_base),
            "csv_ratio": t_conn / t_base})


if __name__ == "__main__":
    main()
