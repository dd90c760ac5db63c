"""The conformance kit for locker-vendor connectors: ``pytest --lockerhub-connector NAME``.

The pytest plugin (:mod:`lockerhub.testing.plugin`) is loaded in every pytest run of an environment where lockerhub
is installed, so this package imports nothing until it is asked for: ``Harness`` and ``WebhookFactory`` (the
contract a connector's harness fulfils, :mod:`lockerhub.testing.harness`) load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lockerhub.testing.harness import Harness, WebhookFactory

__all__ = ["Harness", "WebhookFactory"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from lockerhub.testing import harness

        return getattr(harness, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
