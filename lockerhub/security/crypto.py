"""Field-level encryption for recipient PII and access codes (AES-256-GCM with key ids).

Keys come from ``LOCKERHUB_PII_KEYS`` (``kid:base64key[,kid:base64key...]``, the first one encrypts, all of
them decrypt) or, when unset, from ``<data dir>/keys/pii.keys`` which is created on first use with mode 0600.
Keys never live in YAML or in the repository.

Ciphertext text form: ``v1:<kid>:<base64(nonce || ciphertext+tag)>``. The associated data binds a value to its
column (``parcels.recipient``), so a ciphertext copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lockerhub.errors import ConfigError

_PREFIX = "v1"


def _parse_keyring(text: str, origin: str) -> dict[str, bytes]:
    ring: dict[str, bytes] = {}
    for n, item in enumerate(p.strip() for p in text.replace("\n", ",").split(",")):
        if not item or item.startswith("#"):
            continue
        kid, sep, b64 = item.partition(":")
        try:
            key = base64.b64decode(b64, validate=True) if sep else b""
        except ValueError:
            key = b""
        if len(key) != 32 or not kid:
            raise ConfigError(f"{origin}: key entry {n + 1}", expected="kid:<base64 of 32 bytes>",
                              found=f"{len(key)} bytes" if key else "unreadable entry")
        ring[kid] = key
    if not ring:
        raise ConfigError(f"{origin}: no keys", expected="at least one kid:base64key entry")
    return ring


class FieldCipher:
    """Encrypts and decrypts short text fields. The first key in the ring is the active one."""

    def __init__(self, keyring: dict[str, bytes]) -> None:
        self._ring = dict(keyring)
        self.active_kid = next(iter(self._ring))
        self._aead = {kid: AESGCM(key) for kid, key in self._ring.items()}

    @classmethod
    def from_env_or_file(cls, env_value: str | None, data_dir: Path) -> FieldCipher:
        if env_value:
            return cls(_parse_keyring(env_value, "LOCKERHUB_PII_KEYS"))
        path = data_dir / "keys" / "pii.keys"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            kid = "k" + secrets.token_hex(4)
            line = f"{kid}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}\n"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(line)
        return cls(_parse_keyring(path.read_text("utf-8"), str(path)))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id of the ring, the active one first."""
        return tuple(self._ring)

    @staticmethod
    def key_id_of(token: str) -> str | None:
        """The key id a ciphertext was written with (None when it is not one of ours)."""
        prefix, sep, rest = token.partition(":")
        kid, sep2, _ = rest.partition(":")
        return kid if prefix == _PREFIX and sep and sep2 and kid else None

    def token_prefix(self) -> str:
        """What every ciphertext under the active key starts with."""
        return f"{_PREFIX}:{self.active_kid}:"

    def pseudonym(self, value: str, *, context: str, kid: str | None = None) -> str:
        """A keyed, one-way name for a value (``kid:hex``, under the active key unless ``kid`` is given): the same
        value gives the same name under the same key, and nobody without the key can tell which value it names.
        Used for audit subjects; to look one up after a rotation, pass the key id it starts with."""
        kid = kid or self.active_kid
        if kid not in self._ring:
            raise ConfigError("pseudonym key id", expected="a key in the key ring", found=repr(kid))
        mac = hmac.new(self._ring[kid], f"pseudonym\x1f{context}\x1f{value}".encode(), hashlib.sha256)
        return f"{kid}:{mac.hexdigest()[:24]}"

    def encrypt(self, plaintext: str | None, *, context: str) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        sealed = self._aead[self.active_kid].encrypt(nonce, plaintext.encode("utf-8"), context.encode())
        return f"{_PREFIX}:{self.active_kid}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str | None, *, context: str) -> str | None:
        if token is None:
            return None
        try:
            prefix, kid, b64 = token.split(":", 2)
            raw = base64.b64decode(b64)
            if prefix != _PREFIX:
                raise ValueError
            return self._aead[kid].decrypt(raw[:12], raw[12:], context.encode()).decode("utf-8")
        except KeyError:
            raise ConfigError("encrypted field uses an unknown key id", expected="a key in the key ring",
                              found=repr(token.split(":", 2)[1])) from None
        except (ValueError, InvalidTag):
            raise ConfigError(f"encrypted field ({context}) cannot be decrypted",
                              hint="wrong key, or the value was altered") from None
