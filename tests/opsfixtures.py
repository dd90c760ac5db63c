"""Shared by the ops API tests (tests/e2e/test_ops_api.py, tests/integration/test_postgres_ops_api.py): a hub over
the pilot config with one parcel and fresh quarantine items, users with a known TOTP secret, and a login helper.
Every secret here is an obviously fake test value."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp

from lockerhub.demo import lay_out_pilot
from lockerhub.runtime import quarantine
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import RECIPIENT_CONTEXT
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.security import access
from lockerhub.settings import Settings
from lockerhub.store import ParcelRow

with warnings.catch_warnings():  # this starlette asks for httpx2; the project pins httpx (either works here)
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

NOW = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
PASSWORD = "test-only-password-not-real"  # not a credential
RECIPIENT = {"name": "Test Recipient 0042", "phone": "+48000000042", "email": "recipient0042@example.invalid"}
PARCEL = ("acme-tms", "ACME-000042", "P-000042")


def open_hub(tmp: Path, *, database_url: str | None = None) -> Hub:
    """The pilot hub on a fresh store (SQLite under ``tmp`` unless ``database_url``), its clock fixed at NOW, one
    parcel with a recipient on file. The simlocker vendor is never reachable: a replay finds that out at once."""
    config = lay_out_pilot(tmp / "pilot")
    settings = Settings(data_dir=tmp / "data", database_url=database_url, pii_keys=None)
    hub = Hub.open(config, settings=settings, clock=lambda: NOW, retry=RetryPolicy(attempts=1))
    partner, ref, parcel_id = PARCEL
    with hub.store.transaction() as s:
        s.add(ParcelRow(key=f"{partner}:{ref}:{parcel_id}", partner=partner, shipment_ref=ref, parcel_id=parcel_id,
                        status="CREATED", parcel={"parcel_id": parcel_id, "weight_g": 1500},
                        recipient_enc=hub.cipher.encrypt(json.dumps(RECIPIENT), context=RECIPIENT_CONTEXT)))
    return hub


def fresh_item(hub: Hub, n: int) -> str:
    """A new open quarantine item whose payload holds the recipient's data; its id."""
    partner, ref, parcel_id = PARCEL
    payload = ",".join([f"{ref}-{n}", parcel_id, *RECIPIENT.values(), "twelve"])  # a CSV row with a bad weight
    with hub.store.transaction() as s:
        row = quarantine.put(s, hub.cipher, source=f"inbox/{partner}/drop-{n}.csv", partner=partner, stage="map",
                             location=f"inbox/{partner}/drop-{n}.csv:2:6",
                             errors=[(f"inbox/{partner}/drop-{n}.csv:2:6: error: column weight_kg: expected a "
                                      "number, found a word")], payload=payload)
        return row.qid


def add_user(hub: Hub, name: str, role: str) -> str:
    """A user with PASSWORD; returns their TOTP secret (read back from the provisioning URI)."""
    _, uri = access.add_user(hub.store, hub.cipher, name, role=role, password=PASSWORD, actor="test")
    return parse_qs(urlsplit(uri).query)["secret"][0]


def code(secret: str, *, steps: int = 0) -> str:
    """The TOTP code at NOW (``steps`` time steps later or earlier)."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(NOW) + steps)


def login(client: TestClient, name: str, secret: str | None, *, password: str = PASSWORD, steps: int = 0,
          totp: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/ops/login", json={"username": name, "password": password,
                                           "totp": totp or (code(secret, steps=steps) if secret else "000000")})


__all__ = ["NOW", "PARCEL", "PASSWORD", "RECIPIENT", "TestClient", "add_user", "code", "fresh_item", "login",
           "open_hub"]
