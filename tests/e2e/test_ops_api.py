"""The ops API over a real hub (pilot config, temporary SQLite): every endpoint for every role and for an anonymous
caller answers exactly as the permission matrix says; login with password and TOTP, reuse and rate limit; every
call is audited with its actor and never its token; recipient data only where the permission allows."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from lockerhub.ingress import create_app
from lockerhub.runtime.hub import Hub
from lockerhub.security import access, audit
from lockerhub.settings import Settings
from lockerhub.store import AuditRow, Store
from tests.opsfixtures import (
    NOW,
    PARCEL,
    PASSWORD,
    RECIPIENT,
    TestClient,
    add_user,
    fresh_item,
    login,
    open_hub,
)

ROLES = ("viewer", "operator", "integrator", "admin")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {parcel}, {qid} and {token_id} are filled per call with a target of their own
    allowed: str  # the roles that may call it, by initial: v o i a (written out here, not read from the code)
    body: dict[str, Any] | None = None
    ok: int = 200

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/ops/parcels?status=created&partner=acme-tms", "voia"),
    Endpoint("GET", "/ops/parcels/{parcel}", "voia"),
    Endpoint("GET", "/ops/quarantine", "voia"),
    Endpoint("GET", "/ops/quarantine/{qid}", "oia"),
    Endpoint("GET", "/ops/quarantine/{qid}?reveal=true", "ia"),
    Endpoint("POST", "/ops/quarantine/{qid}/replay", "oia", {"dry_run": True}),
    Endpoint("POST", "/ops/quarantine/{qid}/discard", "oia", {"reason": "test: a duplicate of another drop"}),
    Endpoint("GET", "/ops/connectors", "ia"),
    Endpoint("POST", "/ops/privacy/export", "a", {"subject": RECIPIENT["email"]}),
    Endpoint("POST", "/ops/privacy/erase", "a", {"subject": "nobody-on-file@example.invalid"}),
    Endpoint("GET", "/ops/audit/verify", "a"),
    Endpoint("GET", "/ops/tokens", "a"),
    Endpoint("POST", "/ops/tokens", "a", {"name": "{fresh}", "role": "viewer"}, 201),
    Endpoint("DELETE", "/ops/tokens/{token_id}", "a"),
]
_fresh = count(1)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, TestClient, dict[str, str]]]:
    """One hub for the matrix (each call makes its own target, so calls do not depend on each other)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOCKERHUB_SIMLOCKER_BASE_URL", "http://127.0.0.1:9")  # unreachable: replays find out at once
        mp.setenv("LOCKERHUB_SIMLOCKER_API_KEY", "test-only-key")
        hub = open_hub(tmp_path_factory.mktemp("ops"))
        tokens = {role: access.create_token(hub.store, name=f"test-{role}", role=role, actor="test")[1]
                  for role in ROLES}
        with TestClient(create_app(hub)) as client:
            yield hub, client, tokens
        hub.close()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", "test-only-key")
    opened = open_hub(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call(client: TestClient, hub: Hub, endpoint: Endpoint, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    n = next(_fresh)
    path = endpoint.path.format(parcel="/".join(PARCEL), qid=fresh_item(hub, n) if "{qid}" in endpoint.path else "",
                                token_id=access.create_token(hub.store, name=f"target-{n}", role="viewer",
                                                             actor="test")[0].id if "{token_id}" in endpoint.path
                                else "")
    body = None if endpoint.body is None else {k: (f"made-{n}" if v == "{fresh}" else v)
                                               for k, v in endpoint.body.items()}
    response = client.request(endpoint.method, path, json=body, headers=headers)
    assert "Traceback" not in response.text
    return response


def newest(hub: Hub) -> audit.Entry:
    return audit.entries(hub.store, limit=1)[0]


def test_every_ops_route_is_in_the_matrix(shared) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = shared
    routes = {(method, route.path) for route in client.app.routes  # type: ignore[attr-defined]
              if getattr(route, "path", "").startswith("/ops/") for method in route.methods}  # type: ignore[attr-defined]
    covered = {(e.method, e.path.split("?")[0].replace("{parcel}", "{partner}/{shipment}/{parcel}")) for e in ENDPOINTS}
    assert routes - {("POST", "/ops/login")} == covered


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_permission_matrix(shared, endpoint: Endpoint, who: str) -> None:  # type: ignore[no-untyped-def]
    hub, client, tokens = shared
    response = call(client, hub, endpoint, {} if who == "anonymous" else bearer(tokens[who]))
    entry = newest(hub)
    if who == "anonymous":
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"] == "unauthenticated"
        assert (entry.action, entry.actor, entry.details["reason"]) == ("ops.denied", "anonymous", "no_token")
    elif who[0] in endpoint.allowed:
        assert response.status_code == endpoint.ok, response.text
        assert entry.actor == f"token:test-{who}" and entry.action != "ops.denied"
    else:
        assert response.status_code == 403, response.text
        assert set(response.json()) == {"error", "detail"} and response.json()["error"] == "forbidden"
        assert (entry.action, entry.actor, entry.details["role"]) == ("ops.denied", f"token:test-{who}", who)
    assert tokens[who if who != "anonymous" else "admin"] not in json.dumps(entry.details)


@pytest.mark.parametrize("header", ["", "Basic dGVzdDp0ZXN0", "Bearer ", "Bearer lhk_not-a-token",
                                    "Bearer something-else"])
def test_missing_or_unknown_tokens_are_401(client: TestClient, hub: Hub, header: str) -> None:
    response = client.get("/ops/parcels", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert newest(hub).action == "ops.denied" and newest(hub).actor == "anonymous"


def test_a_revoked_token_is_refused_at_once(client: TestClient, hub: Hub) -> None:
    info, token = access.create_token(hub.store, name="script", role="admin", actor="test")
    assert client.get("/ops/audit/verify", headers=bearer(token)).status_code == 200
    assert client.delete(f"/ops/tokens/{info.id}", headers=bearer(token)).status_code == 200  # revokes itself
    response = client.get("/ops/audit/verify", headers=bearer(token))
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    listed = access.list_tokens(hub.store, include_revoked=True)
    assert [(t.name, t.revoked_at is not None, t.last_used_at is not None) for t in listed] == [("script", True, True)]


def test_login_opens_a_session_with_the_users_role(client: TestClient, hub: Hub) -> None:
    secret = add_user(hub, "test-operator", "operator")
    response = login(client, "test-operator", secret)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "operator" and body["token"].startswith("lhs_")
    assert client.get("/ops/quarantine", headers=bearer(body["token"])).status_code == 200
    assert client.get("/ops/audit/verify", headers=bearer(body["token"])).status_code == 403
    actions = [(e.action, e.actor) for e in audit.entries(hub.store, limit=3)][::-1]
    assert actions == [("ops.login", "ops:test-operator"), ("ops.quarantine.list", "ops:test-operator"),
                       ("ops.denied", "ops:test-operator")]
    access.disable_user(hub.store, "test-operator", actor="test")  # its sessions end with it
    assert client.get("/ops/quarantine", headers=bearer(body["token"])).status_code == 401


def test_wrong_password_wrong_code_and_a_reused_code_are_refused_alike(client: TestClient, hub: Hub) -> None:
    secret = add_user(hub, "test-integrator", "integrator")
    refused = [login(client, "test-integrator", secret, password="test-only-wrong-password"),
               login(client, "test-integrator", secret, steps=3),  # a code of a step outside the window
               login(client, "test-nobody", secret)]
    assert login(client, "test-integrator", secret).status_code == 200
    assert login(client, "test-integrator", secret, steps=1).status_code == 200  # the next step is fine
    refused += [login(client, "test-integrator", secret, steps=1),  # the same code again
                login(client, "test-integrator", secret)]  # an older one, still inside the window
    for response in refused:
        assert response.status_code == 401, response.text
        assert response.json() == {"error": "login_failed", "detail": "the user name, password or code is wrong."}
    # five failures from this address: a success cleared the name's count, not the address's
    assert login(client, "test-integrator", secret, steps=-1).status_code == 429
    failed = audit.entries(hub.store, action="ops.login_failed")
    assert [e.actor for e in failed][::-1] == ["ops:test-integrator", "ops:test-integrator", "anonymous",
                                              "ops:test-integrator", "ops:test-integrator"]


def test_the_sixth_attempt_is_throttled_across_names_and_restarts(client: TestClient, hub: Hub,
                                                                  tmp_path: Path) -> None:
    secret = add_user(hub, "test-viewer", "viewer")
    for _ in range(5):
        assert login(client, "test-viewer", secret, password="test-only-wrong-password").status_code == 401
    throttled = login(client, "test-viewer", secret)  # right this time, but too late
    assert throttled.status_code == 429 and throttled.json()["error"] == "too_many_attempts"
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert login(client, "test-other", None).status_code == 429  # same address
    again = Hub.open(hub.config.file, settings=hub.settings, clock=lambda: NOW)  # another process, or a restart
    try:
        with TestClient(create_app(again)) as restarted:
            assert login(restarted, "test-viewer", secret).status_code == 429  # counted in the database
    finally:
        again.close()
    assert newest(hub).action == "ops.login_throttled"


def test_tokens_never_reach_the_audit_log_or_the_logs(client: TestClient, hub: Hub,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, admin = access.create_token(hub.store, name="test-admin", role="admin", actor="test")
    made = client.post("/ops/tokens", json={"name": "airflow", "role": "operator"}, headers=bearer(admin)).json()
    secret = add_user(hub, "test-admin-user", "admin")
    session = login(client, "test-admin-user", secret).json()["token"]
    for token in (admin, made["token"], session):
        client.get("/ops/parcels", headers=bearer(token))
        client.get("/ops/parcels", headers=bearer(token + "x"))  # a near miss is logged as a denial
    with hub.store.transaction() as s:
        stored = json.dumps([[str(v) for v in row] for row in s.execute(text("SELECT * FROM audit_log"))])
        hashes = list(s.execute(text("SELECT token_hash FROM ops_tokens")).scalars())
    for token in (admin, made["token"], session):
        assert token not in stored and token not in caplog.text and token not in hashes
        assert access.token_hash(token) in hashes
    assert audit.verify(hub.store).ok
    assert {e.actor for e in audit.entries(hub.store, action="ops.parcels.list")} == {
        "token:test-admin", "token:airflow", "ops:test-admin-user"}


def test_recipient_data_only_with_the_reveal_permission(client: TestClient, hub: Hub) -> None:
    tokens = {role: access.create_token(hub.store, name=f"t-{role}", role=role, actor="test")[1] for role in ROLES}
    qid = fresh_item(hub, 1)
    pii = list(RECIPIENT.values())
    for role in ("operator", "integrator"):
        shown = client.get(f"/ops/quarantine/{qid}", headers=bearer(tokens[role]))
        assert shown.status_code == 200 and "payload" not in shown.json()
        assert not any(value in shown.text for value in pii)
    assert client.get(f"/ops/quarantine/{qid}?reveal=true", headers=bearer(tokens["operator"])).status_code == 403
    revealed = client.get(f"/ops/quarantine/{qid}?reveal=true", headers=bearer(tokens["integrator"]))
    assert revealed.status_code == 200 and RECIPIENT["email"] in revealed.json()["payload"]
    entry = newest(hub)
    assert (entry.action, entry.subject, entry.actor) == ("quarantine.reveal", qid, "token:t-integrator")
    for path in ("/ops/parcels", "/ops/parcels/" + "/".join(PARCEL), "/ops/quarantine"):
        response = client.get(path, headers=bearer(tokens["admin"]))
        assert response.status_code == 200 and not any(value in response.text for value in pii), path
    detail = client.get("/ops/parcels/" + "/".join(PARCEL), headers=bearer(tokens["viewer"])).json()
    assert detail["recipient"] == {"name": "***", "phone": "***", "email": "***"} and detail["access_code"] is None


def test_replay_discard_and_privacy_calls_do_their_work(client: TestClient, hub: Hub) -> None:
    _, admin = access.create_token(hub.store, name="test-admin", role="admin", actor="test")
    qid = fresh_item(hub, 1)
    replayed = client.post(f"/ops/quarantine/{qid}/replay", json={"dry_run": True}, headers=bearer(admin)).json()
    assert replayed["dry_run"] is True and replayed["actor"] == "token:test-admin"
    assert [r["qid"] for r in replayed["results"]] == [qid]
    discarded = client.post(f"/ops/quarantine/{qid}/discard", json={"reason": "test"}, headers=bearer(admin))
    assert discarded.status_code == 200 and discarded.json()["state"] == "discarded"
    again = client.post(f"/ops/quarantine/{qid}/discard", json={"reason": "test"}, headers=bearer(admin))
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert client.get("/ops/quarantine/q-999999", headers=bearer(admin)).status_code == 404
    assert client.get("/ops/quarantine/nonsense", headers=bearer(admin)).status_code == 404
    exported = client.post("/ops/privacy/export", json={"subject": RECIPIENT["phone"]}, headers=bearer(admin)).json()
    assert [p["parcel_id"] for p in exported["parcels"]] == [PARCEL[2]]
    bad = client.post("/ops/privacy/export", json={"subject": "neither"}, headers=bearer(admin))
    assert bad.status_code == 422 and "neither" not in bad.json()["detail"].replace("found neither", "")
    erased = client.post("/ops/privacy/erase", json={"subject": RECIPIENT["email"]}, headers=bearer(admin)).json()
    assert erased["parcels"] == 1 and erased["audit_seq"] == newest(hub).seq
    detail = client.get("/ops/parcels/" + "/".join(PARCEL), headers=bearer(admin)).json()
    assert detail["recipient"] == "erased"
    with hub.store.transaction() as s:
        actors = set(s.scalars(select(AuditRow.actor).where(AuditRow.action.in_(
            ["quarantine.replay", "quarantine.discard", "privacy.export", "privacy.erase"]))))
    assert actors == {"token:test-admin"}


def test_access_commands(pilot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from lockerhub.cli import app

    monkeypatch.setenv("LOCKERHUB_ACTOR", "test-admin")
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> str:
        result = runner.invoke(app, list(args), input=stdin)
        assert result.exit_code == 0, result.output
        return result.output

    made = json.loads(run("access", "token", "create", "--name", "airflow", "--role", "operator", "--json"))
    assert made["token"].startswith("lhk_") and made["role"] == "operator"
    listed = json.loads(run("access", "token", "list", "--json"))
    assert [(t["name"], t["role"]) for t in listed] == [("airflow", "operator")] and made["token"] not in str(listed)
    run("access", "token", "revoke", str(made["id"]))
    assert json.loads(run("access", "token", "list", "--json")) == []
    shown = run("access", "user", "add", "test-operator", "--role", "operator", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert "otpauth://totp/lockerhub:test-operator?secret=" in shown and PASSWORD not in shown.split("URI")[-1]
    piped = run("access", "user", "add", "test-viewer", "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    assert "otpauth://" in piped
    run("access", "user", "disable", "test-viewer")
    users = json.loads(run("access", "user", "list", "--json"))
    assert [(u["name"], u["enabled"]) for u in users] == [("test-operator", True), ("test-viewer", False)]
    store = Store(Settings().resolved_database_url())
    actions = [(e.action, e.actor) for e in audit.entries(store)][::-1]
    store.dispose()
    assert actions == [("access.token.create", "test-admin"), ("access.token.revoke", "test-admin"),
                       ("access.user.add", "test-admin"), ("access.user.add", "test-admin"),
                       ("access.user.disable", "test-admin")]
    refused = runner.invoke(app, ["access", "user", "add", "test-short", "--role", "viewer", "--password-stdin"],
                            input="short\n")
    assert refused.exit_code != 0
