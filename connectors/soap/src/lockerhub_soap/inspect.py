"""What a TMS's WSDL offers, before anyone writes a mapping for it (``lockerhub soap inspect``).

Capabilities:
    ``inspect_wsdl(location, allow_network=False)`` loads a WSDL (a file, or an http(s) URL when the network is
    allowed) with the hardened zeep settings and returns a :class:`WsdlReport`: every service, its ports (binding,
    SOAP 1.1/1.2 or HTTP, style, endpoint address) and their operations (style document|rpc, use literal|encoded,
    SOAP action, the input and output fields with their XSD type, occurrences and, for complex types, their own
    fields to a bounded depth; header parts; fault names), each with ``callable`` (whether lockerhub, through zeep,
    can call it) and a ``note``. ``render(report, console)`` prints one table per port.

    Before zeep sees anything, every document is fetched once and read with :mod:`lockerhub_soap.safexml`, following
    ``wsdl:import``, ``xsd:import``, ``xsd:include`` and ``xsd:redefine``: a document with a DTD (XXE, entity bombs) is
    refused before anything in it is resolved, a missing import is named with the file and line that imports it,
    and an http(s) import is refused (nothing is sent) unless the network is allowed. zeep then builds the model
    from those same bytes, so nothing is fetched twice.

    Every failure is a :class:`~lockerhub.errors.LockerhubError` naming the file (and line) and what was expected
    and found; never a bare traceback.

Limits/Pitfalls:
    - rpc/encoded operations are reported with ``callable=False``: zeep does not implement SOAP encoding
      (section 5: ``xsi:type``, encoded arrays, multi-refs). The integrator can ask the TMS vendor for a
      document/literal endpoint of the same service, or put a small adapter in front that speaks rpc/encoded to the
      TMS and document/literal (or files) to lockerhub.
    - Nested fields stop at ``depth`` levels and at the first repetition of a type (recursive types); ``xsd:any``
      shows as ``(any)``.
    - zeep's own warnings while reading the WSDL become report notes (they never escape as Python warnings).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions as zx
from lxml import etree
from rich.console import Console
from rich.table import Table
from zeep.loader import absolute_location
from zeep.wsdl.bindings.soap import Soap12Binding, SoapBinding
from zeep.xsd import ComplexType
from zeep.xsd.elements.any import Any as XsdAny
from zeep.xsd.elements.element import Element
from zeep.xsd.elements.indicators import Choice, Group, OrderIndicator

from lockerhub.errors import ConfigError, Location, LockerhubError, ParseError
from lockerhub_soap import safexml
from lockerhub_soap.transport import HubTransport, NetworkRefused, host_of, zeep_settings

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
SOAP11_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ZEEP_XML_XSD = "https://www.w3.org/2001/xml.xsd"  # where zeep fetches the xml namespace when no location is given
DEPTH = 4

ENCODED_NOTE = ("rpc/encoded: zeep cannot call it (it does not implement SOAP section 5 encoding: xsi:type, "
                "encoded arrays, multi-refs). Ask the TMS vendor for a document/literal endpoint of this service, "
                "or put a small adapter in front that speaks rpc/encoded to the TMS and document/literal (or files) "
                "to lockerhub.")
NETWORK_HINT = "pass --allow-network (allow_network=True) to fetch it, or save it beside the WSDL and point to the copy"


# --------------------------------------------------------------------------- the report


@dataclass
class Field:
    """One element (or attribute) of a message: ``type`` is the XSD type's name (``xsd:string`` for built-ins,
    ``(anonymous)`` for an inline complex type), ``max_occurs`` an int or ``"unbounded"``."""

    name: str
    type: str
    type_namespace: str | None = None
    min_occurs: int = 1
    max_occurs: int | str = 1
    attribute: bool = False
    choice: bool = False
    note: str = ""
    fields: list[Field] = field(default_factory=list)

    @property
    def occurs(self) -> str:
        high = "*" if self.max_occurs == "unbounded" else str(self.max_occurs)
        return str(self.min_occurs) if str(self.min_occurs) == high else f"{self.min_occurs}..{high}"

    def field(self, name: str) -> Field:
        return _named(self.fields, name, f"field {self.name}")


@dataclass
class Message:
    """The body of an operation's input or output: ``element`` is the body element (for rpc, the wrapper named
    after the operation), ``fields`` its children, ``headers`` the SOAP header parts."""

    element: str | None = None
    fields: list[Field] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)

    def field(self, name: str) -> Field:
        return _named(self.fields, name, "message")


@dataclass
class Operation:
    name: str
    style: str
    use: str
    soap_action: str | None = None
    input: Message = field(default_factory=Message)
    output: Message = field(default_factory=Message)
    faults: list[str] = field(default_factory=list)
    callable: bool = True
    note: str = ""


@dataclass
class Port:
    name: str
    binding: str
    soap_version: str  # "1.1", "1.2" or "http"
    style: str
    address: str | None
    operations: list[Operation] = field(default_factory=list)

    def operation(self, name: str) -> Operation:
        return _named(self.operations, name, f"port {self.name}")


@dataclass
class Service:
    name: str
    ports: list[Port] = field(default_factory=list)

    def port(self, name: str) -> Port:
        return _named(self.ports, name, f"service {self.name}")


@dataclass
class WsdlReport:
    location: str
    target_namespace: str | None
    documents: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def service(self, name: str) -> Service:
        return _named(self.services, name, "WSDL")

    def operations(self) -> list[Operation]:
        return [op for s in self.services for p in s.ports for op in p.operations]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _named(items: list[Any], name: str, where: str) -> Any:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"{name!r} not in {where} (has {', '.join(i.name for i in items) or 'nothing'})")


# --------------------------------------------------------------------------- loading


class _Documents:
    """Fetches the WSDL and everything it imports, once, each read with the hardened parser before zeep sees it."""

    def __init__(self, transport: HubTransport, allow_network: bool, base_dir: str | None, shown_dir: str = "") -> None:
        self.transport = transport
        self.allow_network = allow_network
        self.base_dir = base_dir  # the WSDL's directory (absolute)
        self.shown_dir = shown_dir  # the same directory as the caller wrote it, for error locations
        self.data: dict[str, bytes] = {}
        self.roots: dict[str, etree._Element] = {}

    def display(self, url: str) -> str:
        """``url`` relative to the WSDL's directory (the report's document list)."""
        if host_of(url) or urlsplit(url).scheme == "file":
            return url
        if self.base_dir:
            rel = os.path.relpath(url, self.base_dir)
            if not rel.startswith(".."):
                return rel
        return url

    def path(self, url: str) -> str:
        """``url`` as a path the caller can open (under the directory they named the WSDL by)."""
        shown = self.display(url)
        if shown == url:
            return url
        return os.path.join(self.shown_dir, shown) if self.shown_dir else shown

    def fetch(self, url: str, *, importer: Location | None, reference: str) -> bytes:
        if url in self.data:
            return self.data[url]
        if host_of(url) and not self.allow_network:
            what = "the WSDL" if importer is None else f"import of {reference!r}"
            raise NetworkRefused(f"{what} would be fetched over the network: refused", location=importer,
                                 expected="local files", found=url, hint=NETWORK_HINT)
        where = importer or Location(file=self.path(url))
        try:
            data = self.transport.load(url)
        except NetworkRefused:
            raise
        except FileNotFoundError:
            what = "WSDL not found" if importer is None else f"imported document {reference!r} not found"
            raise ConfigError(what, location=where, expected=f"a readable file at {self.path(url)}",
                              found="no such file") from None
        except IsADirectoryError:
            raise ConfigError("WSDL is a directory", location=where, expected="a WSDL file",
                              found="a directory") from None
        except OSError as exc:
            raise ConfigError("cannot read the WSDL or one of its imports", location=where,
                              expected=f"a readable file at {self.path(url)}",
                              found=exc.strerror or type(exc).__name__) from None
        except (requests.RequestException, zx.TransportError) as exc:
            raise ConfigError("cannot fetch the WSDL or one of its imports", location=where, expected=url,
                              found=f"{type(exc).__name__}: {exc}"[:300]) from None
        self.data[url] = data
        return data

    def crawl(self, root_url: str) -> None:
        pending: list[tuple[str, Location | None, str]] = [(root_url, None, root_url)]
        while pending:
            url, importer, reference = pending.pop(0)
            if url in self.roots:
                continue
            data = self.fetch(url, importer=importer, reference=reference)
            try:
                root = safexml.parse(data, file=self.path(url))
            except ParseError as exc:
                hint = f"imported by {importer}" if importer else exc.hint
                raise ParseError(exc.message, location=exc.location, expected=exc.expected, found=exc.found,
                                 hint=hint) from None
            self.roots[url] = root
            for node, ref in _references(root):
                target = absolute_location(ref, url)
                pending.append((target, Location(file=self.path(url), line=node.sourceline), ref))

    def bindings(self) -> dict[str, etree._Element]:
        """``{ns}name`` of every wsdl:binding in the loaded WSDL documents -> its element."""
        found: dict[str, etree._Element] = {}
        for root in self.roots.values():
            if root.tag != f"{{{WSDL_NS}}}definitions":
                continue
            tns = root.get("targetNamespace")
            for binding in root.findall(f"{{{WSDL_NS}}}binding"):
                found[etree.QName(tns, binding.get("name", "")).text] = binding
        return found


def _references(root: etree._Element) -> list[tuple[etree._Element, str]]:
    refs = []
    for node in root.iter(f"{{{WSDL_NS}}}import"):
        if node.get("location"):
            refs.append((node, node.get("location")))
    for tag in ("import", "include", "redefine"):
        for node in root.iter(f"{{{XSD_NS}}}{tag}"):
            location = node.get("schemaLocation")
            if location:
                refs.append((node, location))
            elif tag == "import" and node.get("namespace") == XML_NS:
                refs.append((node, ZEEP_XML_XSD))
    return refs


class _PreloadedTransport(HubTransport):
    """Hands zeep the bytes the crawl already read; anything else is fetched (host rules apply) and checked."""

    def __init__(self, documents: _Documents, allowed_hosts: set[str] | None) -> None:
        super().__init__(allowed_hosts=allowed_hosts)
        self.documents = documents

    def load(self, url: str) -> bytes:
        for key in (url, os.path.realpath(url) if not host_of(url) else url):
            if key in self.documents.data:
                return self.documents.data[key]
        data = super().load(url)
        safexml.parse(data, file=self.documents.path(url))
        return data


def _root_url(location: str | Path) -> str:
    text = str(location)
    if host_of(text) or urlsplit(text).scheme == "file":
        return text
    return os.path.realpath(os.path.expanduser(text))


def _load(location: str | Path, allow_network: bool) -> tuple[zeep.Client, _Documents, list[str]]:
    url = _root_url(location)
    local = host_of(url) is None
    allowed: set[str] | None = None if allow_network else set()
    documents = _Documents(HubTransport(allowed_hosts=allowed), allow_network,
                           os.path.dirname(url) if local else None, os.path.dirname(str(location)) if local else "")
    documents.crawl(url)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            client = zeep.Client(url, transport=_PreloadedTransport(documents, allowed), settings=zeep_settings())
        except LockerhubError:
            raise
        except (zx.DTDForbidden, zx.EntitiesForbidden):
            raise ParseError("WSDL with a DTD refused", location=Location(file=str(location)),
                             expected="documents without DOCTYPE or entities", found="a DTD") from None
        except zx.XMLParseError as exc:
            raise ParseError("the WSDL does not fit WSDL/XML Schema", location=_zeep_location(exc, documents),
                             expected="a WSDL zeep can read", found=_message(exc)) from None
        except (zx.LookupError, zx.NamespaceError) as exc:
            raise ConfigError("the WSDL refers to something it does not define",
                              location=Location(file=str(location)),
                              expected="every type, element and message it uses to be defined or imported",
                              found=_message(exc)) from None
        except (zx.Error, etree.LxmlError, KeyError, ValueError, TypeError, AttributeError, IndexError,
                NotImplementedError, RecursionError) as exc:
            raise ConfigError("zeep cannot read the WSDL", location=Location(file=str(location)),
                              expected="a WSDL zeep can read", found=f"{type(exc).__name__}: {_message(exc)}") from None
    notes.extend(f"zeep: {w.message}" for w in caught)
    return client, documents, notes


def _message(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text if len(text) <= 300 else text[:299] + "…"


def _zeep_location(exc: zx.XMLParseError, documents: _Documents) -> Location:
    filename = getattr(exc, "filename", None)
    return Location(file=documents.path(filename) if filename else None, line=getattr(exc, "sourceline", None))


# --------------------------------------------------------------------------- the model


def inspect_wsdl(location: str | Path, *, allow_network: bool = False, depth: int = DEPTH) -> WsdlReport:
    """Services, ports and operations of the WSDL at ``location`` (see the module docstring)."""
    client, documents, notes = _load(location, allow_network)
    wsdl = client.wsdl
    root = next(iter(documents.roots.values()))
    report = WsdlReport(location=str(location), target_namespace=root.get("targetNamespace"),
                        documents=[documents.display(u) for u in documents.roots], notes=notes)
    binding_xml = documents.bindings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for service in wsdl.services.values():
            entry = Service(name=service.name)
            for port in service.ports.values():
                entry.ports.append(_port(port, binding_xml, depth))
            report.services.append(entry)
    report.notes.extend(f"zeep: {w.message}" for w in caught)
    if not report.services:
        report.notes.append("the WSDL defines no service (only types, messages or bindings)")
    return report


def _port(port: Any, binding_xml: dict[str, etree._Element], depth: int) -> Port:
    binding = port.binding
    name = etree.QName(binding.name)
    if isinstance(binding, SoapBinding):
        version = "1.2" if isinstance(binding, Soap12Binding) else "1.1"
        style = binding.default_style
    else:
        version, style = "http", "-"
    entry = Port(name=port.name, binding=name.localname, soap_version=version, style=style,
                 address=port.binding_options.get("address"))
    xml = binding_xml.get(name.text)
    for op_name, operation in binding._operations.items():
        entry.operations.append(_operation(op_name, operation, xml, version, depth))
    return entry


def _operation(name: str, operation: Any, binding_xml: etree._Element | None, version: str, depth: int) -> Operation:
    if version == "http":
        return Operation(name=name, style="-", use="-", input=_message_of(operation.input, depth),
                         output=_message_of(operation.output, depth),
                         note="HTTP GET/POST binding, not SOAP: use the SOAP port of the same service")
    use, encoding = _use(binding_xml, name)
    entry = Operation(name=name, style=operation.style or "document", use=use,
                      soap_action=getattr(operation, "soapaction", None) or None,
                      input=_message_of(operation.input, depth), output=_message_of(operation.output, depth),
                      faults=sorted(operation.faults) or sorted(getattr(operation.abstract, "fault_messages", {})))
    if use == "encoded":
        entry.callable = False
        entry.note = ENCODED_NOTE if entry.style == "rpc" else ENCODED_NOTE.replace("rpc/encoded", "document/encoded")
    elif encoding:
        entry.note = f"encodingStyle {encoding} declared with use=literal"
    elif entry.style == "rpc":
        entry.note = "rpc/literal: zeep can call it; the arguments are the message parts"
    if operation.input is not None and operation.input.body is None and _has_parts(operation.input):
        entry.callable = False
        entry.note = (entry.note + " " if entry.note else "") + "the input message could not be resolved"
    return entry


def _has_parts(message: Any) -> bool:
    abstract = getattr(message, "abstract", None)
    return bool(abstract is not None and abstract.parts)


def _use(binding_xml: etree._Element | None, name: str) -> tuple[str, str | None]:
    """use (literal|encoded) and encodingStyle of the operation's soap:body elements, read from the binding."""
    if binding_xml is None:
        return "literal", None
    for operation in binding_xml.findall(f"{{{WSDL_NS}}}operation"):
        if operation.get("name") != name:
            continue
        uses, encoding = [], None
        for direction in ("input", "output"):
            node = operation.find(f"{{{WSDL_NS}}}{direction}")
            if node is None:
                continue
            for ns in (SOAP11_BINDING_NS, SOAP12_BINDING_NS):
                body = node.find(f"{{{ns}}}body")
                if body is not None:
                    uses.append(body.get("use", "literal"))
                    encoding = encoding or body.get("encodingStyle")
        return ("encoded" if "encoded" in uses else "literal"), encoding
    return "literal", None


