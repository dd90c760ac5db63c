from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from lockerhub.errors import ConfigError
from lockerhub.security.crypto import FieldCipher


def key_entry(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def test_round_trip_with_generated_key_file(tmp_path: Path) -> None:
    cipher = FieldCipher.from_env_or_file(None, tmp_path)
    token = cipher.encrypt("Test Recipient", context="parcels.recipient")
    assert token is not None and "Test Recipient" not in token
    assert cipher.decrypt(token, context="parcels.recipient") == "Test Recipient"
    key_file = tmp_path / "keys" / "pii.keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = FieldCipher.from_env_or_file(None, tmp_path)  # the same key is read back
    assert again.decrypt(token, context="parcels.recipient") == "Test Recipient"


def test_same_plaintext_encrypts_differently() -> None:
    cipher = FieldCipher.from_env_or_file(key_entry("k1"), Path("/nonexistent"))
    assert cipher.encrypt("x", context="c") != cipher.encrypt("x", context="c")


def test_context_binds_the_column() -> None:
    cipher = FieldCipher.from_env_or_file(key_entry("k1"), Path("/nonexistent"))
    token = cipher.encrypt("123456", context="parcels.access_code")
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        cipher.decrypt(token, context="parcels.recipient")


def test_old_keys_still_decrypt_after_rotation() -> None:
    old = key_entry("k1")
    token = FieldCipher.from_env_or_file(old, Path("/x")).encrypt("v", context="c")
    rotated = FieldCipher.from_env_or_file(f"{key_entry('k2')},{old}", Path("/x"))
    assert rotated.active_kid == "k2"
    assert rotated.decrypt(token, context="c") == "v"
    with pytest.raises(ConfigError, match="unknown key id"):
        FieldCipher.from_env_or_file(key_entry("k3"), Path("/x")).decrypt(token, context="c")


@pytest.mark.parametrize("bad", ["k1:notbase64!!", "k1:" + base64.b64encode(b"short").decode(), ":", ""])
def test_bad_key_ring_is_a_clear_error_without_the_key(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        FieldCipher.from_env_or_file(bad or " ", Path("/x"))
    assert "LOCKERHUB_PII_KEYS" in str(info.value)
    if ":" in bad and len(bad) > 3:
        assert bad.split(":", 1)[1] not in str(info.value)
