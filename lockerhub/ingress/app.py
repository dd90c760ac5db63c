"""The ingress app: ``POST /webhooks/{vendor}``, ``GET|POST /tms/{partner}`` and ``GET /healthz``.

``/tms/{partner}`` is where a TMS pushes work when its connector has the PUSH capability (the ``soap`` connector:
``GET /tms/{partner}?wsdl`` serves the service description, ``POST`` takes SOAP requests). The connector answers
in its own protocol (SOAP faults, not the JSON errors below); an unknown partner or one whose connector does not
take pushes is a 404 ``unknown_partner`` / ``push_not_supported``, a body over the limit a 413.

What each outcome answers (bodies are JSON; errors are ``{"error": code, "detail": one sentence}`` that never
echo a secret, a header value or the body, and no answer carries a stack trace):

| status | ``error`` / ``status``     | when                                                                 |
|--------|----------------------------|----------------------------------------------------------------------|
| 202    | ``accepted``               | verified, parsed and committed: ``{"status": "accepted", "events": n}`` |
| 200    | ``duplicate``              | this delivery id was recorded before; nothing written                |
| 400    | ``bad_request``            | a Content-Length that is not a number                                |
| 401    | ``bad_signature``          | signature missing, malformed or wrong (or no secret configured)      |
| 401    | ``replay_window``          | signature timestamp outside the connector's replay window           |
| 404    | ``unknown_vendor``         | no such key under ``vendors:``                                       |
| 404    | ``webhooks_not_supported`` | the vendor's connector does not declare the WEBHOOKS capability      |
| 413    | ``body_too_large``         | over ``max_body_bytes`` (Content-Length, or counted while streaming) |
| 422    | ``invalid_payload``        | the body is not what the vendor sends: what was expected and found   |
| 500    | ``internal``               | anything else (logged); the sender should retry                      |
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from lockerhub import __version__
from lockerhub.errors import AuthError, LockerhubError, MappingError, ParseError, ReplayWindowError, ValidationError
from lockerhub.ingress import ops
from lockerhub.ingress.settings import IngressSettings
from lockerhub.ingress.store import keep, parse_events, record_delivery
from lockerhub.plugins.protocols import Capability, PushRequest
from lockerhub.runtime.desk import Desk
from lockerhub.runtime.hub import Hub

logger = logging.getLogger("lockerhub.ingress")

_STATUS_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
                 422: "invalid_request"}


def refuse(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def create_app(hub: Hub, *, settings: IngressSettings | None = None) -> FastAPI:
    """The ingress over an open hub (opened once by the caller; each request uses its own db session)."""
    settings = settings or IngressSettings()
    app = FastAPI(title="lockerhub ingress", version=__version__, summary="vendor webhooks in, outbox rows out")
    app.state.hub = hub
    _error_handlers(app)
    ops.mount(app, hub)  # /ops: the ops API (bearer tokens, roles; see lockerhub.ingress.ops)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with hub.store.transaction() as s:
                s.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means unhealthy; the log has the cause
            logger.exception("healthz: the store does not answer")
            return refuse(503, "store_unavailable", "the hub's database does not answer.")
        return JSONResponse({"status": "ok"})

    @app.post("/webhooks/{vendor}")
    async def webhook(vendor: str, request: Request) -> JSONResponse:
        try:
            connector = _webhook_connector(hub, vendor)
            if isinstance(connector, JSONResponse):
                return connector
            body = await _read_bounded(request, settings.max_body_bytes)
            if isinstance(body, JSONResponse):
                return body
            return await run_in_threadpool(_accept, hub, vendor, connector, request.headers, body)
        except Exception:  # noqa: BLE001 - answer without a trace; the log keeps it
            logger.exception("webhook from vendor %s could not be recorded", vendor)
            return refuse(500, "internal", "the webhook could not be recorded; it is safe to send it again.")

    @app.api_route("/tms/{partner}", methods=["GET", "POST"])
    async def tms_push(partner: str, request: Request) -> Response:
        connector = _push_connector(hub, partner)
        if isinstance(connector, JSONResponse):
            return connector
        body = b"" if request.method == "GET" else await _read_bounded(request, settings.max_body_bytes)
        if isinstance(body, JSONResponse):
            return body
        push = PushRequest(partner=partner, url=str(request.url.replace(query="")), headers=request.headers,
                           body=body, query=dict(request.query_params))
        try:
            if request.method == "GET":
                reply = connector.describe_push(push)
            else:
                reply = await run_in_threadpool(connector.handle_push, push,
                                                Desk(hub, partner, source=f"push:{partner}"))
        except Exception:  # noqa: BLE001 - the connector answers bad input itself; this is the hub failing
            logger.exception("push from partner %s could not be handled", partner)
            return refuse(500, "internal", "the request could not be handled; it is safe to send it again.")
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    return app


def _push_connector(hub: Hub, partner: str) -> Any:
    if partner not in hub.config.hub.partners:
        return refuse(404, "unknown_partner", "no trading partner with this name is configured in the hub.")
    connector = hub.partner(partner)
    if Capability.PUSH not in type(connector).capabilities:
        return refuse(404, "push_not_supported", "this partner's connector does not take pushed requests.")
    return connector


def _webhook_connector(hub: Hub, vendor: str) -> Any:
    if vendor not in hub.config.hub.vendors:
        return refuse(404, "unknown_vendor", "no vendor with this name is configured in the hub.")
    connector = hub.connector("vendors", vendor)
    if Capability.WEBHOOKS not in type(connector).capabilities:
        return refuse(404, "webhooks_not_supported", "this vendor's connector does not receive webhooks.")
    return connector


async def _read_bounded(request: Request, limit: int) -> bytes | JSONResponse:
    """The body, or a refusal as soon as it is known to exceed ``limit`` (declared or counted) bytes."""
    too_large = refuse(413, "body_too_large", f"the body is larger than the limit of {limit} bytes.")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            return refuse(400, "bad_request", "the Content-Length header is not a number of bytes.")
        if int(declared) > limit:
            return too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _accept(hub: Hub, vendor: str, connector: Any, headers: Mapping[str, str], body: bytes) -> JSONResponse:
    now = hub.clock()
    try:
        delivery_id = connector.verify_webhook(headers, body, now=now)
    except ReplayWindowError as exc:
        logger.warning("webhook from vendor %s refused: %s", vendor, exc.message)
        return refuse(401, "replay_window", _sentence("the signature timestamp is outside the replay window", exc))
    except AuthError as exc:
        logger.warning("webhook from vendor %s refused: %s", vendor, exc.message)
        return refuse(401, "bad_signature", "the webhook signature is missing, malformed or does not match the body.")
    except (ParseError, ValidationError, MappingError) as exc:
        return refuse(422, "invalid_payload", _sentence(exc.message, exc))
    try:
        events = parse_events(connector, headers, body)
    except LockerhubError as exc:  # signed by the vendor, yet unreadable (e.g. a new event code): keep it
        qid = keep(hub, vendor, delivery_id, body, exc)
        return refuse(422, "invalid_payload", f"{_sentence(exc.message, exc)[:-1]}; kept as {qid} to replay.")
    if not record_delivery(hub.store, vendor, delivery_id, events, received_at=now):
        return JSONResponse({"status": "duplicate"}, status_code=200)
    return JSONResponse({"status": "accepted", "events": len(events)}, status_code=202)


def _sentence(message: str, exc: LockerhubError) -> str:
    """One sentence from an error's message, expected and found (never its location or hint)."""
    text = message
    if exc.expected is not None:
        text += f": expected {exc.expected}"
        if exc.found is not None:
            text += f", found {exc.found}"
    elif exc.found is not None:
        text += f": found {exc.found}"
    return text + "."


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else "the request was refused"
        return refuse(exc.status_code, code, f"{detail.rstrip('.')}.")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        return refuse(422, "invalid_request", f"the request does not fit this endpoint: {fields}.")

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
        return refuse(500, "internal", "the request could not be handled; it is safe to send it again.")
