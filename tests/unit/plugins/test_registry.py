"""The connector registry: protocol checks on load, unknown ids, and two packages claiming one id.

Plugin classes are defined here and entry points are faked by replacing
``lockerhub.plugins.registry.entry_points``; only the unknown-id error path and ``ids()`` touch the real
workspace connectors, which other engineers are still building.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from lockerhub.errors import RegistryError
from lockerhub.plugins import GROUP, Capability, CheckResult, ConnectorKind, Registry, verify

# `lockerhub.plugins.registry` the attribute is the registry() function; the module is reached through importlib.
registry_module = importlib.import_module("lockerhub.plugins.registry")

WHERE = "connector 'acme' from package lockerhub-acme"


class AcmeConfig(BaseModel):
    base_url: str = "https://acme.invalid"
    retries: int = 3


class AcmeVendor:
    id = "acme"
    kind = ConnectorKind.LOCKER_VENDOR
    version = "1.0.0"
    capabilities = frozenset({Capability.WEBHOOKS, Capability.PRECHECK, Capability.SOFT_RESERVE})
    config_model = AcmeConfig

    def __init__(self, config: AcmeConfig) -> None:
        self.config = config

    def check(self) -> CheckResult:
        return CheckResult().add("config", True)

    def list_lockers(self) -> Iterator[Any]:
        return iter(())

    def size_classes(self) -> list[Any]:
        return []

    def reserve(self, locker_id: str, size_class: str, *, idempotency_key: str) -> Any: ...
    def book(self, reservation_id: str, *, idempotency_key: str) -> Any: ...
    def cancel(self, reservation_id: str) -> None: ...
    def get_status(self, reservation_id: str) -> list[Any]: ...
    def precheck(self, locker_id: str, parcel: Any) -> list[str]: ...
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> str: ...
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[Any]: ...


class AcmeFiles:
    id = "acme"
    kind = ConnectorKind.TMS
    version = "0.1"
    capabilities = frozenset({Capability.READ, Capability.WATCH_INBOX, Capability.WRITE_STATUS})
    config_model = AcmeConfig

    def __init__(self, config: AcmeConfig) -> None:
        self.config = config

    def check(self) -> CheckResult: ...
    def read(self, path: Path, *, partner: str) -> Iterator[Any]: ...
    def write_status(self, updates: Sequence[Any]) -> list[Path]: ...
    def pending(self) -> list[Path]: ...
    def archive(self, path: Path, *, failed: bool) -> Path: ...


DROP = object()


def variant(base: type, **changes: Any) -> type:
    """A copy of ``base`` with members replaced, or removed when the value is ``DROP``."""
    namespace = {k: v for k, v in vars(base).items() if not k.startswith("__") or k == "__init__"}
    for name, value in changes.items():
        if value is DROP:
            namespace.pop(name)
        else:
            namespace[name] = value
    return type(base.__name__, (), namespace)


def rejected(cls: object) -> RegistryError:
    with pytest.raises(RegistryError) as info:
        verify(cls, where=WHERE)
    assert str(info.value).startswith(f"error: {WHERE}: ")
    return info.value


# --- verify -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [AcmeVendor, AcmeFiles])
def test_a_good_class_passes(cls: type) -> None:
    assert verify(cls, where=WHERE) is cls


def test_optional_verbs_are_not_needed_without_their_capability() -> None:
    plain = variant(AcmeVendor, capabilities=frozenset(), precheck=DROP, parse_webhook=DROP,
                    verify_webhook=DROP)
    assert verify(plain, where=WHERE) is plain


def test_a_tms_source_needs_only_read() -> None:
    source = variant(AcmeFiles, kind=ConnectorKind.TMS_SOURCE, capabilities=frozenset({Capability.READ}),
                     write_status=DROP, pending=DROP, archive=DROP)
    assert verify(source, where=WHERE) is source


@pytest.mark.parametrize(
    ("base", "member"),
    [
        (AcmeVendor, "cancel"),
        (AcmeVendor, "reserve"),
        (AcmeVendor, "check"),
        (AcmeVendor, "parse_webhook"),  # declared WEBHOOKS
        (AcmeVendor, "verify_webhook"),  # declared WEBHOOKS
        (AcmeVendor, "precheck"),  # declared PRECHECK
        (AcmeFiles, "write_status"),  # kind TMS is source and sink
        (AcmeFiles, "archive"),  # declared WATCH_INBOX
    ],
)
def test_missing_method(base: type, member: str) -> None:
    error = rejected(variant(base, **{member: DROP}))
    assert error.message == f"{WHERE}: missing method '{member}'"
    assert error.hint == f"required for kind {base.kind} and its capabilities"


def test_a_non_callable_member_counts_as_missing() -> None:
    assert rejected(variant(AcmeVendor, cancel="soon")).message == f"{WHERE}: missing method 'cancel'"


@pytest.mark.parametrize(
    ("base", "member", "impl", "expected", "found"),
    [
        (AcmeVendor, "reserve", lambda self, locker, size, *, key: None,
         "(locker_id, size_class, *, idempotency_key)", "(locker, size, *, key)"),
        (AcmeVendor, "cancel", lambda self: None, "(reservation_id)", "()"),
        (AcmeVendor, "check", lambda self, config: None, "()", "(config)"),
        (AcmeVendor, "parse_webhook", lambda self, body, headers: None, "(headers, body)", "(body, headers)"),
        (AcmeVendor, "verify_webhook", lambda self, headers, body, now: None, "(headers, body, *, now)",
         "(headers, body, now)"),
        (AcmeFiles, "read", lambda self, path: None, "(path, *, partner)", "(path)"),
    ],
)
def test_wrong_parameter_names(
    base: type, member: str, impl: Callable[..., Any], expected: str, found: str
) -> None:
    error = rejected(variant(base, **{member: impl}))
    assert str(error) == f"error: {WHERE}: method '{member}' signature: expected {expected}, found {found}"


def test_parameter_kinds_are_checked() -> None:
    error = rejected(variant(AcmeFiles, read=lambda self, *, path, partner: None))
    assert "'read'" in str(error)


@pytest.mark.parametrize(
    ("attr", "value", "expected", "found"),
    [
        ("id", DROP, "str", "NoneType"),
        ("version", DROP, "str", "NoneType"),
        ("kind", DROP, "ConnectorKind", "NoneType"),
        ("capabilities", DROP, "frozenset", "NoneType"),
        ("id", 7, "str", "int"),
        ("version", (1, 0), "str", "tuple"),
        ("kind", "locker-vendor", "ConnectorKind", "str"),  # the value is right, the type is not
        ("capabilities", {Capability.WEBHOOKS}, "frozenset", "set"),
    ],
)
def test_missing_or_mistyped_class_attribute(attr: str, value: Any, expected: str, found: str) -> None:
    error = rejected(variant(AcmeVendor, **{attr: value}))
    assert str(error) == f"error: {WHERE}: class attribute '{attr}': expected {expected}, found {found}"


@pytest.mark.parametrize(
    ("capabilities", "found"),
    [
        (frozenset({"webhooks"}), "'webhooks'"),  # a plain string, even one that is a Capability value
        (frozenset({"telepathy"}), "'telepathy'"),
        (frozenset({ConnectorKind.TMS}), "<ConnectorKind.TMS: 'tms'>"),
    ],
)
def test_bad_capability(capabilities: frozenset[Any], found: str) -> None:
    error = rejected(variant(AcmeVendor, capabilities=capabilities))
    assert str(error) == f"error: {WHERE}: capabilities: expected Capability members, found {found}"


@dataclass
class DataclassConfig:
    token: str = ""


@pytest.mark.parametrize(
    ("model", "found"),
    [
        (DROP, "NoneType"),
        (dict, "type"),
        (DataclassConfig, "type"),
        (AcmeConfig(), "AcmeConfig"),  # an instance, not the class
    ],
)
def test_config_model_must_be_a_pydantic_model_class(model: Any, found: str) -> None:
    error = rejected(variant(AcmeVendor, config_model=model))
    assert str(error) == (
        f"error: {WHERE}: class attribute 'config_model': expected a pydantic model class, found {found}"
    )


@pytest.mark.parametrize("obj", [lambda config: None, AcmeVendor(AcmeConfig()), "lockerhub_acme:Acme"])
def test_entry_point_must_name_a_class(obj: object) -> None:
    assert rejected(obj).message == f"{WHERE}: entry point must name a class"


# --- the installed workspace ------------------------------------------------------------------------------------


def test_installed_ids_include_the_csv_connector() -> None:
    assert "csv" in Registry().ids()


def test_load_of_an_unknown_id_lists_installed_ids() -> None:
    reg = Registry()
    with pytest.raises(RegistryError) as info:
        reg.load("nope")
    assert str(info.value) == f"error: no connector 'nope'; installed: {', '.join(reg.ids())}"
    assert info.value.hint is None


def test_load_of_a_near_miss_suggests_the_id() -> None:
    reg = Registry()
    with pytest.raises(RegistryError) as info:
        reg.load("cvs")
    assert str(info.value) == f"error: no connector 'cvs'; installed: {', '.join(reg.ids())} (did you mean 'csv'?)"


# --- fake entry points ------------------------------------------------------------------------------------------


def ep(name: str, value: str, package: str | None = None, group: str = GROUP) -> EntryPoint:
    point = EntryPoint(name=name, value=value, group=group)
    if package is not None:
        # importlib.metadata attaches the distribution the same way when it reads installed metadata.
        point = point._for(types.SimpleNamespace(name=package, version="1.0"))  # type: ignore[attr-defined]
    return point


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Replace the installed entry points with the given ones."""

    def install(*points: EntryPoint) -> None:
        monkeypatch.setattr(registry_module, "entry_points", lambda group: [p for p in points if p.group == group])

    return install


