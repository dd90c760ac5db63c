"""A third-party connector package, installed for real, is discovered through its entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN = '''
"""A tiny third-party locker vendor plugin, as a vendor would publish it."""
from pydantic import BaseModel
from lockerhub.plugins import Capability, CheckResult, ConnectorKind


class AcmeConfig(BaseModel):
    base_url: str = "http://127.0.0.1:1"


class AcmeLockerConnector:
    id = "acme-locker"
    kind = ConnectorKind.LOCKER_VENDOR
    version = "9.9.9"
    capabilities = frozenset({Capability.LIST_LOCKERS, Capability.HARD_BOOK})
    config_model = AcmeConfig

    def __init__(self, config):
        self.config = config

    def check(self):
        return CheckResult().add("config", True)

    def list_lockers(self):
        return iter(())

    def size_classes(self):
        return []

    def reserve(self, locker_id, size_class, *, idempotency_key):
        raise NotImplementedError("this example cannot book")

    def book(self, reservation_id, *, idempotency_key):
        raise NotImplementedError("this example cannot book")

    def cancel(self, reservation_id):
        return None

    def get_status(self, reservation_id):
        return []


class Broken:
    id = "acme-broken"
'''


def _package(root: Path, name: str, entry_points: str) -> Path:
    src = root / name
    (src / "acme_lockers").mkdir(parents=True)
    (src / "acme_lockers" / "__init__.py").write_text(PLUGIN, "utf-8")
    (src / "pyproject.toml").write_text(textwrap.dedent(f"""
        [project]
        name = "{name}"
        version = "9.9.9"
        dependencies = []
        [project.entry-points."lockerhub.connectors"]
        {entry_points}
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        [tool.hatch.build.targets.wheel]
        packages = ["acme_lockers"]
    """), "utf-8")
    return src


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to install the example plugin package (it installs the dev environment too)")
    root = tmp_path_factory.mktemp("plugin")
    src = _package(root, "acme-lockers", '"acme-locker" = "acme_lockers:AcmeLockerConnector"\n'
                                         '        "acme-broken" = "acme_lockers:Broken"')
    target = root / "site"
    subprocess.run([uv, "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--python",
                    sys.executable, "--target", str(target), str(src)], check=True, timeout=300)
    return target


def _list(target: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run([sys.executable, "-m", "lockerhub.cli", "connectors", "list", "--json", *extra],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def test_installed_plugin_is_listed_with_capabilities(installed: Path) -> None:
    proc = _list(installed)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(proc.stdout)}
    assert rows["acme-locker"]["package"] == "acme-lockers"
    assert rows["acme-locker"]["version"] == "9.9.9"
    assert rows["acme-locker"]["capabilities"] == ["hard_book", "list_lockers"]
    assert rows["acme-locker"]["error"] is None
    assert {"csv", "simlocker"} <= set(rows)  # built-ins still load beside it


def test_broken_plugin_is_reported_and_skipped_unless_strict(installed: Path) -> None:
    rows = {r["id"]: r for r in json.loads(_list(installed).stdout)}
    assert "connector 'acme-broken' from package acme-lockers" in rows["acme-broken"]["error"]
    assert "version" in rows["acme-broken"]["error"]
    strict = _list(installed, "--strict")
    assert strict.returncode == 1
    assert "acme-broken" in strict.stderr and "Traceback" not in strict.stderr
