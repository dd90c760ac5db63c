"""SOAP connector: a legacy TMS that speaks SOAP, both ways.

Capabilities:
    ``fetch`` calls the TMS's ``fetch_operation`` (e.g. getNewShipments) and maps each shipment element of the
    response with ``fetch_mapping`` (format ``xml``), positions kept for errors and lineage. ``write_status`` calls
    its ``status_operation`` (e.g. postParcelStatus) once per status update, with arguments from
    ``status_mapping``; a SOAP fault is a :class:`~lockerhub_soap.client.TmsFault` the relay or bus worker
    quarantines with the fault's code, string and detail. ``describe_push``/``handle_push`` serve the inbound
    service (:mod:`lockerhub_soap.inbound`) at ``/tms/<partner>`` of ``lockerhub serve``. ``read`` takes a file
    holding a createShipment request (a captured SOAP envelope or its bare payload), for ``lockerhub ingest``.
    Kind ``tms``.

Config (:class:`~lockerhub_soap.config.SoapConfig`): ``LOCKERHUB_SOAP_*``; passwords from the environment.

Status crosswalk file:
    None: status updates carry canonical statuses; ``status_mapping`` turns them into the TMS's codes (its
    ``tables``).

Limits/Pitfalls:
    - Status updates are posted one call each, in sequence order, at least once: after a failure the relay or
      worker retries a batch one message at a time, so a TMS may see an update again. The sample mapping sends the
      hub's message sequence as ``messageId`` for the TMS to drop repeats.
    - The WSDL is loaded on first use (``check`` loads it at once); a WSDL change needs a new connector instance.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lxml import etree

from lockerhub.errors import ConfigError, ErrorGroup, Location, LockerhubError, ParseError
from lockerhub.mapping import CompiledMapping
from lockerhub.plugins.filedrop import load_shipment_mapping
from lockerhub.plugins.lineage import MappedLineage
from lockerhub.plugins.protocols import (
    Capability,
    CheckResult,
    ConnectorKind,
    PushReply,
    PushRequest,
    ShipmentDesk,
    SourceRecord,
    StatusUpdate,
)
from lockerhub.plugins.registry import package_version
from lockerhub_soap import inbound, safexml
from lockerhub_soap.config import ENV_PREFIX, SoapConfig
from lockerhub_soap.safexml import local
from lockerhub_soap.xmlformat import records

if TYPE_CHECKING:
    from lockerhub_soap.client import TmsClient


def load_status_mapping(path: Path) -> CompiledMapping:
    from lockerhub.mapping import load_mapping

    mapping = load_mapping(path)
    doc = mapping.doc
    if doc.source.format != "canonical" or doc.target != "json":
        raise ConfigError("status mapping for the soap connector", location=Location(file=str(path), line=1, column=1),
                          expected="source format canonical and target json",
                          found=f"source format {doc.source.format} and target {doc.target}")
    return mapping


def status_item(update: StatusUpdate) -> dict[str, Any]:
    """What a status mapping reads (the same shape as the CSV status rows' source)."""
    return {"partner": update.partner, "shipment_reference": update.shipment_reference,
            "parcel_id": update.parcel_id, "sequence": update.sequence, "event": update.event.model_dump(mode="json")}


class SoapConnector:
    """A SOAP TMS: fetch shipments and post statuses through its WSDL, take pushes through the hub's own."""

    id: ClassVar[str] = "soap"
    kind: ClassVar[ConnectorKind] = ConnectorKind.TMS
    version: ClassVar[str] = package_version("lockerhub-soap")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.READ, Capability.WRITE_STATUS, Capability.FETCH, Capability.PUSH})
    config_model: ClassVar[type[SoapConfig]] = SoapConfig

    def __init__(self, config: SoapConfig) -> None:
        self.config = config

    @classmethod
    def spec(cls) -> dict[str, Any]:
        return cls.config_model.model_json_schema()

    @property
    def fetches(self) -> bool:
        return self.config.fetch_operation is not None

    @cached_property
    def client(self) -> TmsClient:
        from lockerhub_soap.client import TmsClient  # zeep loads only when the TMS is called (about a second)

        return TmsClient(self.config)

    @cached_property
    def inbound_mapping(self) -> CompiledMapping:
        return load_shipment_mapping(self.config.inbound_mapping, "xml")

    @cached_property
    def fetch_mapping(self) -> CompiledMapping:
        assert self.config.fetch_mapping is not None
        return load_shipment_mapping(self.config.fetch_mapping, "xml")

    @cached_property
    def status_mapping(self) -> CompiledMapping:
        assert self.config.status_mapping is not None
        return load_status_mapping(self.config.status_mapping)

    @cached_property
    def inbound(self) -> inbound.InboundService:
        auth = inbound.Authenticator(self.config.inbound_username,
                                     self.config.secret("inbound_password", "inbound_password_env"),
                                     tolerance_s=self.config.inbound_tolerance_s)
        return inbound.InboundService(mapping=lambda: self.inbound_mapping, authenticator=auth,
                                      clock=lambda: datetime.now(UTC))

    # -- check -------------------------------------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Mappings load; the TMS's WSDL loads and has the configured operations; inbound credentials are set."""
        result = CheckResult()
        cfg = self.config
        for name, field, load in (("inbound mapping", "inbound_mapping", lambda: self.inbound_mapping),
                                  ("fetch mapping", "fetch_mapping", lambda: self.fetch_mapping),
                                  ("status mapping", "status_mapping", lambda: self.status_mapping)):
            if getattr(cfg, field) is None:
                continue
            try:
                mapping = load()
                result.add(name, True, f"{mapping.doc.mapping} v{mapping.doc.version}")
            except LockerhubError as exc:
                result.add(name, False, exc.render())
        if cfg.wsdl_location() is not None:
            try:
                operations = self.client.operations()
                result.add("wsdl", True, f"{len(operations)} operation(s)")
                for op in (cfg.fetch_operation, cfg.status_operation):
                    if op is not None:
                        result.add(f"operation {op}", op in operations,
                                   "" if op in operations else f"not in the WSDL: expected one of "
                                                               f"{', '.join(operations)}")
            except LockerhubError as exc:
                result.add("wsdl", False, exc.render())
        pushes = bool(cfg.inbound_username and cfg.secret("inbound_password", "inbound_password_env"))
        result.add("inbound credentials", True, "set: pushes accepted" if pushes else
                   f"not set: pushes refused (set inbound_username and {ENV_PREFIX}INBOUND_PASSWORD)")
        return result

    # -- TMS -> hub --------------------------------------------------------------------------------------------
    def read(self, path: Path, *, partner: str) -> Iterator[SourceRecord]:
        """One record: the createShipment request held in ``path`` (a SOAP envelope or the bare payload)."""
        root = safexml.parse(Path(path).read_bytes(), file=str(path))
        payload = inbound.body_of(root) if local(root.tag) == "Envelope" else root
        if payload is None or local(payload.tag) != "createShipment":
            found = f"<{local(payload.tag)}>" if payload is not None else "an empty SOAP Body"
            raise ParseError("not a createShipment request", location=Location(file=str(path), line=1, column=1),
                             expected="a createShipment element (or a SOAP envelope holding one)", found=found)
        yield self.inbound.record(payload, partner=partner, file=str(path))

    def fetch(self, *, partner: str) -> Iterator[SourceRecord]:
        cfg = self.config
        if cfg.fetch_operation is None:
            return
        mapping = self.fetch_mapping
        _, payload = self.client.call(cfg.fetch_operation, dict(cfg.fetch_params))
        file = f"{cfg.fetch_operation} response"
        if payload is None:
            raise ParseError(f"{file}: no body", expected="a SOAP response with a body", found="none")
        assert cfg.fetch_records is not None
        for item in records(payload, cfg.fetch_records, file=file):
            result = mapping.map(item, extra={"partner": partner})
            yield SourceRecord(location=Location(file=file, line=item.line, path=item.xpath),
                               raw=etree.tostring(item.element, encoding="unicode"),
                               shipment=None if result.errors else result.value, errors=tuple(result.errors),
                               lineage=MappedLineage(result))

    def describe_push(self, request: PushRequest) -> PushReply:
        return PushReply(200, inbound.describe(request.url), inbound.CONTENT_TYPE)

    def handle_push(self, request: PushRequest, desk: ShipmentDesk) -> PushReply:
        return self.inbound.handle(request, desk)

    # -- hub -> TMS --------------------------------------------------------------------------------------------
    def write_status(self, updates: Sequence[StatusUpdate]) -> list[Path]:
        """Post each update (in sequence order) with ``status_operation``; raises on the first failure."""
        cfg = self.config
        if cfg.status_operation is None:
            raise ConfigError("soap status updates need 'status_operation'",
                              hint="set status_operation and status_mapping in the partner's soap config")
        mapping = self.status_mapping
        for update in sorted(updates, key=lambda u: u.sequence):
            result = mapping.map(status_item(update))
            if not result.ok:
                raise ErrorGroup(list(result.errors))
            self.client.call(cfg.status_operation, _params(result.value))
        return []


def _params(value: Any) -> Any:
    """Mapped arguments without empty values (zeep leaves optional elements out when absent)."""
    if isinstance(value, dict):
        return {k: _params(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_params(v) for v in value]
    return value


