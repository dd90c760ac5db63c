"""Ops access as a library: password and token hashing, the role order and its one matrix (and the docs' copy of
it), the login rate limit, TOTP windows and reuse, sessions ending with their user."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select, text

from lockerhub.security import access, audit
from lockerhub.security.access import AccessError, LoginRefused, LoginThrottled, RateLimit
from lockerhub.security.crypto import FieldCipher
from lockerhub.store import OpsUserRow, Store

T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
KEYS = "ka:" + base64.b64encode(bytes([7]) * 32).decode()  # a test-only key, not a secret
PASSWORD = "test-only-password-not-real"  # not a credential
DOCS = Path(__file__).resolve().parents[3] / "docs" / "security.md"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher.from_env_or_file(KEYS, Path("/nonexistent"))


def user(store: Store, cipher: FieldCipher, name: str = "test-operator", role: str = "operator") -> str:
    _, uri = access.add_user(store, cipher, name, role=role, password=PASSWORD, actor="test")
    return parse_qs(urlsplit(uri).query)["secret"][0]


def code_at(secret: str, when: datetime, steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(when) + steps)


# --------------------------------------------------------------------------- hashing


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = access.hash_password(PASSWORD), access.hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$15$8$1$") and PASSWORD not in first
    assert access.verify_password(PASSWORD, first) and access.verify_password(PASSWORD, second)
    assert not access.verify_password(PASSWORD + "x", first)
    assert not access.verify_password(PASSWORD, "plain$text") and not access.verify_password(PASSWORD, "")


def test_tokens_are_shown_once_and_stored_as_their_hash(store: Store) -> None:
    info, token = access.create_token(store, name="airflow", role="operator", actor="test", now=T0)
    assert token.startswith("lhk_") and len(token) >= 4 + 43
    with store.transaction() as s:
        dump = repr(list(s.execute(text("SELECT * FROM ops_tokens"))))
    assert token not in dump and access.token_hash(token) in dump
    principal = access.authenticate(store, token, now=T0)
    assert principal is not None and (principal.actor, principal.role, principal.kind) == ("token:airflow",
                                                                                          "operator", "api")
    assert access.authenticate(store, token[:-1] + ("A" if token[-1] != "A" else "B"), now=T0) is None
    assert access.list_tokens(store)[0].last_used_at == T0
    access.revoke_token(store, info.id, actor="test")
    assert access.authenticate(store, token, now=T0) is None
    assert [e.action for e in audit.entries(store)][::-1] == ["access.token.create", "access.token.revoke"]


def test_token_names_and_roles_are_checked(store: Store) -> None:
    access.create_token(store, name="airflow", role="viewer", actor="test")
    with pytest.raises(AccessError, match="exists"):
        access.create_token(store, name="airflow", role="viewer", actor="test")
    with pytest.raises(AccessError, match="role"):
        access.create_token(store, name="other", role="root", actor="test")
    with pytest.raises(AccessError, match="token name"):
        access.create_token(store, name="has space", role="viewer", actor="test")


# --------------------------------------------------------------------------- roles


def test_roles_are_ordered_and_each_holds_the_permissions_below_it() -> None:
    assert access.ROLES == ("viewer", "operator", "integrator", "admin")
    held = [{p for p in access.PERMISSIONS if access.allowed(role, p)} for role in access.ROLES]
    assert all(lower < higher for lower, higher in itertools.pairwise(held))
    assert held[-1] == set(access.PERMISSIONS)
    assert held[0] == {"parcels.read", "quarantine.list"}
    assert not access.allowed("root", "parcels.read")


def test_the_docs_print_the_matrix_of_the_code() -> None:
    assert access.permission_table() in DOCS.read_text("utf-8")


# --------------------------------------------------------------------------- TOTP


def test_a_code_is_valid_one_step_either_side_and_only_once() -> None:
    secret = pyotp.random_base32()
    step = pyotp.TOTP(secret).timecode(T0)
    for offset in (-1, 0, 1):
        assert access.totp_step(secret, code_at(secret, T0, offset), now=T0, last_step=None) == step + offset
    for offset in (-2, 2):
        assert access.totp_step(secret, code_at(secret, T0, offset), now=T0, last_step=None) is None
    assert access.totp_step(secret, code_at(secret, T0), now=T0, last_step=step) is None  # used
    assert access.totp_step(secret, code_at(secret, T0, -1), now=T0, last_step=step) is None  # older
    assert access.totp_step(secret, code_at(secret, T0, 1), now=T0, last_step=step) == step + 1


def test_the_totp_secret_is_stored_encrypted(store: Store, cipher: FieldCipher) -> None:
    secret = user(store, cipher)
    with store.transaction() as s:
        row = s.scalar(select(OpsUserRow))
        assert row is not None and secret not in row.totp_secret_enc and PASSWORD not in row.password_hash
        assert cipher.decrypt(row.totp_secret_enc, context=access.TOTP_CONTEXT) == secret
    with pytest.raises(AccessError, match="password too short"):
        access.add_user(store, cipher, "test-other", role="viewer", password="short", actor="test")


def test_login_refuses_a_reused_code_and_a_disabled_user(store: Store, cipher: FieldCipher) -> None:
    secret = user(store, cipher)
    opened = access.login(store, cipher, username="test-operator", password=PASSWORD, code=code_at(secret, T0),
                          client="192.0.2.1", now=T0)
    assert opened.token.startswith("lhs_") and opened.expires_at == T0 + access.SESSION_TTL
    assert access.authenticate(store, opened.token, now=T0) == opened.principal
    assert access.authenticate(store, opened.token, now=opened.expires_at) is None  # expired
    with pytest.raises(LoginRefused):
        access.login(store, cipher, username="test-operator", password=PASSWORD, code=code_at(secret, T0),
                     client="192.0.2.1", now=T0 + timedelta(seconds=5))
    later = T0 + timedelta(minutes=1)
    second = access.login(store, cipher, username="test-operator", password=PASSWORD, code=code_at(secret, later),
                          client="192.0.2.1", now=later)
    access.disable_user(store, "test-operator", actor="test", now=later)
    assert access.authenticate(store, second.token, now=later) is None
    with pytest.raises(LoginRefused):
        access.login(store, cipher, username="test-operator", password=PASSWORD,
                     code=code_at(secret, later, 1), client="192.0.2.1", now=later)


# --------------------------------------------------------------------------- rate limit


def fail(store: Store, cipher: FieldCipher, *, name: str = "test-operator", client: str = "192.0.2.1",
         at: datetime = T0, limit: RateLimit | None = None) -> type[Exception]:
    with pytest.raises((LoginRefused, LoginThrottled)) as err:
        access.login(store, cipher, username=name, password="test-only-wrong", code="000000", client=client, now=at,
                     limit=limit or RateLimit())
    return err.type


def test_five_failures_in_the_window_throttle_the_name_and_the_address(store: Store, cipher: FieldCipher) -> None:
    secret = user(store, cipher)
    for minute in range(5):
        assert fail(store, cipher, at=T0 + timedelta(minutes=minute)) is LoginRefused
    with pytest.raises(LoginThrottled) as err:  # the right password does not help now
        access.login(store, cipher, username="test-operator", password=PASSWORD, code=code_at(secret, T0),
                     client="198.51.100.7", now=T0 + timedelta(minutes=5))
    assert err.value.retry_after == 10 * 60  # the first failure (at T0) leaves the 15-minute window at T0+15
    assert fail(store, cipher, name="test-other", at=T0 + timedelta(minutes=5)) is LoginThrottled  # same address
    # throttled attempts are not counted: once the first failure is out of the window, one more try is allowed
    assert fail(store, cipher, client="198.51.100.7", at=T0 + timedelta(minutes=15, seconds=1)) is LoginRefused
    assert fail(store, cipher, client="198.51.100.7", at=T0 + timedelta(minutes=15, seconds=2)) is LoginThrottled
    opened = access.login(store, cipher, username="test-operator", password=PASSWORD,
                          code=code_at(secret, T0 + timedelta(minutes=31)), client="198.51.100.7",
                          now=T0 + timedelta(minutes=31))
    assert opened.principal.actor == "ops:test-operator"


def test_failures_are_counted_in_the_database_by_pseudonym(store: Store, cipher: FieldCipher) -> None:
    fail(store, cipher, name="Test-Operator")
    with store.transaction() as s:
        keys = list(s.scalars(text("SELECT key FROM ops_login_failures ORDER BY key")))
    assert [k.split(":")[0] for k in keys] == ["ip", "user"]
    assert not any("192.0.2.1" in k or "operator" in k.lower() for k in keys)
    limit = RateLimit(failures=2, window=timedelta(seconds=60))
    assert access.retry_after(store, keys, now=T0, limit=limit) is None
    fail(store, cipher, name="test-operator", at=T0 + timedelta(seconds=10), limit=limit)  # same name, any case
    assert access.retry_after(store, keys, now=T0 + timedelta(seconds=10), limit=limit) == 50
    assert access.retry_after(store, keys, now=T0 + timedelta(seconds=60), limit=limit) is None
