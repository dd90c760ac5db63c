"""`lockerhub demo` with logging at DEBUG (LOCKERHUB_LOG_LEVEL) into a log file (LOCKERHUB_LOG_FILE), plus a chatty
HTTP logger that writes every request's headers and body and every response's body, as an HTTP library's debug
mode does: neither the output nor any log file holds the seeded recipients' data, an access code or the simulator's
API key."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

from lockerhub.security.masking import MASK

SEED = 5
SEEDED_PII = ("Test Recipient", "example.invalid", "+48000")

WIRE_LOGGER = '''
import logging
import sys

import requests

log = logging.getLogger("wire")
original = requests.Session.request


def request(self, method, url, **kwargs):
    response = original(self, method, url, **kwargs)
    headers = {**self.headers, **(kwargs.get("headers") or {})}
    log.debug("%s %s headers=%s json=%s data=%s -> %s %s", method, url, headers, kwargs.get("json"),
              kwargs.get("data"), response.status_code, response.text)
    return response


requests.Session.request = request
from lockerhub.cli import main  # noqa: E402

sys.argv = ["lockerhub", *sys.argv[1:]]
main()
'''


def test_demo_at_debug_leaks_no_personal_data_or_secret(tmp_path: Path) -> None:
    scan_demo_logs(tmp_path, database_url=None)


def scan_demo_logs(tmp_path: Path, *, database_url: str | None) -> None:
    """Run the demo at DEBUG on this store (SQLite when None) and scan all it printed and logged."""
    runner = tmp_path / "chatty_http.py"
    runner.write_text(WIRE_LOGGER, "utf-8")
    log_file = tmp_path / "data" / "logs" / "lockerhub.log"
    env = {**os.environ, "LOCKERHUB_DATA_DIR": str(tmp_path / "data"), "LOCKERHUB_LOG_LEVEL": "DEBUG",
           "LOCKERHUB_LOG_FILE": str(log_file)}
    env.pop("LOCKERHUB_DATABASE_URL", None)
    if database_url:
        env["LOCKERHUB_DATABASE_URL"] = database_url
    proc = subprocess.run([sys.executable, str(runner), "demo", "--seed", str(SEED), "--parcels", "30", "--lockers",
                           "10"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    logs = "".join(p.read_text("utf-8", errors="replace") for p in (tmp_path / "data").rglob("*.log"))
    assert log_file.exists()
    wire = [line for line in logs.splitlines() if " DEBUG wire: " in line]
    assert len(wire) > 50 and " DEBUG urllib3.connectionpool: " in logs  # really at DEBUG, libraries included
    assert any("/confirm" in line and f'"access_code":"{MASK}"' in line for line in wire)  # masked, not absent
    vendor = [line for line in wire if "/transport" not in line and "/tms/" not in line]  # not the SOAP TMS
    assert len(vendor) > 50 and all(f"'X-API-Key': '{MASK}'" in line for line in vendor)
    soap = [line for line in wire if "/transport" in line]
    assert any("PostParcelStatus" in line and "<wsse:Password Type=" in line for line in soap)  # sent, and masked

    rng = random.Random(SEED)  # as lockerhub.demo derives them
    api_key, tms_password, push_password = (f"demo-{rng.getrandbits(64):016x}" for _ in range(3))
    everything = proc.stdout + proc.stderr + logs
    for needle in (*SEEDED_PII, api_key, tms_password, push_password, "Test Recipient S00"):
        assert needle not in everything, needle
    assert not re.search(r'access_code"?\s*[:=]\s*"?\d', everything)