@pytest.fixture
def plugin_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """An importable module ``lockerhub_acme_fake`` to hold plugin classes for ``EntryPoint.load()``."""
    module = types.ModuleType("lockerhub_acme_fake")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_two_packages_claiming_one_id_is_an_error_naming_both(installed: Callable[..., None]) -> None:
    installed(ep("acme", "lockerhub_acme:Acme", "lockerhub-acme"),
              ep("acme", "acme_fork.connector:Acme", "acme-fork"))
    with pytest.raises(RegistryError) as info:
        registry_module.discover()
    assert str(info.value) == (
        "error: connector id 'acme' is claimed by two packages: lockerhub-acme and acme-fork (uninstall one of them)"
    )
    with pytest.raises(RegistryError):
        Registry().ids()


def test_duplicate_detection_with_plain_entry_points(installed: Callable[..., None]) -> None:
    installed(ep("acme", "a:A"), ep("acme", "b:B"))
    with pytest.raises(RegistryError) as info:
        registry_module.discover()
    assert "connector id 'acme' is claimed by two packages" in str(info.value)


def test_the_same_entry_point_seen_twice_is_not_a_duplicate(installed: Callable[..., None]) -> None:
    # e.g. one distribution visible through two sys.path entries
    installed(ep("acme", "lockerhub_acme:Acme", "lockerhub-acme"), ep("acme", "lockerhub_acme:Acme", "lockerhub-acme"))
    assert list(registry_module.discover()) == ["acme"]


