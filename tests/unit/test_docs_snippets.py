"""Every YAML snippet in the docs is checked by the code that would read it, so the docs cannot go stale."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lockerhub.config import HubConfig
from lockerhub.mapping import validate_mapping
from lockerhub.model.crosswalk import load_crosswalk
from lockerhub.simulator.network import load_network
from lockerhub.simulator.scenario import load as load_scenario

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "vendors").glob("*.md"))]


def _snippets() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        for i, block in enumerate(doc.read_text("utf-8").split("```yaml\n")[1:]):
            out.append((f"{doc.name}#{i + 1}", block.split("```", 1)[0]))
    return out


@pytest.mark.parametrize(("where", "snippet"), _snippets(), ids=[w for w, _ in _snippets()])
def test_yaml_snippet_is_valid(where: str, snippet: str, tmp_path: Path) -> None:
    data = yaml.safe_load(snippet)
    path = tmp_path / "snippet.yaml"
    path.write_text(snippet, "utf-8")
    if "mapping" in data:
        assert [str(e) for e in validate_mapping(path)] == [], where
    elif "partners" in data or "routing" in data:
        HubConfig.model_validate(data)
    elif "codes" in data:
        assert load_crosswalk(path).codes, where
    elif "scenario" in data:
        assert load_scenario(path).steps, where
    elif "lockers" in data:
        assert load_network(path)[0], where
    else:
        pytest.fail(f"{where}: a YAML snippet of unknown kind; teach this test to check it")
