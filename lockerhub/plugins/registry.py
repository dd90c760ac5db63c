"""Entry-point registry for connector plugins (group ``lockerhub.connectors``, name = connector id).

Listing reads entry-point metadata only; a plugin is imported when it is used. Each plugin is checked when it
loads (pluggy's ``_verify_hook``): class attributes, required verbs for its kind and capabilities, and
parameter names against the protocol. A plugin that fails to import or verify is reported with its error and
skipped, so one broken vendor package cannot take the CLI down; ``strict=True`` raises instead.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points
from importlib.metadata import version as _dist_version

from pydantic import BaseModel

from lockerhub.errors import RegistryError
from lockerhub.plugins.protocols import (
    CAPABILITY_MEMBERS,
    COMMON_MEMBERS,
    PROTOCOLS,
    REQUIRED,
    Capability,
    ConnectorKind,
)

GROUP = "lockerhub.connectors"


def package_version(distribution: str) -> str:
    """A plugin's ``version`` attribute: its distribution's version (``0.0.0`` when run from bare sources)."""
    try:
        return _dist_version(distribution)
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        return "0.0.0"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A discovered plugin: metadata always, the class once loaded, or the error that stopped it."""

    id: str
    distribution: str
    dist_version: str
    entry_point: EntryPoint
    cls: type | None = None
    error: str | None = None


def _dist(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    return (dist.name, dist.version) if dist is not None else ("<unknown>", "")


def discover(group: str = GROUP) -> dict[str, EntryPoint]:
    """Entry points by connector id. Two distributions claiming one id is an error naming both."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        if ep.name in found and found[ep.name].value != ep.value:
            first, second = _dist(found[ep.name])[0], _dist(ep)[0]
            raise RegistryError(
                f"connector id '{ep.name}' is claimed by two packages: {first} and {second}",
                hint="uninstall one of them",
            )
        found[ep.name] = ep
    return found


def _members_for(cls: type) -> list[str]:
    members = list(COMMON_MEMBERS) + list(REQUIRED[cls.kind])  # type: ignore[attr-defined]
    for cap in cls.capabilities:  # type: ignore[attr-defined]
        members.extend(CAPABILITY_MEMBERS.get(cap, ()))
    return members


def _reference(member: str):  # type: ignore[no-untyped-def]
    for proto in PROTOCOLS:
        if member in proto.__dict__:
            return proto.__dict__[member]
    raise AssertionError(f"no protocol defines {member}")  # pragma: no cover - table bug


def _shape(fn: object) -> list[tuple[str, inspect._ParameterKind]]:
    """Parameter names and kinds (positional vs keyword-only matter to callers), without ``self``."""
    return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values() if p.name != "self"]  # type: ignore[arg-type]


def _render(shape: list[tuple[str, inspect._ParameterKind]]) -> str:
    parts: list[str] = []
    for name, kind in shape:
        if kind is inspect.Parameter.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        parts.append(name)
    return f"({', '.join(parts)})"


def verify(cls: object, *, where: str) -> type:
    """Check a plugin class against its protocol; errors name the package, the id and the member."""
    if not isinstance(cls, type):
        raise RegistryError(f"{where}: entry point must name a class", found=type(cls).__name__)
    for attr, kind in (("id", str), ("version", str), ("kind", ConnectorKind), ("capabilities", frozenset)):
        if not isinstance(getattr(cls, attr, None), kind):
            raise RegistryError(f"{where}: class attribute '{attr}'", expected=kind.__name__,
                                found=type(getattr(cls, attr, None)).__name__)
    bad = [c for c in cls.capabilities if not isinstance(c, Capability)]  # type: ignore[attr-defined]
    if bad:
        raise RegistryError(f"{where}: capabilities", expected="Capability members", found=repr(bad[0]))
    model = getattr(cls, "config_model", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise RegistryError(f"{where}: class attribute 'config_model'", expected="a pydantic model class",
                            found=type(model).__name__)
    for member in _members_for(cls):
        impl = getattr(cls, member, None)
        if not callable(impl):
            raise RegistryError(f"{where}: missing method '{member}'",
                                hint=f"required for kind {cls.kind} and its capabilities")  # type: ignore[attr-defined]
        want = _shape(_reference(member))
        have = _shape(impl)
        if want != have:
            raise RegistryError(f"{where}: method '{member}' signature",
                                expected=_render(want), found=_render(have))
    return cls


class Registry:
    """Connector plugins installed in this environment."""

    def __init__(self, group: str = GROUP) -> None:
        self.group = group
        self._eps: dict[str, EntryPoint] | None = None
        self._loaded: dict[str, type] = {}

    @property
    def entry_points(self) -> dict[str, EntryPoint]:
        if self._eps is None:
            self._eps = discover(self.group)
        return self._eps

    def ids(self) -> list[str]:
        return sorted(self.entry_points)

    def load(self, connector_id: str) -> type:
        """Import and verify one plugin; unknown ids get a did-you-mean hint."""
        if connector_id in self._loaded:
            return self._loaded[connector_id]
        ep = self.entry_points.get(connector_id)
        if ep is None:
            close = difflib.get_close_matches(connector_id, self.ids(), n=1)
            raise RegistryError(
                f"no connector '{connector_id}'; installed: {', '.join(self.ids()) or 'none'}",
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
        dist = _dist(ep)[0]
        where = f"connector '{connector_id}' from package {dist}"
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not take the host down
            raise RegistryError(f"{where} failed to import", found=f"{type(exc).__name__}: {exc}") from exc
        cls = verify(obj, where=where)
        if cls.id != connector_id:  # type: ignore[attr-defined]
            raise RegistryError(f"{where}: id attribute", expected=repr(connector_id), found=repr(cls.id))  # type: ignore[attr-defined]
        self._loaded[connector_id] = cls
        return cls

    def plugins(self, *, strict: bool = False) -> Iterable[PluginInfo]:
        """Every installed plugin, loaded one at a time; failures are reported, not raised (unless strict)."""
        for cid in self.ids():
            ep = self.entry_points[cid]
            dist, ver = _dist(ep)
            try:
                yield PluginInfo(cid, dist, ver, ep, cls=self.load(cid))
            except RegistryError as exc:
                if strict:
                    raise
                yield PluginInfo(cid, dist, ver, ep, error=exc.message + (f": {exc.found}" if exc.found else ""))

    def create(self, connector_id: str, config: BaseModel | dict[str, object]) -> object:
        """Instantiate a connector with a validated config (a dict is validated with its config model)."""
        cls = self.load(connector_id)
        if not isinstance(config, BaseModel):
            from lockerhub._yaml import build

            config = build(cls.config_model, config)  # type: ignore[attr-defined]
        return cls(config)


_default: Registry | None = None


def registry() -> Registry:
    """The process-wide registry (entry points are read once)."""
    global _default
    if _default is None:
        _default = Registry()
    return _default
