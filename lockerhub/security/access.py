"""Who may use the ops API, and for what: roles, the permission matrix, API tokens, users with TOTP, login limits.

Roles are ordered ``viewer < operator < integrator < admin``; each holds every permission of the roles below it.
:data:`PERMISSIONS` is the one permission matrix (permission -> the lowest role holding it); docs/security.md
prints it as a table (:func:`permission_table`) and a test keeps the two equal.

Tokens (``Authorization: Bearer <token>``)
    - API tokens (``lhk_...``, for scripts and services) are made by ``lockerhub access token create`` or
      ``POST /ops/tokens``, shown once, and live until revoked. Session tokens (``lhs_...``) come from
      ``POST /ops/login`` and expire after :data:`SESSION_TTL`; they carry their user's *current* role, so disabling
      a user or changing their role takes effect at once.
    - Only ``sha256(token)`` is stored. A token is 32 random bytes (``secrets.token_urlsafe(32)``, 256 bits): nobody
      can search that space, so a slow, salted hash (needed for passwords, which people choose and which are
      guessable) buys nothing here, and a plain hash lets a request find its token with one indexed lookup. A
      stolen database therefore yields no usable token.

Users (interactive)
    Name, role, a scrypt password hash (``hashlib.scrypt``, n=2**15, r=8, p=1, 16-byte random salt per user), and a
    TOTP secret (RFC 6238, 30 s, 6 digits) stored encrypted with the hub's field key ring (context
    :data:`TOTP_CONTEXT`; rotated by ``lockerhub keys rotate`` like every ``*_enc`` column). A code is accepted for
    the current time step or one step either side (pyotp's ``valid_window=1``) and only for a step later than the
    last one accepted for that user, so a code (or an older one) cannot be used twice.

Login rate limit
    :class:`RateLimit` (default 5 failures per 15 minutes) per user name and per client address, counted in the
    ``ops_login_failures`` table, so it holds across restarts and across every ingress process on the database.
    A wrong password, a wrong or reused code, an unknown or disabled user all count, and all get the same answer.
    When either count is reached the login is refused before the password is looked at (:class:`LoginThrottled`,
    with the seconds until the oldest counted failure leaves the window). A successful login clears its user
    name's failures (not its address's). Names and addresses are stored as keyed pseudonyms.

Limits/Pitfalls:
    - The limit check and the failure record are two statements: processes racing on the same name can together
      go a few attempts over the limit (as many as run at the same moment), never more.
    - The pseudonyms use the active PII key; after ``keys rotate`` with a new first key, counting starts afresh.
    - Behind a reverse proxy the client address is what uvicorn takes from ``X-Forwarded-For`` of a trusted proxy
      (``FORWARDED_ALLOW_IPS``, default 127.0.0.1); with an untrusted proxy every client shares one address.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import delete, func, or_, select, update

from lockerhub.errors import LockerhubError
from lockerhub.security import audit
from lockerhub.security.crypto import FieldCipher
from lockerhub.store import Store
from lockerhub.store.access import LoginFailureRow, OpsTokenRow, OpsUserRow

ROLES: tuple[str, ...] = ("viewer", "operator", "integrator", "admin")

# The permission matrix: permission -> the lowest role that holds it (every higher role holds it too).
PERMISSIONS: dict[str, str] = {
    "parcels.read": "viewer",  # parcel list and detail; recipient fields masked, never an access code
    "quarantine.list": "viewer",  # ids, stages, locations and reasons
    "quarantine.show": "operator",  # one item with its errors and attempts, payload masked
    "quarantine.replay": "operator",  # dry run or for real
    "quarantine.discard": "operator",  # with a reason
    "quarantine.reveal": "integrator",  # the original payload, decrypted (personal data)
    "connectors.read": "integrator",  # configured partners and vendors: connector ids and capabilities
    "privacy.export": "admin",  # everything held on one recipient (personal data)
    "privacy.erase": "admin",
    "audit.verify": "admin",
    "tokens.manage": "admin",  # list, create and revoke API tokens
}

TOTP_CONTEXT = "ops_users.totp_secret"
LOGIN_CONTEXT = "ops.login"
SESSION_TTL = timedelta(minutes=30)
API_PREFIX, SESSION_PREFIX = "lhk_", "lhs_"
TOTP_ISSUER = "lockerhub"
MIN_PASSWORD = 12
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
_SCRYPT_LOG2N, _SCRYPT_R, _SCRYPT_P = 15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


class AccessError(LockerhubError):
    """A login or an access-management request was refused."""


class LoginRefused(AccessError):
    """Wrong user name, password or code (deliberately one answer for all of them)."""


class LoginThrottled(AccessError):
    """Too many failed logins for this user name or client address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed logins", hint=f"try again in {retry_after} seconds")
        self.retry_after = retry_after