def _message_of(message: Any, depth: int) -> Message:
    if message is None:
        return Message()
    entry = Message()
    header = getattr(message, "header", None)
    if header is not None and isinstance(header.type, ComplexType):
        entry.headers = [n for n, _e in header.type.elements]
    body = getattr(message, "body", None)
    if body is None:
        return entry
    if getattr(message, "_is_body_wrapped", False) and isinstance(body.type, ComplexType):
        entry.fields = _fields(body.type, depth, frozenset())  # several parts directly under soap:Body
        return entry
    entry.element = etree.QName(body.qname).localname if body.qname is not None else body.name
    if isinstance(body.type, ComplexType) and not _is_simple_content(body.type):
        entry.fields = _fields(body.type, depth, frozenset({_type_key(body.type)}))
    else:
        entry.fields = [_field(body, depth, frozenset())]
    return entry


def _type_key(xtype: Any) -> str:
    qname = getattr(xtype, "qname", None)
    return qname.text if qname is not None and getattr(xtype, "is_global", True) else str(id(xtype))


def _type_name(xtype: Any) -> tuple[str, str | None]:
    qname = getattr(xtype, "qname", None)
    if isinstance(xtype, ComplexType) and not xtype.is_global:
        return "(anonymous)", None
    if qname is None:
        return "(anonymous)", None
    qname = etree.QName(qname)
    if qname.namespace == XSD_NS:
        return f"xsd:{qname.localname}", XSD_NS
    return qname.localname, qname.namespace


