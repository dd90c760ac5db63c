"""benchmarks.allocation in its quick mode: it runs to the end and its RESULT line names every figure.

The benchmark fails by itself when lockerhub's allocation and the naive one reach different decisions, or when a
vendor style's events are refused by the lifecycle or end a parcel elsewhere than the other styles. Wall-clock times
are never asserted (the machine is shared): only that each rate and ratio was measured.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STYLES = ("simlocker", "boxnow", "gls", "inpost")


def test_quick_run_ends_with_every_figure() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.allocation", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, proc.stdout[-2000:]
    result = dict(item.split("=", 1) for item in lines[0].split()[1:])

    assert (result["lockers"], result["compartments"]) == ("1000", "60000")
    assert 0 < int(result["allocated"]) < int(result["parcels"])  # a few parcels fit no compartment at all
    assert int(result["decisions_per_s"]) > 0 and int(result["naive_per_s"]) > 0
    assert float(result["allocation_ratio"]) > 0
    for style in STYLES:
        assert int(result[f"{style}_per_s"]) > 0, style
        assert int(result[f"{style}_floor_per_s"]) > 0, style
        assert float(result[f"{style}_ratio"]) > 0, style
    if result.get("mqtt_cabinet") != "skipped":  # measured when a broker answers, else named as skipped
        assert float(result["mqtt_cabinet_ratio"]) > 0