# --------------------------------------------------------------------------- roles


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccessError("role", expected=", ".join(ROLES), found=repr(role))
    return role


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` (an unknown permission is a programming error)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(PERMISSIONS[permission])


def permission_table() -> str:
    """The matrix as the Markdown table docs/security.md shows."""
    lines = ["| permission | " + " | ".join(ROLES) + " |", "|---|" + ":-:|" * len(ROLES)]
    for permission in PERMISSIONS:
        lines.append(f"| `{permission}` | " + " | ".join("yes" if allowed(r, permission) else "-" for r in ROLES)
                     + " |")
    return "\n".join(lines)


def _check_name(what: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise AccessError(what, expected="1-64 letters, digits or _.@- (starting with a letter or digit)",
                          found=f"{len(name)} characters" if name else "nothing")
    return name


# --------------------------------------------------------------------------- passwords and tokens


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$<log2 n>$<r>$<p>$<salt>$<hash>`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**_SCRYPT_LOG2N, r=_SCRYPT_R, p=_SCRYPT_P,
                            maxmem=_SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${_SCRYPT_LOG2N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, log2n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=2 ** int(log2n), r=int(r),
                               p=int(p), maxmem=_SCRYPT_MAXMEM, dklen=len(base64.b64decode(digest)))
    except ValueError:
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user is unknown, so an unknown name costs as much time as a known one."""
    return hash_password(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as. ``actor`` is what the audit log records: ``token:<name>`` or ``ops:<user>``."""

    actor: str
    role: str
    kind: str  # api | session
    token_id: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    kind: str
    name: str
    role: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _token_info(row: OpsTokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.kind, row.name, row.role, row.created_by, row.created_at, row.expires_at,
                     row.last_used_at, row.revoked_at)


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def create_token(store: Store, *, name: str, role: str, actor: str | None = None,
                 now: datetime | None = None) -> tuple[TokenInfo, str]:
    """A new API token: ``(its record, the token)``. The token is shown once; only its hash is kept. Audited as
    ``access.token.create``. Names are unique among tokens not revoked."""
    _check_name("token name", name)
    check_role(role)
    who = actor or audit.current_actor()
    token = new_token(API_PREFIX)
    with store.transaction() as s:
        taken = s.scalar(select(OpsTokenRow.id).where(OpsTokenRow.kind == "api", OpsTokenRow.name == name,
                                                      OpsTokenRow.revoked_at.is_(None)))
        if taken is not None:
            raise AccessError(f"an API token named {name!r} exists", hint="revoke it first, or choose another name")
        row = OpsTokenRow(kind="api", name=name, role=role, token_hash=token_hash(token), created_by=who,
                          created_at=_now(now))
        s.add(row)
        s.flush()
        audit.record(s, "access.token.create", subject=f"token:{row.id}", actor=who,
                     details={"name": name, "role": role})
        return _token_info(row), token


def list_tokens(store: Store, *, include_revoked: bool = False, sessions: bool = False) -> list[TokenInfo]:
    with store.transaction() as s:
        query = select(OpsTokenRow).order_by(OpsTokenRow.id)
        if not sessions:
            query = query.where(OpsTokenRow.kind == "api")
        if not include_revoked:
            query = query.where(OpsTokenRow.revoked_at.is_(None))
        return [_token_info(r) for r in s.scalars(query)]


def revoke_token(store: Store, token_id: int, *, actor: str | None = None, now: datetime | None = None) -> TokenInfo:
    """Revoke a token (API or session) at once. Audited as ``access.token.revoke``."""
    who = actor or audit.current_actor()
    with store.transaction() as s:
        row = s.get(OpsTokenRow, token_id)
        if row is None:
            raise AccessError(f"no token {token_id}")
        already = row.revoked_at is not None
        if not already:
            row.revoked_at = _now(now)
        audit.record(s, "access.token.revoke", subject=f"token:{row.id}", actor=who,
                     details={"name": row.name, "kind": row.kind, "already_revoked": already})
        return _token_info(row)