def _is_simple_content(xtype: ComplexType) -> bool:
    return not xtype.elements_nested and not xtype.attributes


def _fields(xtype: ComplexType, depth: int, seen: frozenset[str]) -> list[Field]:
    result: list[Field] = []
    for _name, item in xtype.elements_nested:
        result.extend(_walk(item, depth, seen, choice=False, repeated=False))
    for name, attribute in xtype.attributes:
        type_name, type_ns = _type_name(attribute.type)
        required = getattr(attribute, "required", False)
        result.append(Field(name=f"@{attribute.name or name}", type=type_name, type_namespace=type_ns,
                            min_occurs=1 if required else 0, max_occurs=1, attribute=True))
    return result


def _walk(item: Any, depth: int, seen: frozenset[str], *, choice: bool, repeated: bool) -> list[Field]:
    if isinstance(item, Element):
        found = _field(item, depth, seen)
        found.choice = choice
        if repeated:
            found.max_occurs = "unbounded"
        return [found]
    if isinstance(item, XsdAny):
        return [Field(name="(any)", type="xsd:any", min_occurs=item.min_occurs, max_occurs=item.max_occurs,
                      choice=choice, note="any element allowed here")]
    if isinstance(item, Group):
        return _walk(item.child, depth, seen, choice=choice, repeated=repeated)
    if isinstance(item, OrderIndicator):
        inner_choice = choice or isinstance(item, Choice)
        inner_repeated = repeated or item.max_occurs == "unbounded" or (
            isinstance(item.max_occurs, int) and item.max_occurs > 1)
        found = []
        for child in item:
            found.extend(_walk(child, depth, seen, choice=inner_choice, repeated=inner_repeated))
        return found
    return [Field(name=str(getattr(item, "name", None) or type(item).__name__), type="(unknown)",
                  note=f"not shown: {type(item).__name__}")]


