"""Serve the simulator over real HTTP: uvicorn in a daemon thread on 127.0.0.1, port 0 = a free port.

    with SimulatorServer(World.generate(20, seed=7), api_key="dev-key") as srv:
        requests.get(f"{srv.url}/healthz")

The listening socket is bound in the caller's thread before uvicorn starts, so the port is known at once and a
bind error (port taken) is raised where ``start()`` was called. ``start()`` returns only once the server accepts
connections, or raises :class:`SimulatorStartError` after ``startup_timeout`` seconds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import uvicorn

from lockerhub.simulator.app import create_app
from lockerhub.simulator.state import World


class SimulatorStartError(RuntimeError):
    """The simulator's HTTP server did not come up."""


class AppServer:
    """An ASGI app served over real HTTP in a daemon thread; a context manager, or :meth:`start` and :meth:`stop`.
    ``app`` is built when the server starts (a factory, so a restarted server gets a fresh one)."""

    name = "server"

    def __init__(
        self,
        app: Callable[[], Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self._app_factory = app
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not running; call start() or use it as a context manager")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"the {self.name} is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only for TCP-protocol
        # sockets, and without it every keep-alive request waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise SimulatorStartError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.create_app(),
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=int(self.shutdown_timeout),
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"{self.name}:{self.port}",
                                  daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        try:
            self._wait_started()
        except BaseException:
            self.stop()
            sock.close()
            raise
        return self

    def _wait_started(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise SimulatorStartError(f"the {self.name} on {self.host}:{self.port} exited during startup "
                                          "(see the uvicorn log above)")
            if time.monotonic() > deadline:
                raise SimulatorStartError(
                    f"the {self.name} on {self.host}:{self.port} did not start within {self.startup_timeout:g} s")
            time.sleep(0.005)
        # started means the listener is registered with the event loop; prove it with one connection.
        with socket.create_connection((self.host, self.port), timeout=max(0.1, deadline - time.monotonic())):
            pass

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for its thread; forces exit if it overstays ``shutdown_timeout``."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.before_stop(server.config.app)
        server.should_exit = True
        thread.join(self.shutdown_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(self.shutdown_timeout)
        self._server = self._thread = None
        if thread.is_alive():
            raise RuntimeError(f"the {self.name} on {self.host}:{self.port} did not stop "
                               f"within {2 * self.shutdown_timeout:g} s")

    def create_app(self) -> Any:
        if self._app_factory is None:
            raise NotImplementedError("pass app= or override create_app")
        return self._app_factory()

    def before_stop(self, app: Any) -> None:
        """Hook: release what the app runs beside its requests (threads) before the server stops."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SimulatorServer(AppServer):
    """The simulated locker network's API (:mod:`lockerhub.simulator.app`) over real HTTP."""

    name = "simulator"

    def __init__(self, world: World, *, api_key: str, **options: Any) -> None:
        super().__init__(**options)
        self.world = world
        self.api_key = api_key

    def create_app(self) -> Any:
        return create_app(self.world, self.api_key)

    def before_stop(self, app: Any) -> None:
        app.state.webhooks.close()  # the webhook delivery thread, if a subscription started it
