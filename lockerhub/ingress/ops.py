"""The ops API under ``/ops``: parcels, the quarantine, GDPR requests, the audit log and API tokens, for operations
staff and their scripts. Who may call what is :data:`lockerhub.security.access.PERMISSIONS`.

Authentication: ``Authorization: Bearer <token>``, an API token (``lockerhub access token create``) or a session
token from ``POST /ops/login`` (user name, password and TOTP code; rate limited per user name and client address).

| method and path                               | permission                                   |
|-----------------------------------------------|----------------------------------------------|
| ``POST /ops/login``                           | none (rate limited)                          |
| ``GET /ops/parcels?status=&partner=``         | ``parcels.read``                             |
| ``GET /ops/parcels/{partner}/{shipment}/{parcel}`` | ``parcels.read``                        |
| ``GET /ops/quarantine?state=``                | ``quarantine.list``                          |
| ``GET /ops/quarantine/{qid}[?reveal=true]``   | ``quarantine.show`` (+ ``quarantine.reveal``) |
| ``POST /ops/quarantine/{qid}/replay``         | ``quarantine.replay``                        |
| ``POST /ops/quarantine/{qid}/discard``        | ``quarantine.discard``                       |
| ``GET /ops/connectors``                       | ``connectors.read``                          |
| ``POST /ops/privacy/export``, ``/erase``      | ``privacy.export``, ``privacy.erase``        |
| ``GET /ops/audit/verify``                     | ``audit.verify``                             |
| ``GET /ops/tokens``, ``POST /ops/tokens``, ``DELETE /ops/tokens/{id}`` | ``tokens.manage``   |

Answers: 401 ``unauthenticated`` (no, unknown, revoked or expired token; with ``WWW-Authenticate: Bearer``), 403
``forbidden`` (the role lacks the permission), 429 ``too_many_attempts`` (login; with ``Retry-After``), 404
``not_found``, 409 ``conflict``, 422 ``invalid_request``. Every call, allowed or refused, is one audit entry with the
actor (``token:<name>``, ``ops:<user>`` or ``anonymous``), never the token. Responses carry no recipient data except
``quarantine/{qid}?reveal=true`` and ``privacy/export``, both audited.
"""


import json
import re
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from lockerhub.errors import ConfigError, LockerhubError
from lockerhub.runtime import quarantine
from lockerhub.runtime.hub import Hub
from lockerhub.runtime.ingest import RECIPIENT_CONTEXT
from lockerhub.security import access, audit
from lockerhub.security.access import LoginRefused, LoginThrottled, Principal, RateLimit
from lockerhub.store import EventRow, ParcelRow

REALM = 'Bearer realm="lockerhub-ops"'
_QID = re.compile(r"q-\d{1,12}")


