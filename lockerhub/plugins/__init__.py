"""Connector protocols, capabilities and the entry-point registry. No vendor names live here."""

from lockerhub.plugins.protocols import (
    Capability,
    CheckResult,
    ConnectorKind,
    LockerVendor,
    SourceRecord,
    StatusUpdate,
    TmsSink,
    TmsSource,
    VendorEvent,
)
from lockerhub.plugins.registry import GROUP, Registry, registry, verify

__all__ = [
    "GROUP",
    "Capability",
    "CheckResult",
    "ConnectorKind",
    "LockerVendor",
    "Registry",
    "SourceRecord",
    "StatusUpdate",
    "TmsSink",
    "TmsSource",
    "VendorEvent",
    "registry",
    "verify",
]
