"""The hub configuration file (YAML): trading partners, locker vendors and the pilot regions.

```yaml
partners:
  acme-tms:                    # partner id, used in idempotency keys and status files
    # sender: ACMETMS          # EDI partners: the envelope sender id that selects this partner
    connector: csv             # a TMS connector id (entry point)
    config: {inbox: inbox/acme-tms, outbox: outbox/acme-tms, mapping: mappings/acme-tms/csv.yaml}
vendors:
  simlocker:
    connector: simlocker
    config: {base_url: "http://127.0.0.1:8711"}   # secrets come from LOCKERHUB_SIMLOCKER_API_KEY
routing:
  vendor: simlocker            # where new parcels are booked (or vendors: [inpost, boxnow], in order of preference)
  regions: [WAW, KRK]          # pilot rollout: only these regions route to lockers (omit for all)
privacy:
  retention_days: 90           # recipient PII of finished parcels is erased this long after their last change
```

Relative paths inside a connector's config are resolved against the config file's folder. Secrets are never
read from this file: each connector names its environment variables.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lockerhub import _yaml
from lockerhub.errors import ConfigError, ErrorGroup, LockerhubError
from lockerhub.health.policy import HealthPolicy
from lockerhub.plugins.registry import Registry
from lockerhub.runtime.budget import Rate


class ConnectorRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: str
    config: dict[str, Any] = Field(default_factory=dict)
    sender: str | None = Field(default=None, description="EDI interchange sender id (ISA06 / UNB02) that identifies "
                                                          "this partner when a file arrives without one")
    poll_budget: int | None = Field(default=None, ge=1, description="vendors: status polls per sync run, shared "
                                    "by its regions (the vendor's API budget); none = unlimited")
    rate_limit: Rate | None = Field(default=None, description="vendors: calls per second this process may make "
                                    "(bookings first, then status sync, then background); none = unlimited")


class Routing(BaseModel):
    """Where new parcels are booked: one vendor (``vendor``), or several side by side (``vendors``, in order of
    preference: a requested locker is booked with the vendor whose network has it; otherwise the nearby lockers of
    every routed vendor are tried, the first vendor's first). Locker ids must be unique across routed vendors."""

    model_config = ConfigDict(extra="forbid")

    vendor: str | None = Field(default=None, description="the one vendor new parcels are booked with")
    vendors: list[str] | None = Field(default=None, min_length=1, description="several vendors side by side, in "
                                      "order of preference (instead of vendor)")
    regions: list[str] | None = None
    max_candidates: int = Field(default=5, ge=1, le=50)

    @model_validator(mode="after")
    def _one_way(self) -> Routing:
        if (self.vendor is None) == (self.vendors is None):
            raise ValueError("give either vendor (one) or vendors (a list in order of preference)")
        if self.vendors is not None and len(set(self.vendors)) != len(self.vendors):
            raise ValueError("vendors: each vendor once")
        return self

    @property
    def names(self) -> list[str]:
        """The routed vendors, in order of preference."""
        return list(self.vendors) if self.vendors is not None else [typing.cast(str, self.vendor)]


class Privacy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retention_days: int = Field(default=90, ge=1, description="days after a parcel's last change (once it is in a "
                                "terminal status) and after a quarantine item's creation before recipient PII and "
                                "quarantined payloads are erased")


class HubConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partners: dict[str, ConnectorRef] = Field(default_factory=dict)
    vendors: dict[str, ConnectorRef] = Field(default_factory=dict)
    routing: Routing
    privacy: Privacy = Field(default_factory=Privacy)
    health: HealthPolicy = Field(default_factory=HealthPolicy, description="locker health: window, weights, "
                                 "thresholds (docs/locker-health.md)")


def _path_fields(model: type[BaseModel]) -> set[str]:
    out = set()
    for name, field in model.model_fields.items():
        ann = field.annotation
        if ann is Path or Path in typing.get_args(ann):
            out.add(name)
    return out


def resolve_paths(model: type[BaseModel], data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative values of Path-typed fields become absolute against ``base``."""
    data = dict(data)
    for name in _path_fields(model) & set(data):
        if isinstance(data[name], str) and not Path(data[name]).is_absolute():
            data[name] = str((base / data[name]).resolve())
    return data


class LoadedConfig:
    """A validated hub config with every connector config validated by its own model."""

    def __init__(self, hub: HubConfig, connector_configs: dict[tuple[str, str], BaseModel], file: str) -> None:
        self.hub = hub
        self.connector_configs = connector_configs
        self.file = file


def load_config(path: str | Path, registry: Registry,
                overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> LoadedConfig:
    """Load, validate and resolve a hub config; all errors are collected, each with file:line:col.

    ``overrides`` (``{("vendors", "simlocker"): {"api_key": ...}}``) are laid over a connector's ``config`` before it
    is validated: how an orchestrator passes values it holds (Airflow Connections) without writing them to YAML."""
    path = Path(path)
    data, positions = _yaml.load(path)
    hub = _yaml.validate(HubConfig, data, file=str(path), positions=positions)
    assert isinstance(hub, HubConfig)
    errors: list[LockerhubError] = []
    configs: dict[tuple[str, str], BaseModel] = {}
    for section, refs in (("partners", hub.partners), ("vendors", hub.vendors)):
        for name, ref in refs.items():
            try:
                cls = registry.load(ref.connector)
                merged = {**ref.config, **(overrides or {}).get((section, name), {})}
                resolved = resolve_paths(cls.config_model, merged, path.parent)  # type: ignore[attr-defined]
                configs[(section, name)] = _yaml.validate(
                    cls.config_model, resolved, file=str(path), positions=positions,  # type: ignore[attr-defined]
                    prefix=(section, name, "config"), env_hint=env_hint(cls),
                )
            except ErrorGroup as group:
                errors.extend(group.errors)
            except LockerhubError as exc:
                exc.location = _yaml.locate(str(path), positions, (section, name, "connector"), key=False)
                errors.append(exc)
    for index, name in enumerate(hub.routing.names):
        if name not in hub.vendors:
            where = ("routing", "vendor") if hub.routing.vendors is None else ("routing", "vendors", index)
            errors.append(ConfigError(f"{'.'.join(map(str, where))}: not a configured vendor",
                                      location=_yaml.locate(str(path), positions, where),
                                      expected=" or ".join(hub.vendors) or "a key of 'vendors'", found=repr(name)))
    if errors:
        raise ErrorGroup(errors)
    return LoadedConfig(hub, configs, str(path))


def env_hint(cls: type) -> str | None:
    """For settings-based configs: which environment variables can supply a value."""
    prefix = getattr(cls.config_model, "model_config", {}).get("env_prefix")  # type: ignore[attr-defined]
    return f"or set the {prefix}<FIELD> environment variable" if prefix else None