class Refusal(Exception):
    """An ops request answered with a JSON error (raised from dependencies and endpoints)."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def _refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=exc.headers)


def mount(app: FastAPI, hub: Hub, *, limit: RateLimit | None = None, session_ttl: timedelta | None = None) -> None:
    """Add the ops API to ``app`` under ``/ops``."""
    app.include_router(router(hub, limit=limit or RateLimit(), session_ttl=session_ttl or access.SESSION_TTL),
                       prefix="/ops")
    app.add_exception_handler(Refusal, _refused)


# --------------------------------------------------------------------------- bodies


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp: str = Field(min_length=1, max_length=12)


class ReplayBody(_Body):
    dry_run: bool = True


class DiscardBody(_Body):
    reason: str = Field(min_length=1, max_length=500)


class SubjectBody(_Body):
    subject: str = Field(min_length=1, max_length=320)


class EraseBody(SubjectBody):
    dry_run: bool = False


class TokenBody(_Body):
    name: str = Field(min_length=1, max_length=64)
    role: str


# --------------------------------------------------------------------------- access


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _deny(hub: Hub, request: Request, permission: str, reason: str, principal: Principal | None) -> None:
    with hub.store.transaction() as s:
        audit.record(s, "ops.denied", subject=permission, actor=principal.actor if principal else "anonymous",
                     details={"reason": reason, "method": request.method, "path": request.url.path,
                              **({"role": principal.role} if principal else {})})


def authorize(hub: Hub, request: Request, permission: str) -> Principal:
    """The caller, when their bearer token is valid and their role holds ``permission``; else a 401 or 403."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _deny(hub, request, permission, "no_token", None)
        raise Refusal(401, "unauthenticated", "this endpoint needs an 'Authorization: Bearer <token>' header.",
                      {"WWW-Authenticate": REALM})
    principal = access.authenticate(hub.store, token.strip(), now=hub.clock())
    if principal is None:
        _deny(hub, request, permission, "invalid_token", None)
        raise Refusal(401, "unauthenticated", "the token is unknown, revoked or expired.",
                      {"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    if not access.allowed(principal.role, permission):
        _deny(hub, request, permission, "forbidden", principal)
        raise Refusal(403, "forbidden", f"the role {principal.role} does not have the permission {permission}.")
    return principal


def _record(hub: Hub, who: Principal, action: str, subject: str | None = None, **details: Any) -> None:
    with hub.store.transaction() as s:
        audit.record(s, action, subject=subject, actor=who.actor, details=details)


def _failed(exc: LockerhubError) -> Refusal:
    """A library error as an answer: missing things are 404, a state that forbids the action 409, else 422."""
    if exc.message.startswith(("no quarantine item", "no token", "no user")):
        return Refusal(404, "not_found", f"{exc.message}.")
    if exc.expected == "an open item" or "exists" in exc.message:
        return Refusal(409, "conflict", f"{exc.message}.")
    what = exc.message + (f": expected {exc.expected}" if exc.expected else "")
    return Refusal(422, "invalid_request", f"{what}.")


def _qid(qid: str) -> str:
    if not _QID.fullmatch(qid):
        raise Refusal(404, "not_found", "no quarantine item with this id (ids look like q-000001).")
    return qid


# --------------------------------------------------------------------------- views (no personal data)


def _recipient(hub: Hub, row: ParcelRow) -> dict[str, Any] | str | None:
    """Which recipient fields are on file, each masked: ``{"name": "***", "phone": "***"}``."""
    if row.recipient_enc is None:
        return "erased" if row.pii_erased_at else None
    try:
        party = json.loads(hub.cipher.decrypt(row.recipient_enc, context=RECIPIENT_CONTEXT) or "{}")
    except ConfigError:
        return "unreadable"
    return {k: "***" for k, v in party.items() if v}


def _parcel(hub: Hub, row: ParcelRow) -> dict[str, Any]:
    return {"partner": row.partner, "shipment_reference": row.shipment_ref, "parcel_id": row.parcel_id,
            "status": row.status, "reason": row.reason, "vendor": row.vendor, "locker_id": row.locker_id,
            "size_class": row.size_class, "reservation_id": row.reservation_id, "attempts": row.attempts,
            "recipient": _recipient(hub, row), "access_code": "***" if row.access_code_enc else None,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _item(item: quarantine.QuarantineItem) -> dict[str, Any]:
    out = asdict(item)
    if item.payload is None:
        out.pop("payload")
    return out


# --------------------------------------------------------------------------- the router


def router(hub: Hub, *, limit: RateLimit, session_ttl: timedelta) -> APIRouter:
    r = APIRouter()

    def need(permission: str) -> Any:
        def dependency(request: Request) -> Principal:
            return authorize(hub, request, permission)

        return Depends(dependency)

    @r.post("/login")
    def login(body: LoginBody, request: Request) -> dict[str, Any]:
        try:
            opened = access.login(hub.store, hub.cipher, username=body.username, password=body.password,
                                  code=body.totp, client=_client(request), now=hub.clock(), limit=limit,
                                  ttl=session_ttl)
        except LoginThrottled as exc:
            raise Refusal(429, "too_many_attempts", f"too many failed logins; try again in {exc.retry_after} "
                                                    "seconds.", {"Retry-After": str(exc.retry_after)}) from None
        except LoginRefused:
            raise Refusal(401, "login_failed", "the user name, password or code is wrong.",
                          {"WWW-Authenticate": REALM}) from None
        return {"token": opened.token, "token_type": "bearer", "expires_at": opened.expires_at,
                "role": opened.principal.role}

    @r.get("/parcels")
    def parcels(who: Annotated[Principal, need("parcels.read")], status: str | None = None,
                partner: str | None = None, after: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        with hub.store.transaction() as s:
            query = select(ParcelRow).where(ParcelRow.id > after).order_by(ParcelRow.id).limit(limit)
            if status:
                query = query.where(ParcelRow.status == status.upper())
            if partner:
                query = query.where(ParcelRow.partner == partner)
            rows = list(s.scalars(query))
        _record(hub, who, "ops.parcels.list", status=status, partner=partner, returned=len(rows))
        return {"items": [_parcel(hub, row) for row in rows],
                "next_after": rows[-1].id if len(rows) == limit else None}

    @r.get("/parcels/{partner}/{shipment}/{parcel}")
    def parcel(partner: str, shipment: str, parcel: str,
               who: Annotated[Principal, need("parcels.read")]) -> dict[str, Any]:
        with hub.store.transaction() as s:
            row = s.scalar(select(ParcelRow).where(ParcelRow.partner == partner, ParcelRow.shipment_ref == shipment,
                                                   ParcelRow.parcel_id == parcel))
            events = [] if row is None else list(s.scalars(select(EventRow).where(EventRow.parcel_pk == row.id)
                                                           .order_by(EventRow.id)))
        subject = f"parcel {partner}/{shipment}/{parcel}"[:128]
        _record(hub, who, "ops.parcels.read", subject=subject, found=row is not None)
        if row is None:
            raise Refusal(404, "not_found", "no parcel with this partner, shipment reference and parcel id.")
        return {**_parcel(hub, row), "parcel": row.parcel,
                "events": [{"status": e.status, "outcome": e.outcome, "reason": e.reason, "source": e.source,
                            "locker_id": e.locker_id, "occurred_at": e.occurred_at, "recorded_at": e.recorded_at}
                           for e in events]}

    @r.get("/quarantine")
    def quarantine_list(who: Annotated[Principal, need("quarantine.list")],
                        state: Annotated[str, Query(pattern="^(open|replayed|discarded|all)$")] = "open",
                        ) -> dict[str, Any]:
        items = quarantine.list_items(hub.store, state=None if state == "all" else state)
        _record(hub, who, "ops.quarantine.list", state=state, returned=len(items))
        return {"items": [_item(i) for i in items]}

    @r.get("/quarantine/{qid}")
    def quarantine_show(qid: str, request: Request, who: Annotated[Principal, need("quarantine.show")],
                        reveal: bool = False) -> dict[str, Any]:
        if reveal and not access.allowed(who.role, "quarantine.reveal"):
            _deny(hub, request, "quarantine.reveal", "forbidden", who)
            raise Refusal(403, "forbidden", f"the role {who.role} does not have the permission quarantine.reveal.")
        try:  # a reveal is audited by show() itself, as quarantine.reveal
            item = quarantine.show(hub.store, _qid(qid), cipher=hub.cipher if reveal else None, actor=who.actor)
        except LockerhubError as exc:
            raise _failed(exc) from None
        if not reveal:
            _record(hub, who, "ops.quarantine.show", subject=item.qid)
        return _item(item)

    @r.post("/quarantine/{qid}/replay")
    def quarantine_replay(qid: str, body: ReplayBody,
                          who: Annotated[Principal, need("quarantine.replay")]) -> dict[str, Any]:
        from lockerhub.runtime.replay import replay

        try:  # audited by replay() as quarantine.replay
            return replay(hub, [_qid(qid)], dry_run=body.dry_run, actor=who.actor).as_dict()
        except LockerhubError as exc:
            raise _failed(exc) from None

    @r.post("/quarantine/{qid}/discard")
    def quarantine_discard(qid: str, body: DiscardBody,
                           who: Annotated[Principal, need("quarantine.discard")]) -> dict[str, Any]:
        from lockerhub.runtime.replay import discard

        try:  # audited by discard() as quarantine.discard
            return _item(discard(hub.store, _qid(qid), reason=body.reason, actor=who.actor))
        except LockerhubError as exc:
            raise _failed(exc) from None

    @r.get("/connectors")
    def connectors(who: Annotated[Principal, need("connectors.read")]) -> dict[str, Any]:
        out = []
        for section, refs in (("partners", hub.config.hub.partners), ("vendors", hub.config.hub.vendors)):
            for name, ref in refs.items():
                cls = type(hub.connector(section, name))
                out.append({"section": section, "name": name, "connector": ref.connector,
                            "version": getattr(cls, "version", None),
                            "capabilities": sorted(str(c) for c in getattr(cls, "capabilities", ()))})
        _record(hub, who, "ops.connectors.read", returned=len(out))
        return {"items": out}

    @r.post("/privacy/export")
    def privacy_export(body: SubjectBody, who: Annotated[Principal, need("privacy.export")]) -> dict[str, Any]:
        from lockerhub.security.privacy import export_subject

        try:  # audited by export_subject() as privacy.export
            return export_subject(hub.store, hub.cipher, body.subject, actor=who.actor).as_dict()
        except LockerhubError as exc:
            raise _failed(exc) from None

    @r.post("/privacy/erase")
    def privacy_erase(body: EraseBody, who: Annotated[Principal, need("privacy.erase")]) -> dict[str, Any]:
        from lockerhub.security.privacy import erase_subject

        try:  # audited by erase_subject() as privacy.erase (not a dry run)
            report = erase_subject(hub.store, hub.cipher, body.subject, dry_run=body.dry_run, actor=who.actor)
        except LockerhubError as exc:
            raise _failed(exc) from None
        if body.dry_run:
            _record(hub, who, "ops.privacy.erase_dry_run", kind=report.kind, parcels=report.parcels)
        return report.as_dict()

    @r.get("/audit/verify")
    def audit_verify(who: Annotated[Principal, need("audit.verify")]) -> dict[str, Any]:
        result = audit.verify(hub.store).as_dict()
        _record(hub, who, "ops.audit.verify", ok=result["ok"], entries=result["entries"])
        return result

    @r.get("/tokens")
    def tokens(who: Annotated[Principal, need("tokens.manage")], include_revoked: bool = False) -> dict[str, Any]:
        items = access.list_tokens(hub.store, include_revoked=include_revoked)
        _record(hub, who, "ops.tokens.list", returned=len(items))
        return {"items": [asdict(t) for t in items]}

    @r.post("/tokens", status_code=201)
    def token_create(body: TokenBody, who: Annotated[Principal, need("tokens.manage")]) -> dict[str, Any]:
        try:  # audited by create_token() as access.token.create
            info, token = access.create_token(hub.store, name=body.name, role=body.role, actor=who.actor,
                                              now=hub.clock())
        except LockerhubError as exc:
            raise _failed(exc) from None
        return {**asdict(info), "token": token}

    @r.delete("/tokens/{token_id}")
    def token_revoke(token_id: int, who: Annotated[Principal, need("tokens.manage")]) -> dict[str, Any]:
        try:  # audited by revoke_token() as access.token.revoke
            return asdict(access.revoke_token(hub.store, token_id, actor=who.actor, now=hub.clock()))
        except LockerhubError as exc:
            raise _failed(exc) from None

    return r


__all__ = ["Refusal", "authorize", "mount", "router"]
