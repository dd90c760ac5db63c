"""lockerhub_edifact.controls: per-partner control references persist, are monotonic, and survive processes."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from lockerhub_edifact.controls import ControlNumbers

from lockerhub.errors import ConfigError, ValidationError


def test_numbers_are_per_partner_and_kind_and_persist(tmp_path: Path) -> None:
    path = tmp_path / "state" / "controls.json"
    c = ControlNumbers(path)
    assert [c.next("acme", "interchange") for _ in range(3)] == [1, 2, 3]
    assert c.next("acme", "message") == 1
    assert c.next("other", "interchange") == 1
    again = ControlNumbers(path)  # a new process would see the same file
    assert again.last("acme", "interchange") == 3 and again.next("acme", "interchange") == 4
    assert json.loads(path.read_text()) == {"acme": {"interchange": 4, "message": 1}, "other": {"interchange": 1}}
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []


def _take(path: str, n: int, out: "multiprocessing.Queue[int]") -> None:
    c = ControlNumbers(path)
    for _ in range(n):
        out.put(c.next("acme", "interchange"))


def test_concurrent_processes_never_share_a_number(tmp_path: Path) -> None:
    path = str(tmp_path / "controls.json")
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_take, args=(path, 20, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    got = sorted(queue.get(timeout=30) for _ in range(80))
    for p in procs:
        p.join(timeout=30)
    assert got == list(range(1, 81))


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "controls.json"
    with pytest.raises(ValidationError, match="control number kind"):
        ControlNumbers(path).next("acme", "batch")
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"controls\.json:1:2: error: control number file is damaged: expected JSON"):
        ControlNumbers(path).next("acme", "interchange")
    path.write_text('{"acme": {"interchange": 9}}')
    with pytest.raises(ConfigError, match="at most 9"):
        ControlNumbers(path, maximum=9).next("acme", "interchange")
    assert json.loads(path.read_text()) == {"acme": {"interchange": 9}}
