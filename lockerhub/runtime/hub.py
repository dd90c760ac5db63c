"""The hub: configuration, store, cipher and connectors wired together for the pipeline stages.

Stages (each a module of its own, each safe to re-run):
``ingest`` (TMS source -> parcels) -> ``booking`` (allocate, reserve, book) -> ``sync`` (vendor status ->
lifecycle) -> ``relay`` (outbox -> TMS sink). ``run_once`` runs them in order.

Every call to a vendor goes through :meth:`Hub.call_vendor` (a circuit breaker per vendor operation
around each attempt of the bounded retry policy; see :mod:`lockerhub.runtime.breaker`). Breakers live in the
hub object, so their state is per process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from lockerhub.config import LoadedConfig, load_config
from lockerhub.plugins.protocols import Capability, LockerVendor
from lockerhub.plugins.registry import Registry, registry
from lockerhub.runtime.allocation import Catalog
from lockerhub.runtime.breaker import Breakers
from lockerhub.runtime.budget import Budgets
from lockerhub.runtime.retry import RetryPolicy
from lockerhub.security.crypto import FieldCipher
from lockerhub.settings import Settings
from lockerhub.store import Store

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Hub:
    config: LoadedConfig
    store: Store
    cipher: FieldCipher
    registry: Registry
    clock: Clock = utc_now
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breakers: Breakers = field(default_factory=Breakers)
    budgets: Budgets = field(default_factory=Budgets)
    max_booking_attempts: int = 5
    settings: Settings = field(default_factory=Settings)
    _connectors: dict[tuple[str, str], Any] = field(default_factory=dict)
    catalog_max_age_s: float = 300.0  # a hub that lives on (``lockerhub run --watch``) lists the networks again
    _catalog: Catalog | None = None
    _catalog_at: float = 0.0

    @classmethod
    def open(cls, config_path: str | Path, *, settings: Settings | None = None, clock: Clock = utc_now,
             reg: Registry | None = None, retry: RetryPolicy | None = None, breakers: Breakers | None = None,
             overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> Hub:
        """The hub of a config file; ``overrides`` are connector config values held outside the YAML (see
        :func:`lockerhub.config.load_config`)."""
        settings = settings or Settings()
        reg = reg or registry()
        loaded = load_config(config_path, reg, overrides)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.resolved_database_url())
        store.migrate()
        pii = settings.pii_keys.get_secret_value() if settings.pii_keys else None
        cipher = FieldCipher.from_env_or_file(pii, settings.data_dir)
        rates = {name: ref.rate_limit for name, ref in loaded.hub.vendors.items() if ref.rate_limit is not None}
        return cls(loaded, store, cipher, reg, clock=clock, retry=retry or RetryPolicy(),
                   breakers=breakers or Breakers(), budgets=Budgets(rates), settings=settings)

    def connector(self, section: str, name: str) -> Any:
        key = (section, name)
        if key not in self._connectors:
            refs = self.config.hub.partners if section == "partners" else self.config.hub.vendors
            self._connectors[key] = self.registry.create(refs[name].connector, self.config.connector_configs[key])
        return self._connectors[key]

    def partner(self, name: str) -> Any:
        return self.connector("partners", name)

    @property
    def vendor_names(self) -> list[str]:
        """The routed vendors (where new parcels are booked), in order of preference."""
        return self.config.hub.routing.names

    @property
    def vendor_name(self) -> str:
        """The first routed vendor: the one a call names no other vendor goes to."""
        return self.vendor_names[0]

    def vendor(self, name: str | None = None) -> LockerVendor:
        return self.connector("vendors", name or self.vendor_name)  # type: ignore[no-any-return]

    def vendor_id(self, name: str | None = None) -> str:
        """The connector id of a vendor (of the first routed one by default)."""
        return self.config.hub.vendors[name or self.vendor_name].connector

    def catalog(self, *, refresh: bool = False) -> Catalog:
        """Every routed vendor's network and size classes as one catalog (each locker knows its vendor), listed
        again when ``refresh`` or older than ``catalog_max_age_s``."""
        if self._catalog is None or refresh or time.monotonic() - self._catalog_at > self.catalog_max_age_s:
            regions = self.config.hub.routing.regions
            catalog = Catalog({}, [], frozenset(regions) if regions is not None else None)
            for name in self.vendor_names:
                vendor = self.vendor(name)
                lockers = self.call_vendor("list_lockers", lambda: list(vendor.list_lockers()), vendor=name)
                classes = self.call_vendor("size_classes", vendor.size_classes, vendor=name)
                catalog.add(name, lockers, classes)
            self._catalog, self._catalog_at = catalog, time.monotonic()
        return self._catalog

    def call_vendor(self, operation: str, fn: Callable[[], T], *, vendor: str | None = None) -> T:
        """``fn()`` (one call to ``vendor``, the first routed one by default) through the breaker of ``(vendor,
        operation)`` with the hub's bounded retries, each attempt taking a token of the vendor's API budget
        (:mod:`lockerhub.runtime.budget`). Raises :class:`~lockerhub.errors.CircuitOpenError` (a
        ``TransientError``) at once when that circuit is open, :class:`~lockerhub.runtime.budget.BudgetExceeded`
        when the budget has no token in time, the last ``TransientError`` when retries run out, any other error
        unchanged."""
        name = vendor or self.vendor_name
        breaker = self.breakers.get(name, operation)
        # the token is taken outside the breaker: a call the budget holds back is no failure of the vendor
        return self.retry.call(self.budgets.wrap(name, operation, lambda: breaker.call(fn)))  # type: ignore[return-value]

    def vendor_can(self, capability: Capability, name: str | None = None) -> bool:
        return capability in type(self.vendor(name)).capabilities

    def close(self) -> None:
        """Close the connectors this hub opened (HTTP sessions, MQTT connections), then the store's pool."""
        for connector in self._connectors.values():
            close = getattr(connector, "close", None)
            if close is not None:
                close()
        self._connectors.clear()
        self.store.dispose()