def authenticate(store: Store, token: str, *, now: datetime | None = None) -> Principal | None:
    """The principal of a bearer token; None when it is unknown, revoked, expired, or its user is disabled.
    Records ``last_used_at``."""
    if not token.startswith((API_PREFIX, SESSION_PREFIX)) or len(token) > 128:
        return None
    moment = _now(now)
    with store.transaction() as s:
        row = s.scalar(select(OpsTokenRow).where(OpsTokenRow.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= moment):
            return None
        if row.kind == "session":
            user = s.get(OpsUserRow, row.user_id) if row.user_id is not None else None
            if user is None or not user.enabled:
                return None
            principal = Principal(f"ops:{user.name}", user.role, "session", row.id)
        else:
            principal = Principal(f"token:{row.name}", row.role, "api", row.id)
        row.last_used_at = moment
        return principal


# --------------------------------------------------------------------------- users


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    role: str
    enabled: bool
    created_at: datetime
    disabled_at: datetime | None


def _user_info(row: OpsUserRow) -> UserInfo:
    return UserInfo(row.id, row.name, row.role, row.enabled, row.created_at, row.disabled_at)


def add_user(store: Store, cipher: FieldCipher, name: str, *, role: str, password: str,
             actor: str | None = None) -> tuple[UserInfo, str]:
    """A new user: ``(its record, the TOTP provisioning URI)``. Show the URI once (as text or a QR code) to the
    user for their authenticator app; it holds the secret. Audited as ``access.user.add``."""
    _check_name("user name", name)
    check_role(role)
    if len(password) < MIN_PASSWORD:
        raise AccessError("password too short", expected=f"at least {MIN_PASSWORD} characters",
                          found=f"{len(password)}")
    who = actor or audit.current_actor()
    secret = pyotp.random_base32()
    with store.transaction() as s:
        if s.scalar(select(OpsUserRow.id).where(OpsUserRow.name == name)) is not None:
            raise AccessError(f"a user named {name!r} exists")
        row = OpsUserRow(name=name, role=role, password_hash=hash_password(password), enabled=True,
                         totp_secret_enc=cipher.encrypt(secret, context=TOTP_CONTEXT) or "")
        s.add(row)
        s.flush()
        audit.record(s, "access.user.add", subject=f"ops:{name}", actor=who, details={"role": role})
        info = _user_info(row)
    return info, pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)


def list_users(store: Store) -> list[UserInfo]:
    with store.transaction() as s:
        return [_user_info(r) for r in s.scalars(select(OpsUserRow).order_by(OpsUserRow.name))]


def disable_user(store: Store, name: str, *, actor: str | None = None, now: datetime | None = None) -> UserInfo:
    """Disable a user and revoke their sessions. Audited as ``access.user.disable``."""
    who, moment = actor or audit.current_actor(), _now(now)
    with store.transaction() as s:
        row = s.scalar(select(OpsUserRow).where(OpsUserRow.name == name))
        if row is None:
            raise AccessError(f"no user named {name!r}")
        if row.enabled:
            row.enabled, row.disabled_at = False, moment
            revoked = s.execute(update(OpsTokenRow).where(OpsTokenRow.user_id == row.id,
                                                          OpsTokenRow.revoked_at.is_(None))
                                .values(revoked_at=moment).execution_options(synchronize_session=False)).rowcount
            audit.record(s, "access.user.disable", subject=f"ops:{name}", actor=who,
                         details={"sessions_revoked": revoked})
        return _user_info(row)