def _field(element: Element, depth: int, seen: frozenset[str]) -> Field:
    xtype = element.type
    type_name, type_ns = _type_name(xtype)
    entry = Field(name=element.name or "(unnamed)", type=type_name, type_namespace=type_ns,
                  min_occurs=element.min_occurs, max_occurs=element.max_occurs)
    if not isinstance(xtype, ComplexType) or _is_simple_content(xtype):
        return entry
    key = _type_key(xtype)
    if key in seen:
        entry.note = "recursive: this type contains itself"
    elif depth <= 1:
        entry.note = "nested fields not shown (depth limit)"
    else:
        entry.fields = _fields(xtype, depth - 1, seen | {key})
    return entry


# --------------------------------------------------------------------------- printing

NESTED_LINES = 12  # nested fields shown per field in the table (the JSON has them all, to ``depth``)


def _field_line(f: Field, indent: int) -> str:
    marks = " (choice)" if f.choice else ""
    more = f" {{{len(f.fields)}}}" if f.fields and indent else ""
    return f"{'  ' * indent}{f.name}: {f.type} [{f.occurs}]{marks}{more}"


def _fields_text(message: Message) -> str:
    lines = [f"header: {', '.join(message.headers)}"] if message.headers else []
    if message.element and (len(message.fields) != 1 or message.fields[0].name != message.element):
        lines.append(f"<{message.element}>")
    for f in message.fields:
        lines.append(_field_line(f, 0))
        for child in f.fields[:NESTED_LINES]:
            lines.append(_field_line(child, 1))
        if len(f.fields) > NESTED_LINES:
            lines.append(f"  … {len(f.fields) - NESTED_LINES} more")
    return "\n".join(lines) or "-"


