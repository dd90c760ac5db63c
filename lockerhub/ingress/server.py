"""Run the ingress with uvicorn: ``lockerhub serve CONFIG --host 127.0.0.1 --port 8080``.

The hub is opened once, before the socket is bound; the socket is bound before uvicorn starts, so a taken port is
an error at once and ``--port 0`` gets a free port whose URL ``on_ready`` is told. uvicorn handles Ctrl-C and
SIGTERM (finishing the requests in flight); the hub is closed after it stops.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from lockerhub.errors import ConfigError
from lockerhub.ingress.app import create_app
from lockerhub.ingress.settings import IngressSettings
from lockerhub.plugins.protocols import Capability
from lockerhub.runtime.hub import Hub


class _Server(uvicorn.Server):
    """uvicorn's server, except that the SIGTERM or Ctrl-C that stopped it gracefully is not raised again once it
    has stopped (uvicorn does, to exit with the signal's status): the hub is closed and the command exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                captured = getattr(self, "_captured_signals", None)
                if isinstance(captured, list):
                    captured.clear()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          hint="choose another --port or --host") from None
    return sock


def webhook_vendors(hub: Hub) -> list[str]:
    """Configured vendors whose connector receives webhooks."""
    return [name for name in hub.config.hub.vendors
            if Capability.WEBHOOKS in type(hub.connector("vendors", name)).capabilities]


def serve(config: str | Path, *, host: str = "127.0.0.1", port: int = 8080,
          settings: IngressSettings | None = None, on_ready: Callable[[str, list[str]], None] | None = None) -> None:
    """Serve until interrupted. ``on_ready(base_url, webhook_vendors)`` runs once the socket listens."""
    hub = Hub.open(config)
    try:
        app = create_app(hub, settings=settings)
        sock = bind(host, port)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        if on_ready is not None:
            on_ready(f"http://{shown}:{bound}", webhook_vendors(hub))
        server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                               ws="none", timeout_graceful_shutdown=10))
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
    finally:
        hub.close()
