"""The life of a connector's client: made on first use (no I/O in ``__init__``), closed with the connector."""

from __future__ import annotations

from typing import Generic, Protocol, Self, TypeVar


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class ClientOwner(Generic[C]):
    """Mixin for a connector that talks to its vendor through one client: ``client`` makes it on first use with
    ``_new_client()``; ``close()`` (also on leaving a ``with`` block) closes it."""

    _client: C | None = None

    def _new_client(self) -> C:
        raise NotImplementedError

    @property
    def client(self) -> C:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
