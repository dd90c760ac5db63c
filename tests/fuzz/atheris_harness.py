"""Coverage-guided fuzzing of the input readers with atheris (libFuzzer), for long runs outside CI.

    uv run --group fuzz python tests/fuzz/atheris_harness.py x12 -max_total_time=3600
    uv run --group fuzz python tests/fuzz/atheris_harness.py edifact corpus/edifact -max_total_time=3600

Targets: ``x12`` and ``edifact`` (envelopes parsed, validated and read by the connector through the pilot
partner's mapping), ``csv`` (the CSV connector through the acme-tms mapping) and ``mapping`` (mapping YAML loading).
Arguments after the target go to libFuzzer: a corpus folder (it keeps the inputs that found new code; seeded with
the golden fixtures under ``mappings/`` when empty), ``-max_total_time=S``, ``-jobs=N``, ``-max_len=B``.

The property is the one of the hypothesis tests beside this file: a lockerhub error or a result, nothing else. Any
other exception is a finding: libFuzzer stops and writes the input to ``crash-<sha1>``; add it to
``tests/fuzz/test_regressions.py`` with the fix. A hang is reported as ``timeout-<sha1>`` (``-timeout=S``, default
25 seconds here).

The ``fuzz`` dependency group (atheris) is not installed by default: atheris ships Linux and macOS wheels for
CPython up to the version it supports and otherwise builds from source with clang. For long runs without atheris,
use hypothesis: ``HYPOTHESIS_PROFILE=long uv run pytest tests/fuzz -p no:cacheprovider``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["lockerhub", "lockerhub_edi", "lockerhub_x12", "lockerhub_edifact",
                                         "lockerhub_csv", "yaml"]):
    import io

    from lockerhub_csv.config import CsvConfig
    from lockerhub_csv.connector import CsvConnector
    from lockerhub_edifact import envelope as edifact_envelope
    from lockerhub_edifact.config import EdifactConfig
    from lockerhub_edifact.connector import EdifactConnector
    from lockerhub_x12 import envelope as x12_envelope
    from lockerhub_x12.config import X12Config
    from lockerhub_x12.connector import X12Connector

    from lockerhub.errors import LockerhubError
    from lockerhub.mapping import load_mapping

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings"
WORK = Path(tempfile.mkdtemp(prefix="lockerhub-fuzz-"))


def _drain(connector: object, path: Path, partner: str) -> None:
    for record in connector.read(path, partner=partner):  # type: ignore[attr-defined]
        for error in record.errors:
            error.render()


def _file_target(suffix: str, read: Callable[[Path], None]) -> Callable[[bytes], None]:
    path = WORK / f"input{suffix}"

    def run(data: bytes) -> None:
        path.write_bytes(data)
        read(path)

    return run


def _x12() -> Callable[[bytes], None]:
    connector = X12Connector(X12Config(inbox=WORK, mapping=MAPPINGS / "acme-x12" / "load_tender_204.yaml"))

    def read(path: Path) -> None:
        x12_envelope.validate(io.BytesIO(path.read_bytes()), file=str(path))
        x12_envelope.parse(io.BytesIO(path.read_bytes()), file=str(path))
        _drain(connector, path, "acme-x12")

    return _file_target(".edi", read)


def _edifact() -> Callable[[bytes], None]:
    connector = EdifactConnector(EdifactConfig(inbox=WORK, mapping=MAPPINGS / "acme-edifact" / "iftmin.yaml"))

    def read(path: Path) -> None:
        edifact_envelope.validate(io.BytesIO(path.read_bytes()), file=str(path))
        edifact_envelope.parse(path.read_bytes(), file=str(path))
        _drain(connector, path, "acme-edifact")

    return _file_target(".edi", read)


def _csv() -> Callable[[bytes], None]:
    connector = CsvConnector(CsvConfig(inbox=WORK, outbox=WORK / "out",
                                       mapping=MAPPINGS / "acme-tms" / "shipments.yaml"))
    return _file_target(".csv", lambda path: _drain(connector, path, "acme-tms"))


def _mapping() -> Callable[[bytes], None]:
    tree = WORK / "mappings"
    shutil.copytree(MAPPINGS, tree, ignore=shutil.ignore_patterns("tests"))
    path = tree / "acme-tms" / "_fuzz.yaml"

    def run(data: bytes) -> None:
        path.write_bytes(data)
        load_mapping(path)

    return run


TARGETS: dict[str, tuple[Callable[[], Callable[[bytes], None]], list[str]]] = {
    "x12": (_x12, ["acme-x12/tests/*.edi"]),
    "edifact": (_edifact, ["acme-edifact/tests/*.edi"]),
    "csv": (_csv, ["acme-tms/tests/*.csv"]),
    "mapping": (_mapping, ["*/*.yaml"]),
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [corpus folder] [libFuzzer options]")
    name, rest = sys.argv[1], sys.argv[2:]
    build, seed_globs = TARGETS[name]
    target = build()
    corpus = next((Path(a) for a in rest if not a.startswith("-")), None)
    if corpus is None:
        corpus = WORK / "corpus"
        rest.insert(0, str(corpus))
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for pattern in seed_globs:
            for seed in MAPPINGS.glob(pattern):
                shutil.copy(seed, corpus / seed.name)

    def one_input(data: bytes) -> None:
        try:
            target(data)
        except LockerhubError as exc:
            exc.render()

    if not any(a.startswith("-timeout=") for a in rest):
        rest.append("-timeout=25")
    atheris.Setup([sys.argv[0], *rest], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