def test_other_groups_are_ignored(installed: Callable[..., None]) -> None:
    installed(ep("acme", "a:A", group="other.plugins"), ep("zeta", "z:Z"))
    assert Registry().ids() == ["zeta"]


def test_load_verifies_and_caches(installed: Callable[..., None], plugin_module: types.ModuleType) -> None:
    plugin_module.Acme = AcmeVendor  # type: ignore[attr-defined]
    installed(ep("acme", "lockerhub_acme_fake:Acme", "lockerhub-acme"))
    reg = Registry()
    assert reg.load("acme") is AcmeVendor
    assert reg.load("acme") is AcmeVendor


def test_load_names_the_package_when_verification_fails(
    installed: Callable[..., None], plugin_module: types.ModuleType
) -> None:
    plugin_module.Acme = variant(AcmeVendor, book=DROP)  # type: ignore[attr-defined]
    installed(ep("acme", "lockerhub_acme_fake:Acme", "lockerhub-acme"))
    with pytest.raises(RegistryError) as info:
        Registry().load("acme")
    assert info.value.message == f"{WHERE}: missing method 'book'"


def test_load_checks_the_id_attribute(installed: Callable[..., None], plugin_module: types.ModuleType) -> None:
    plugin_module.Acme = variant(AcmeVendor, id="acme2")  # type: ignore[attr-defined]
    installed(ep("acme", "lockerhub_acme_fake:Acme", "lockerhub-acme"))
    with pytest.raises(RegistryError) as info:
        Registry().load("acme")
    assert str(info.value) == f"error: {WHERE}: id attribute: expected 'acme', found 'acme2'"


def test_a_plugin_that_fails_to_import(installed: Callable[..., None]) -> None:
    installed(ep("acme", "lockerhub_acme_not_installed_xyz:Acme", "lockerhub-acme"))
    with pytest.raises(RegistryError) as info:
        Registry().load("acme")
    assert info.value.message == f"{WHERE} failed to import"
    assert (info.value.found or "").startswith("ModuleNotFoundError: ")


def test_plugins_reports_broken_ones_and_keeps_going(
    installed: Callable[..., None], plugin_module: types.ModuleType
) -> None:
    plugin_module.Acme = AcmeVendor  # type: ignore[attr-defined]
    installed(ep("acme", "lockerhub_acme_fake:Acme", "lockerhub-acme"),
              ep("broken", "lockerhub_broken_not_installed_xyz:Broken", "lockerhub-broken"))
    infos = {info.id: info for info in Registry().plugins()}
    assert infos["acme"].cls is AcmeVendor and infos["acme"].error is None
    assert (infos["acme"].distribution, infos["acme"].dist_version) == ("lockerhub-acme", "1.0")
    assert infos["broken"].cls is None
    assert (infos["broken"].error or "").startswith(
        "connector 'broken' from package lockerhub-broken failed to import: ModuleNotFoundError"
    )
    with pytest.raises(RegistryError):
        list(Registry().plugins(strict=True))


def test_create_validates_a_dict_config(installed: Callable[..., None], plugin_module: types.ModuleType) -> None:
    plugin_module.Acme = AcmeVendor  # type: ignore[attr-defined]
    installed(ep("acme", "lockerhub_acme_fake:Acme", "lockerhub-acme"))
    connector = Registry().create("acme", {"retries": 5})
    assert isinstance(connector, AcmeVendor)
    assert connector.config == AcmeConfig(retries=5)
    config = AcmeConfig()
    assert Registry().create("acme", config).config is config  # type: ignore[attr-defined]
