"""EDI parsing: lockerhub's X12 and EDIFACT engines vs pyx12 and pydifact, and vs a plain split floor.

Run with the peers installed: ``uv run --group bench python -m benchmarks.edi [--quick]``.

Each contender reads the same generated file (fake 204 load tenders; fake IFTMIN messages) to the end:
- lockerhub ``iter_segments`` (tokenise with positions) and ``validate`` (plus every envelope check, bounded
  memory);
- pyx12 ``X12Reader`` (its segment reader with its own envelope checks); pydifact ``Interchange.from_str``;
- the floor: ``str.split`` into segments and then elements, results thrown away (pure Python cannot tokenise
  faster than this).
badx12 is not measured: it pins click==7.0 (which clashes with Airflow) and fails to import on Python 3.11
(``collections.Iterable``).
Issue targets: >= 10x pydifact, >= 5x pyx12, within 3x of the split floor (tokeniser vs floor).
Prints a table, then ``RESULT x12_mb_per_s=... edifact_mb_per_s=... x12_floor_ratio=... edifact_floor_ratio=...
vs_pyx12_ratio=... vs_pydifact_ratio=...``.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

from benchmarks._edi_samples import edifact_file, x12_file
from benchmarks._harness import args, best_of, report
from lockerhub_edifact import envelope as edifact_envelope
from lockerhub_edifact.tokenizer import iter_segments as edifact_segments
from lockerhub_x12 import envelope as x12_envelope
from lockerhub_x12.tokenizer import iter_segments as x12_segments


def _drain(iterator: object) -> int:
    n = 0
    for _ in iterator:  # type: ignore[attr-defined]
        n += 1
    return n


def _floor(text: str, term: str, sep: str) -> None:
    for segment in text.split(term):
        segment.strip().split(sep)


def _pyx12(text: str) -> Callable[[], object] | None:
    try:
        from pyx12.x12file import X12Reader
    except ImportError:
        return None
    return lambda: _drain(X12Reader(io.StringIO(text)))


def _pydifact(text: str) -> Callable[[], object] | None:
    try:
        from pydifact.segmentcollection import Interchange
    except ImportError:
        return None
    def parse() -> object:
        with warnings.catch_warnings():  # pydifact warns about its own missing directory files on every run
            warnings.simplefilter("ignore")
            return Interchange.from_str(text)

    return parse


def main() -> None:
    opts = args(__doc__ or "")
    mb = 2 if opts.quick else 10
    peer_mb = 1 if opts.quick else 2  # pydifact runs at about 1 MB/s; keep its share of the run bounded
    repeat = 2 if opts.quick else 3
    x12_text, edi_text = x12_file(mb * 1_000_000), edifact_file(mb * 1_000_000)
    x12_small, edi_small = x12_file(peer_mb * 1_000_000), edifact_file(peer_mb * 1_000_000)
    assert not x12_envelope.validate(x12_text) and not edifact_envelope.validate(edi_text), "samples must be valid"

    rows: list[tuple[str, float, int]] = []
    rate: dict[str, float] = {}

    def run(name: str, fn: Callable[[], object], size: int) -> None:
        seconds = best_of(fn, repeat)
        rows.append((f"{name} ({size / 1e6:.0f} MB)", seconds, size))
        rate[name] = size / seconds / 1e6

    run("x12 floor: str.split", lambda: _floor(x12_text, "~", "*"), len(x12_text))
    run("x12 lockerhub iter_segments", lambda: _drain(x12_segments(x12_text)), len(x12_text))
    run("x12 lockerhub validate", lambda: x12_envelope.validate(x12_text), len(x12_text))
    run("x12 lockerhub iter_segments small", lambda: _drain(x12_segments(x12_small)), len(x12_small))
    peer = _pyx12(x12_small)
    if peer:
        run("x12 pyx12 X12Reader", peer, len(x12_small))
    run("edifact floor: str.split", lambda: _floor(edi_text, "'", "+"), len(edi_text))
    run("edifact lockerhub iter_segments", lambda: _drain(edifact_segments(edi_text)), len(edi_text))
    run("edifact lockerhub validate", lambda: edifact_envelope.validate(edi_text), len(edi_text))
    run("edifact lockerhub iter_segments small", lambda: _drain(edifact_segments(edi_small)), len(edi_small))
    peer = _pydifact(edi_small)
    if peer:
        run("edifact pydifact", peer, len(edi_small))

    result: dict[str, float | int | str] = {
        "x12_mb_per_s": round(rate["x12 lockerhub iter_segments"], 1),
        "edifact_mb_per_s": round(rate["edifact lockerhub iter_segments"], 1),
        "x12_floor_ratio": rate["x12 floor: str.split"] / rate["x12 lockerhub iter_segments"],
        "edifact_floor_ratio": rate["edifact floor: str.split"] / rate["edifact lockerhub iter_segments"],
    }
    if "x12 pyx12 X12Reader" in rate:
        result["vs_pyx12_ratio"] = rate["x12 lockerhub iter_segments small"] / rate["x12 pyx12 X12Reader"]
    if "edifact pydifact" in rate:
        result["vs_pydifact_ratio"] = rate["edifact lockerhub iter_segments small"] / rate["edifact pydifact"]
    report("EDI tokenising (higher is better)", rows, result, unit="MB/s", scale=1e6)


if __name__ == "__main__":
    main()
