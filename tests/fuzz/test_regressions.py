"""Inputs that once escaped as exceptions other than lockerhub errors (or hung), kept as regression cases.

All five were in YAML loading (``lockerhub._yaml.load``, used for mappings and hub configs): a control character
(found by the mapping fuzz test), bytes that are not UTF-8 (found once the fuzz test wrote raw bytes), and three
found while reviewing what the fuzz test cannot reach with small inputs: aliases of aliases that expand
exponentially ("billion laughs", a hang), an alias inside its own anchor and collections nested thousands deep
(both RecursionError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockerhub.errors import ConfigError
from lockerhub.mapping import load_mapping

LAUGHS = "version: 1\nl0: &l0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10))

CASES = {
    "control character": (b"version: 1\nmapping: acme/\x1f\n",
                          "2:15: error: invalid YAML: special characters are not allowed: found character U+001F"),
    "not utf-8": (b"version: 1\nmapping: caf\xe9\n",
                  "2:13: error: file is not UTF-8 text: expected UTF-8, found byte 0xe9"),
    "billion laughs": (LAUGHS.encode(), "error: YAML aliases expand too far: expected at most 100,000 values"),
    "recursive alias": (b"version: 1\nfields: &a [*a]\n", "2:9: error: YAML alias refers to the value that contains it"),
    "nested too deeply": (b"fields: " + b"[" * 5000 + b"]" * 5000,
                          "error: invalid YAML: collections nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_yaml_loading_reports_instead_of_crashing(tmp_path: Path, case: str) -> None:
    content, message = CASES[case]
    path = tmp_path / "mapping.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert message in info.value.render()
    assert info.value.render().startswith(str(path))
