"""lockerhub.mapping.reference: the rule reference in docs/mapping-guide.md is generated from the models.

The guide's mapping snippets must be valid mappings too. When the reference test fails, regenerate the section with
``uv run lockerhub mapping reference --write docs/mapping-guide.md``
(:func:`lockerhub.mapping.reference.write_reference`) and review the change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockerhub.errors import ConfigError
from lockerhub.mapping import validate_mapping
from lockerhub.mapping.ops import OPS
from lockerhub.mapping.reference import END, START, render_reference, stale_reference, write_reference

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "mapping-guide.md"


def test_guide_reference_matches_the_code() -> None:
    assert not stale_reference(GUIDE), (
        "docs/mapping-guide.md rule reference is out of date: run "
        "`uv run lockerhub mapping reference --write docs/mapping-guide.md`")


def test_every_op_and_its_fields_are_documented() -> None:
    text = render_reference()
    for name, cls in OPS.items():
        assert f"#### `{name}`" in text
        for field, info in cls.model_fields.items():
            if field not in ("op", "required", "default"):
                assert f"| `{info.alias or field}` |" in text, (name, field)
    assert "| `fields` | mapping of name to rule (expression or group) | required |" in text
    assert "| `required` | boolean | `false` |" in text


def test_write_replaces_only_the_marked_section(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(f"# Guide\n\nintro\n\n{START}\nold text\n{END}\n\nafter\n", "utf-8")
    assert stale_reference(doc)
    assert write_reference(doc) is True
    text = doc.read_text("utf-8")
    assert text.startswith(f"# Guide\n\nintro\n\n{START}\n") and text.endswith(f"{END}\n\nafter\n")
    assert "old text" not in text and not stale_reference(doc)
    assert write_reference(doc) is False
    (tmp_path / "bare.md").write_text("no markers", "utf-8")
    with pytest.raises(ConfigError, match="no generated reference section"):
        stale_reference(tmp_path / "bare.md")


def _guide_mappings() -> list[str]:
    blocks = GUIDE.read_text("utf-8").split("```yaml\n")[1:]
    return [b.split("```", 1)[0] for b in blocks if b.startswith("mapping:")]


@pytest.mark.parametrize("snippet", _guide_mappings())
def test_guide_mapping_snippets_are_valid(snippet: str, tmp_path: Path) -> None:
    path = tmp_path / "snippet.yaml"
    path.write_text(snippet, "utf-8")
    assert [str(e) for e in validate_mapping(path)] == []
