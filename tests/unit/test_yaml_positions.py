from __future__ import annotations

from pathlib import Path

import pytest

from lockerhub import _yaml
from lockerhub.errors import ErrorGroup


def test_duplicate_keys_are_errors_with_both_positions(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n", "utf-8")
    with pytest.raises(ErrorGroup) as info:
        _yaml.load(path)
    assert [e.render() for e in info.value.errors] == [
        f"{path}:4:3: error: duplicate key 'c' (first written at line 3; the two would not be merged)",
        f"{path}:5:1: error: duplicate key 'a' (first written at line 1; the two would not be merged)",
    ]


def test_positions_of_keys_and_values(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("outer:\n  inner: value\n", "utf-8")
    data, positions = _yaml.load(path)
    assert data == {"outer": {"inner": "value"}}
    assert _yaml.locate(str(path), positions, ("outer", "inner")).line == 2
    assert _yaml.locate(str(path), positions, ("outer", "inner")).column == 10
    assert _yaml.locate(str(path), positions, ("outer", "inner"), key=True).column == 3