def _short(note: str) -> str:
    return note.split(":", 1)[0] if ":" in note else note


def render(report: WsdlReport, console: Console) -> None:
    """Readable tables: one per port, one row per operation; ``{n}`` after a nested field is how many fields it
    has in turn (``--json`` lists them)."""
    console.print(f"[bold]{_escape(report.location)}[/bold]  target namespace {report.target_namespace or '-'}",
                  highlight=False)
    console.print(f"{len(report.documents)} document(s): " + ", ".join(report.documents), markup=False,
                  highlight=False, soft_wrap=True)
    for service in report.services:
        for port in service.ports:
            kind = f"SOAP {port.soap_version}" if port.soap_version != "http" else "HTTP"
            title = (f"{service.name} / {port.name}: binding {port.binding}, {kind}, {port.style}, "
                     f"{port.address or '(no address)'}")
            table = Table(title=_escape(title), show_lines=True, title_justify="left")
            for col in ("operation", "style/use", "input", "output", "faults", "callable"):
                table.add_column(col, overflow="fold")
            notes: dict[str, list[str]] = {}
            for op in port.operations:
                verdict = "yes" if op.callable else "[bold red]no[/bold red]"
                if op.note:
                    verdict += f" ({_escape(_short(op.note))})"
                    notes.setdefault(op.note, []).append(op.name)
                table.add_row(op.name, f"{op.style}/{op.use}", _escape(_fields_text(op.input)),
                              _escape(_fields_text(op.output)), ", ".join(op.faults) or "-", verdict)
            console.print(table)
            for note, names in notes.items():
                console.print(f"{', '.join(names)}: {note}", markup=False, highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
