"""Fixtures for the CSV connector tests.

Every variant file (encoding, line ending, delimiter, broken rows) is generated under ``tmp_path`` from the one
committed sample, ``fixtures/sample.csv`` (fake recipients only: "Test Recipient N", +480000000NN,
``@example.invalid``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from lockerhub_csv import CsvConfig, CsvConnector

from lockerhub.mapping import CompiledMapping as CsvMapping
from lockerhub.mapping import load_mapping

FIXTURES = Path(__file__).parent / "fixtures"

WriteCsv = Callable[..., Path]


@pytest.fixture
def sample_text() -> str:
    return (FIXTURES / "sample.csv").read_text("utf-8")


@pytest.fixture
def sample_rows(sample_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(sample_text)))


@pytest.fixture
def default_mapping_path() -> Path:
    return Path(str(resources.files("lockerhub_csv").joinpath("default_mapping.yaml")))


@pytest.fixture
def mapping(default_mapping_path: Path) -> CsvMapping:
    return load_mapping(default_mapping_path)


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """Write rows (or the sample) as a CSV file with a chosen encoding, line ending and delimiter."""

    def write(
        rows: list[list[str]],
        *,
        name: str = "drop.csv",
        encoding: str = "utf-8",
        newline: str = "\n",
        delimiter: str = ",",
        folder: Path | None = None,
    ) -> Path:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
        path = (folder or tmp_path) / name
        path.write_bytes(buffer.getvalue().encode(encoding))
        return path

    return write


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write text exactly as given (UTF-8), for hand-made broken files."""

    def write(text: str, name: str = "drop.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        return path

    return write


@pytest.fixture
def config(tmp_path: Path, default_mapping_path: Path) -> CsvConfig:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return CsvConfig(inbox=inbox, outbox=tmp_path / "outbox", mapping=default_mapping_path)


@pytest.fixture
def connector(config: CsvConfig) -> CsvConnector:
    return CsvConnector(config)
