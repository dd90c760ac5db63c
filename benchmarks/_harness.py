"""Timing helpers shared by the benchmarks: best-of-N wall time, a readable table, the RESULT line."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table


def args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under a minute)")
    return parser.parse_args()


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs (the least disturbed by the rest of the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def report(title: str, rows: list[tuple[str, float, int]], result: dict[str, float | int | str], *,
           unit: str = "items/s", scale: float = 1.0) -> None:
    """rows: (name, seconds, items). Prints a table (rate = items / seconds / scale), then ``RESULT key=value``."""
    table = Table(title=title)
    table.add_column("implementation")
    table.add_column("seconds", justify="right")
    table.add_column(unit, justify="right")
    for name, seconds, items in rows:
        table.add_row(name, f"{seconds:.4f}", f"{items / seconds / scale:,.1f}" if scale != 1 else
                      f"{items / seconds:,.0f}")
    Console().print(table)
    print("RESULT " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))
