"""Persistent per-partner control numbers: monotonic, kept across instances, atomic, wrapping at 999999999."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from lockerhub_x12.controls import MAXIMUM, ControlNumbers

from lockerhub.errors import ConfigError, ValidationError


def test_numbers_start_at_one_and_count_per_partner_and_kind(tmp_path: Path) -> None:
    numbers = ControlNumbers(tmp_path / "controls")
    assert [numbers.next("acme", "interchange") for _ in range(3)] == [1, 2, 3]
    assert numbers.next("acme", "group") == 1
    assert numbers.next("globex", "interchange") == 1
    assert numbers.next("acme", "transaction") == 1
    assert numbers.last("acme", "interchange") == 3 and numbers.last("nobody", "group") == 0


def test_numbers_persist_across_instances(tmp_path: Path) -> None:
    ControlNumbers(tmp_path).next("acme", "interchange")
    ControlNumbers(tmp_path).next("acme", "interchange")
    assert ControlNumbers(tmp_path).next("acme", "interchange") == 3
    assert json.loads((tmp_path / "control_numbers.json").read_text()) == {"acme": {"interchange": 3}}
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # the temporary file was replaced


def test_wraps_after_the_largest_number(tmp_path: Path) -> None:
    (tmp_path / "control_numbers.json").write_text(json.dumps({"acme": {"interchange": MAXIMUM - 1}}))
    numbers = ControlNumbers(tmp_path)
    assert [numbers.next("acme", "interchange") for _ in range(3)] == [MAXIMUM, 1, 2]


def test_concurrent_callers_never_share_a_number(tmp_path: Path) -> None:
    got: list[int] = []

    def take() -> None:
        numbers = ControlNumbers(tmp_path)  # one instance per thread, as separate processes would have
        for _ in range(20):
            got.append(numbers.next("acme", "transaction"))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 81))


def test_a_damaged_file_is_an_error_not_a_reset(tmp_path: Path) -> None:
    (tmp_path / "control_numbers.json").write_text("{not json")
    with pytest.raises(ConfigError, match="control number file is damaged"):
        ControlNumbers(tmp_path).next("acme", "interchange")


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="interchange | group | transaction"):
        ControlNumbers(tmp_path).next("acme", "ISA13")  # type: ignore[arg-type]
