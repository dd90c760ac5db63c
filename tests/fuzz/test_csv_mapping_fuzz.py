"""The CSV connector and mapping YAML loading on arbitrary and mutated input: only lockerhub errors or results."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lockerhub_csv.config import CsvConfig
from lockerhub_csv.connector import CsvConnector

from lockerhub.errors import LockerhubError
from lockerhub.mapping import load_mapping

_names = itertools.count()


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except LockerhubError as exc:
        assert exc.render()
        return None


def read_all(connector: CsvConnector, path: Path) -> int:
    n = 0
    for record in connector.read(path, partner="acme-tms"):
        n += 1
        for error in record.errors:
            assert isinstance(error, LockerhubError) and error.render()
        assert (record.shipment is None) or not record.errors
    return n


@pytest.mark.parametrize("encoding", [None, "cp1250"])
def test_csv_connector_reads_through_its_mapping(fuzz, workdir: Path, encoding: str | None) -> None:  # type: ignore[no-untyped-def]
    connector = CsvConnector(CsvConfig(inbox=workdir, outbox=workdir / "out", encoding=encoding,
                                       mapping=fuzz.mappings / "acme-tms" / "shipments.yaml"))

    @fuzz.settings
    @given(fuzz.inputs(fuzz.seeds("acme-tms/tests/*.csv"), alphabet=b',;"\r\n'))
    def run(data: bytes) -> None:
        path = workdir / f"drop-{next(_names)}.csv"
        path.write_bytes(data)
        outcome(lambda: read_all(connector, path))
        path.unlink()

    run()


YAML_TOKENS = ["\n", "  ", "- ", ": ", "{", "}", "[", "]", "&a ", "*a", "!!python/object:os.system ", "!!binary ",
               "<<: *a\n", "'", '"', "#", "|\n", ">-\n", "~", "null", "1e400", "0x", "source:", "target:", "fields:",
               "op:", "path:", "format: csv", "version: 1", "\t", "\ufeff", "%YAML 1.1\n", "---\n", "..."]


def test_mapping_yaml_loading(fuzz, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    tree = workdir / "mappings"
    if not tree.exists():  # mutated files sit beside the real ones, so relative table paths still resolve
        shutil.copytree(fuzz.mappings, tree, ignore=shutil.ignore_patterns("tests"))
    seeds = fuzz.seeds("*/*.yaml")
    documents = st.one_of(
        fuzz.mutated(seeds),  # bytes: invalid UTF-8 included
        st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=6), max_size=40).map("".join),
        st.text(max_size=200),
    )

    @fuzz.settings
    @given(documents, st.sampled_from(sorted(p.name for p in tree.iterdir() if p.is_dir())))
    def run(document: str | bytes, partner: str) -> None:
        path = tree / partner / f"_fuzz_{next(_names)}.yaml"
        path.write_bytes(document if isinstance(document, bytes) else document.encode("utf-8", "surrogatepass"))
        outcome(lambda: load_mapping(path))
        path.unlink()

    run()
