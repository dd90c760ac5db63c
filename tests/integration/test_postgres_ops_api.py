"""The ops API on a real PostgreSQL: login with password and TOTP, the rate limit counted in the database (and
seen by a second ingress process on the same database), one permitted and one refused call, all audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockerhub.ingress import create_app
from lockerhub.runtime.hub import Hub
from lockerhub.security import audit
from tests.opsfixtures import NOW, TestClient, add_user, fresh_item, login, open_hub

pytestmark = pytest.mark.integration


@pytest.fixture
def hub(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_BASE_URL", "http://127.0.0.1:9")  # never called here
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", "test-only-key")
    opened = open_hub(tmp_path, database_url=pg_url)
    assert opened.store.engine.dialect.name == "postgresql"
    yield opened
    opened.close()


def test_login_rate_limit_and_permissions_on_postgresql(hub: Hub) -> None:
    secret = add_user(hub, "test-operator", "operator")
    qid = fresh_item(hub, 1)
    with TestClient(create_app(hub)) as client:
        session = login(client, "test-operator", secret)
        assert session.status_code == 200, session.text
        headers = {"Authorization": f"Bearer {session.json()['token']}"}
        shown = client.get(f"/ops/quarantine/{qid}", headers=headers)
        assert shown.status_code == 200 and "payload" not in shown.json()
        assert client.get(f"/ops/quarantine/{qid}?reveal=true", headers=headers).status_code == 403
        assert login(client, "test-operator", secret).status_code == 401  # the same code again
        for _ in range(4):
            assert login(client, "test-operator", secret, password="test-only-wrong-password").status_code == 401
        throttled = login(client, "test-operator", secret, steps=1)
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    second = Hub.open(hub.config.file, settings=hub.settings, clock=lambda: NOW)  # another ingress process
    try:
        with TestClient(create_app(second)) as other:
            assert login(other, "test-operator", secret, steps=1).status_code == 429
    finally:
        second.close()
    actions = [(e.action, e.actor) for e in audit.entries(hub.store)][::-1]
    assert actions[1:4] == [("ops.login", "ops:test-operator"), ("ops.quarantine.show", "ops:test-operator"),
                            ("ops.denied", "ops:test-operator")]
    assert [a for a, _ in actions].count("ops.login_failed") == 5
    assert [a for a, _ in actions][-2:] == ["ops.login_throttled", "ops.login_throttled"]
    assert audit.verify(hub.store).ok