def totp_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), if it is later than ``last_step``."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    candidate = code.strip()
    for step in (current - 1, current, current + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(candidate, totp.generate_otp(step)):
            return step
    return None


# --------------------------------------------------------------------------- login


@dataclass(frozen=True, slots=True)
class RateLimit:
    failures: int = 5
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class LoginSession:
    token: str
    expires_at: datetime
    principal: Principal


def _failure_keys(cipher: FieldCipher, username: str, client: str) -> list[str]:
    return [f"user:{cipher.pseudonym(username.strip().lower(), context=LOGIN_CONTEXT)}",
            f"ip:{cipher.pseudonym(client, context=LOGIN_CONTEXT)}"]


def retry_after(store: Store, keys: list[str], *, now: datetime, limit: RateLimit) -> int | None:
    """Seconds until a login may be tried again for these keys; None when it may be tried now."""
    wait = 0.0
    with store.transaction() as s:
        for key in keys:
            times = list(s.scalars(select(LoginFailureRow.at).where(LoginFailureRow.key == key,
                                                                    LoginFailureRow.at > now - limit.window)
                                   .order_by(LoginFailureRow.at.desc()).limit(limit.failures)))
            if len(times) >= limit.failures:  # the limit-th newest failure must leave the window
                wait = max(wait, (times[-1] + limit.window - now).total_seconds())
    return max(1, math.ceil(wait)) if wait > 0 else None


def login(store: Store, cipher: FieldCipher, *, username: str, password: str, code: str, client: str,
          now: datetime | None = None, limit: RateLimit = RateLimit(), ttl: timedelta = SESSION_TTL) -> LoginSession:
    """Check the password and the TOTP code, and open a session. Raises :class:`LoginThrottled` (nothing checked)
    or :class:`LoginRefused`. Audited as ``ops.login``, ``ops.login_failed`` or ``ops.login_throttled``."""
    moment = _now(now)
    keys = _failure_keys(cipher, username, client)
    wait = retry_after(store, keys, now=moment, limit=limit)
    with store.transaction() as s:
        user = s.scalar(select(OpsUserRow).where(OpsUserRow.name == username))
        who = f"ops:{user.name}" if user is not None else "anonymous"
        if wait is not None:
            audit.record(s, "ops.login_throttled", subject=who if user else None, actor=who,
                         details={"retry_after_s": wait})
    if wait is not None:
        raise LoginThrottled(wait)
    ok = verify_password(password, user.password_hash if user is not None else _dummy_hash()) and user is not None
    step = None
    if ok and user is not None and user.enabled:
        secret = cipher.decrypt(user.totp_secret_enc, context=TOTP_CONTEXT) or ""
        step = totp_step(secret, code, now=moment, last_step=user.totp_last_step)
    with store.transaction() as s:
        if user is not None and step is not None:
            # taken only if no other login took this step (or a later one) in the meantime
            claimed = s.execute(update(OpsUserRow).where(
                OpsUserRow.id == user.id, OpsUserRow.enabled.is_(True),
                or_(OpsUserRow.totp_last_step.is_(None), OpsUserRow.totp_last_step < step))
                .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
            if claimed == 1:
                s.execute(delete(LoginFailureRow).where(LoginFailureRow.key == keys[0]))
                token = new_token(SESSION_PREFIX)
                row = OpsTokenRow(kind="session", name=user.name, role=user.role, token_hash=token_hash(token),
                                  user_id=user.id, created_by=who, created_at=moment, expires_at=moment + ttl)
                s.add(row)
                s.flush()
                audit.record(s, "ops.login", subject=f"token:{row.id}", actor=who,
                             details={"role": user.role, "expires_at": row.expires_at.isoformat()})
                return LoginSession(token, row.expires_at, Principal(who, user.role, "session", row.id))
        s.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= moment - limit.window))
        s.add_all(LoginFailureRow(key=key, at=moment) for key in keys)
        failed = s.scalar(select(func.count()).select_from(LoginFailureRow).where(LoginFailureRow.key == keys[0]))
        audit.record(s, "ops.login_failed", subject=who if user else None, actor=who,
                     details={"failures_in_window": failed})
    raise LoginRefused("login refused: the user name, password or code is wrong")


__all__ = [
    "PERMISSIONS", "ROLES", "SESSION_TTL", "TOTP_CONTEXT", "AccessError", "LoginRefused", "LoginSession",
    "LoginThrottled", "Principal", "RateLimit", "TokenInfo", "UserInfo", "add_user", "allowed", "authenticate",
    "check_role", "create_token", "disable_user", "hash_password", "list_tokens", "list_users", "login",
    "permission_table", "retry_after", "revoke_token", "token_hash", "totp_step", "verify_password",
]
