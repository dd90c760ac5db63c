"""The one way lockerhub reads XML: lxml with DTDs, entities, external references and huge trees refused.

Capabilities:
    ``parse(data, *, file)`` returns the root element of a well-formed document, every element keeping its
    ``sourceline``. A document that declares a DTD (``<!DOCTYPE ...>``: the carrier of XXE and of entity-expansion
    bombs such as billion laughs) is refused before anything in it is used; entities are never expanded, nothing is
    fetched (no network, no DTD loading, no XInclude), and libxml2's limits on depth and text size stay on.

    Every refusal is a :class:`~lockerhub.errors.ParseError` naming the file, line and column, what was expected
    and what was found; the document's own text is never echoed (it may hold recipient PII).

Limits/Pitfalls:
    - SOAP responses read by zeep go through zeep's own loader with the equivalent settings
      (:func:`lockerhub_soap.transport.zeep_settings`); this module is for documents lockerhub parses itself
      (inbound SOAP requests, XML feed files).
"""

from __future__ import annotations

import re

from lxml import etree

from lockerhub.errors import Location, ParseError

REFUSED = "XML without a DTD (DOCTYPE declarations, entities and external references are refused)"
_SPACE = frozenset(b" \t\r\n")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)


def parse(data: bytes | str, *, file: str = "<input>") -> etree._Element:
    """The root element of ``data``; see the module docstring for what is refused."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise ParseError("empty XML document", location=Location(file=file, line=1, column=1),
                         expected="an XML document", found="no content")
    doctype = prolog_doctype(data)
    if doctype is not None:  # refused before libxml2 reads the DTD at all
        raise ParseError("XML with a DTD refused", location=Location(file=file, line=_doctype_line(data), column=1),
                         expected=REFUSED, found=f"a DOCTYPE declaration for <{doctype}>")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line, column = (exc.position if exc.position else (exc.lineno, None))
        message = (exc.msg or "malformed XML").split(", line ")[0]
        raise ParseError(f"XML syntax: {message}", location=Location(file=file, line=line or None,
                                                                     column=column or None),
                         expected="well-formed XML", found="a document that is not") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        line = _doctype_line(data)
        raise ParseError("XML with a DTD refused", location=Location(file=file, line=line, column=1),
                         expected=REFUSED, found=f"a DOCTYPE declaration for <{docinfo.root_name}>")
    for node in root.iter(etree.Entity):
        raise ParseError("XML entity reference refused", location=Location(file=file, line=node.sourceline),
                         expected=REFUSED, found=f"entity &{node.name};")
    return root


def prolog_doctype(data: bytes) -> str | None:
    """The root name of a DOCTYPE declaration in the prolog (where one can only be: after the XML declaration,
    comments, processing instructions and white space), or None. One linear scan, no regular expression."""
    i = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    size = len(data)
    while i < size:
        if data[i] in _SPACE:
            i += 1
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            i = size if end < 0 else end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            i = size if end < 0 else end + 3
        elif data.startswith(b"<!DOCTYPE", i):
            name = re.match(rb"\s*([^\s\[>]*)", data[i + 9: i + 200])
            return name.group(1).decode("utf-8", "replace") if name else ""
        else:
            return None
    return None


def _doctype_line(data: bytes) -> int:
    at = data.find(b"<!DOCTYPE")
    return data.count(b"\n", 0, at) + 1 if at >= 0 else 1


def local(tag: object) -> str:
    """``{urn:x}Name`` -> ``Name`` (comments and processing instructions have no name: empty)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def xpath_of(el: etree._Element) -> str:
    """A readable XPath of ``el`` by local names, with 1-based positions where a name repeats among siblings:
    ``/Shipments/Shipment[3]/Recipient/Name``."""
    steps = []
    node: etree._Element | None = el
    while node is not None:
        name = local(node.tag)
        parent = node.getparent()
        if parent is not None:
            same = [s for s in parent if isinstance(s.tag, str) and local(s.tag) == name]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))
