"""Ops API access tables (:mod:`lockerhub.security.access` writes and reads them).

- ``ops_users``: interactive users (operations staff). The password is a salted scrypt hash; the TOTP secret is
  ciphertext under the hub's field key ring (``totp_secret_enc``, rotated with the other encrypted columns).
- ``ops_tokens``: bearer tokens, API tokens (``kind="api"``, for scripts and services) and login sessions
  (``kind="session"``, short-lived, tied to a user). Only the SHA-256 of a token is stored.
- ``ops_login_failures``: failed logins per user name and per client address (both as keyed pseudonyms), so the
  rate limit holds across restarts and across every ingress process sharing the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lockerhub.store.tables import Base, UTCDateTime, utcnow


class OpsUserRow(Base):
    __tablename__ = "ops_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))  # scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>
    totp_secret_enc: Mapped[str] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the last accepted time step: never accepted again
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OpsTokenRow(Base):
    __tablename__ = "ops_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # api | session
    name: Mapped[str] = mapped_column(String(64))  # the API token's name, or the user's name for a session
    role: Mapped[str] = mapped_column(String(16))  # sessions take their user's current role instead
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ops_users.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sessions; API tokens live until revoked
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailureRow(Base):
    __tablename__ = "ops_login_failures"
    __table_args__ = (Index("ix_ops_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(96))  # "user:<pseudonym>" or "ip:<pseudonym>": never the value itself
    at: Mapped[datetime] = mapped_column(UTCDateTime)
