"""The ``xml`` source format for mappings: an element is a record; a path is a walk down local element names.

Records:
    ``read(path, *, record=None)`` parses a file with :mod:`lockerhub_soap.safexml` (no DTD, no entities, nothing
    fetched) and yields one :class:`XmlItem` per record element. ``record`` (the mapping's ``source.options``) is a
    slash path of local names below the root element (``Shipment``, ``Batch/Shipment``, ``Batch[2]/Shipment``);
    without it every child element of the root is a record. A file with no record there is a
    :class:`~lockerhub.errors.ParseError` (an empty feed is more often a wrong ``record`` than an empty batch).
    :func:`records` is the same selection on an element already parsed (the SOAP connector's response body); it
    returns an empty list rather than raising, since a web service may well have nothing new.

Paths (namespace-agnostic: every step matches an element's local name, whatever its namespace, so one mapping
reads a plain and a namespaced feed alike; prefixes such as ``ns:Name`` are refused):

    ==========================  =============================================================================
    ``Recipient/Name``          text of the first ``Name`` child of the first ``Recipient`` child that has one
    ``Parcels/Parcel[2]/Weight``  ``[n]`` picks the n-th element of that name among its siblings (1-based)
    ``@id``, ``Parcel/@id``     an attribute (by local name; an unqualified one is preferred)
    ``.``                       the item's own text
    ==========================  =============================================================================

    A step without ``[n]`` matches every element of that name, and the value is the first one found in document
    order (as XPath's ``string()`` of the same path would give). An element's text is its own text nodes (CDATA
    included, child elements' text left out), stripped; empty or missing reads as no value, so ``default`` and
    ``required`` apply. Paths are checked and compiled once, when the mapping loads.

    ``repeat: Parcels/Parcel`` makes one item per element the path selects (every match, in document order);
    paths inside the group are relative to that element.

Positions:
    ``locate(item, path)`` is ``file:line`` of the element holding the value (of the item when the value is
    missing) with a readable XPath of it as ``path``: ``/Shipments/Shipment[3]/Recipient/Name`` or
    ``/Shipments/Shipment[3]/@id``; ``[n]`` appears where a name repeats among siblings. Steps are local names, so
    the XPath of a namespaced document is for reading, not for an XPath engine. lxml knows no columns. Lines past
    65535, which libxml2 keeps only approximately, are worked back to the start tag's line (:func:`line_of`).

Limits/Pitfalls:
    - The whole file is parsed into memory; libxml2's limits stay on (text nodes up to 10 MB, depth 256).
    - No ``..``, ``//``, ``*`` or predicates other than ``[n]``: a mapping reads below its item only.
    - An item indexes its whole subtree on the first read (one pass, then a dictionary lookup per step); items hold
      on to their elements, so keep records, not whole documents, beyond their use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree

from lockerhub.errors import ConfigError, Location, ParseError
from lockerhub_soap import safexml
from lockerhub_soap.safexml import local

SYNTAX = "an XML path of local element names like Recipient/Name, Parcels/Parcel[2]/Weight, @id, Parcel/@id or ."
RECORD_SYNTAX = "a slash path of local element names below the root, like Shipment or Batch/Shipment"
_NAME = r"[^\W\d][\w.\-]*"
_STEP = re.compile(rf"({_NAME})(?:\[([0-9]+)\])?")
_ATTR = re.compile(rf"@({_NAME})")
OPTIONS = ("record",)


class Step(NamedTuple):
    name: str  # local name
    index: int  # 1-based position among same-named siblings; 0: any
    tag: str  # ``{*}name``: lxml's tag filter for the local name in any namespace (or none)


class XPath(NamedTuple):
    """A parsed path: element steps, then an optional attribute; ``steps == () and attr is None`` is ``.``."""

    text: str
    steps: tuple[Step, ...]
    attr: str | None


# --------------------------------------------------------------------------- items


class XmlItem:
    """One record (or ``repeat`` item): an lxml element and the file it came from.

    ``xpath`` is its readable XPath (:func:`lockerhub_soap.safexml.xpath_of`), given by :func:`records` or worked
    out when first asked for (relative to ``parent``, the item it was selected from, when there is one).
    ``children(el)`` gives the child elements of ``el`` by local name from an index of the whole item, built in one
    pass on first use and shared with the ``repeat`` items selected from it: a mapping reads most of a record, and
    one pass costs less than a walk per path."""

    __slots__ = ("_index", "_xpath", "element", "file", "parent")

    def __init__(self, element: etree._Element, file: str | None = None, xpath: str | None = None,
                 parent: XmlItem | None = None) -> None:
        self.element, self.file, self._xpath, self.parent = element, file, xpath, parent
        self._index: dict[etree._Element, dict[str, list[etree._Element]]] | None = (
            parent._index if parent is not None else None)

    @property
    def xpath(self) -> str:
        if self._xpath is None:
            parent = self.parent
            self._xpath = (safexml.xpath_of(self.element) if parent is None
                           else parent.xpath + _relative(parent.element, self.element))
        return self._xpath

    @property
    def line(self) -> int | None:
        return line_of(self.element)

    @property
    def raw(self) -> str:
        """The element as XML text (namespace declarations it uses included)."""
        return etree.tostring(self.element, encoding="unicode", with_tail=False)

    def children(self, el: etree._Element) -> dict[str, list[etree._Element]]:
        """Local name -> the child elements of ``el`` (``el`` being this item's element or below it), in document
        order. The first call indexes the whole item in one pass."""
        index = self._index
        if index is None:
            index = self._index = _index(self.element)
        return index.get(el, _NONE)

    def __repr__(self) -> str:
        return f"<XmlItem {local(self.element.tag)} at {self.file}:{self.line}>"


_NONE: dict[str, list[etree._Element]] = {}


def _index(top: etree._Element) -> dict[etree._Element, dict[str, list[etree._Element]]]:
    """Element -> local name -> its child elements of that name, for ``top`` and every element below it that has
    children. Keys are the lxml proxies the lists hold, kept alive by them, so ``getparent()`` returns those very
    objects."""
    index: dict[etree._Element, dict[str, list[etree._Element]]] = {}
    for el in top.iterdescendants():
        tag = el.tag
        if not isinstance(tag, str):  # a comment or processing instruction (in trees not from safexml)
            continue
        parent = el.getparent()
        children = index.get(parent)
        if children is None:
            children = index[parent] = {}
        name = tag.rpartition("}")[2]
        same = children.get(name)
        if same is None:
            children[name] = [el]
        else:
            same.append(el)
    return index


def line_of(el: etree._Element) -> int | None:
    """The line of ``el``'s start tag. libxml2 keeps lines past 65535 on text nodes only (the line where the text
    ends) and gives an element there the line of its first child, else of its next sibling: the text between
    tells how many lines to go back. Exact for indented and for compact documents; an empty element that closes
    its parent at once (``<a>..<b/></a>``) past line 65535 keeps libxml2's approximation."""
    line = el.sourceline
    if line is None or line < 65535:
        return line
    if el.text is not None:
        return line - el.text.count("\n")
    if len(el):
        return line_of(el[0])
    if el.tail is not None:
        return line - el.tail.count("\n")
    after = el.getnext()
    return line_of(after) if after is not None else line


def _relative(ancestor: etree._Element, el: etree._Element) -> str:
    """``/Parcels/Parcel[2]``: the steps from ``ancestor`` down to ``el`` (empty when they are the same)."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not None and node is not ancestor:
        name = local(node.tag)
        parent = node.getparent()
        if parent is not None:
            same = list(parent.iterchildren(f"{{*}}{name}"))
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "".join(f"/{s}" for s in reversed(steps))


# --------------------------------------------------------------------------- paths


@lru_cache(maxsize=4096)
def parse_path(text: str, *, loop: bool = False) -> XPath:
    """Check ``text`` against the path syntax (``loop``: a ``repeat`` path, elements only); ValueError says what
    was expected."""
    want = "a path of local element names like Parcels/Parcel (a repeat selects elements)" if loop else SYNTAX
    body = text.strip()
    if body != text or not body:
        raise ValueError(f"expected {want}, found {text!r}")
    if body == ".":
        return XPath(text, (), None)
    if body.startswith("/"):
        raise ValueError(f"expected {want}: paths are relative to the record, found {text!r}")
    if body.startswith("./"):
        body = body[2:]
    parts = body.split("/")
    attr = None
    match = _ATTR.fullmatch(parts[-1])
    if match:
        if loop:
            raise ValueError(f"expected {want}, found an attribute in {text!r}")
        attr = match.group(1)
        parts = parts[:-1]
    steps = []
    for part in parts:
        match = _STEP.fullmatch(part)
        if match is None:
            if ":" in part and _STEP.fullmatch(part.split(":", 1)[1]):
                raise ValueError(f"expected {want}: steps are local names matched in any namespace, so write "
                                 f"{part.split(':', 1)[1]!r} and not {part!r}, found {text!r}")
            raise ValueError(f"expected {want}, found {text!r}")
        index = int(match.group(2)) if match.group(2) is not None else 0
        if match.group(2) is not None and index < 1:
            raise ValueError(f"expected {want}: positions start at 1 (Parcel[1]), found {text!r}")
        steps.append(Step(match.group(1), index, f"{{*}}{match.group(1)}"))
    return XPath(text, tuple(steps), attr)


def check_record_path(record: str) -> str:
    """``record`` when it is a valid records path (see the module docstring); ValueError otherwise. For config
    validators (the SOAP connector's ``fetch_records``)."""
    try:
        parse_path(record, loop=True)
    except ValueError:
        raise ValueError(f"expected {RECORD_SYNTAX}, found {record!r}") from None
    if record.strip() == ".":
        raise ValueError(f"expected {RECORD_SYNTAX}, found '.'")
    return record


def text_of(el: etree._Element) -> str | None:
    """The element's own text nodes, stripped; None when there is no text."""
    text = el.text
    if len(el):
        text = (text or "") + "".join(child.tail or "" for child in el)
    if text is None:
        return None
    return text.strip() or None


def attribute(el: etree._Element, name: str) -> str | None:
    """Attribute ``name`` by local name (unqualified first), unstripped; None when absent."""
    value = el.get(name)
    if value is None and len(el.attrib):
        suffix = "}" + name
        value = next((v for k, v in el.attrib.items() if k.endswith(suffix)), None)
    return value


def _stripped(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def _children(item: XmlItem, el: etree._Element, step: Step) -> list[etree._Element]:
    same = item.children(el).get(step.name)
    if not same:
        return []
    return same[step.index - 1:step.index] if step.index else same


def _first(item: XmlItem, el: etree._Element, steps: tuple[Step, ...],
           attr: str | None) -> etree._Element | None:
    """The first element in document order at ``steps`` below ``el`` (having ``attr`` when given)."""
    if not steps:
        return el if attr is None or attribute(el, attr) is not None else None
    head, rest = steps[0], steps[1:]
    for child in _children(item, el, head):
        found = _first(item, child, rest, attr)
        if found is not None:
            return found
    return None


def _all(item: XmlItem, steps: tuple[Step, ...]) -> list[etree._Element]:
    current = [item.element]
    for step in steps:
        current = [child for node in current for child in _children(item, node, step)]
    return current


def _compile(parsed: XPath) -> Callable[[XmlItem], str | None]:
    steps, attr = parsed.steps, parsed.attr
    if not steps:
        if attr is None:
            return lambda item: text_of(item.element)
        return lambda item: _stripped(attribute(item.element, attr))
    if attr is None and not any(step.index for step in steps):  # the common case: a descendant's text
        names = tuple(step.name for step in steps)

        def descendant_text(item: XmlItem) -> str | None:
            el, several = item.element, False
            for name in names:  # the first element at each step; a dead end after a choice takes the long way
                same = item.children(el).get(name)
                if not same:
                    if several:
                        found = _first(item, item.element, steps, None)
                        return text_of(found) if found is not None else None
                    return None
                several = several or len(same) > 1
                el = same[0]
            return text_of(el)
        return descendant_text

    def element_value(item: XmlItem) -> str | None:
        found = _first(item, item.element, steps, attr)
        if found is None:
            return None
        return text_of(found) if attr is None else _stripped(attribute(found, attr))
    return element_value


def _reference_xpath(parsed: XPath) -> str:
    """The same path in XPath 1.0 (by local-name()), for :meth:`XmlFormat.read_path`."""
    steps = "/".join(f"*[local-name()='{s.name}']" + (f"[{s.index}]" if s.index else "") for s in parsed.steps)
    if parsed.attr is None:
        return f"({steps or 'self::*'})[1]/text()"
    prefix = f"{steps}/" if steps else ""
    return f"({prefix}@{parsed.attr} | {prefix}@*[local-name()='{parsed.attr}'])"


# --------------------------------------------------------------------------- records


def records(root: etree._Element, record: str | None, *, file: str | None) -> list[XmlItem]:
    """The record elements below ``root`` as items with their XPaths: those at ``record`` (a slash path of local
    names, see the module docstring), or every child element when it is None. Empty when there are none; a
    ``record`` that is not a valid path is a ValueError."""
    base = safexml.xpath_of(root)
    if record is None:
        counts: dict[str, int] = {}
        children = [child for child in root if isinstance(child.tag, str)]
        for child in children:
            name = local(child.tag)
            counts[name] = counts.get(name, 0) + 1
        seen: dict[str, int] = {}
        out = []
        for child in children:
            name = local(child.tag)
            seen[name] = n = seen.get(name, 0) + 1
            out.append(XmlItem(child, file, f"{base}/{name}[{n}]" if counts[name] > 1 else f"{base}/{name}"))
        return out
    check_record_path(record)
    current = [(root, base)]
    for step in parse_path(record, loop=True).steps:
        selected = []
        for node, xpath in current:
            same = list(node.iterchildren(step.tag))
            for n, child in enumerate(same, 1):
                if step.index and n != step.index:
                    continue
                selected.append((child, f"{xpath}/{step.name}[{n}]" if len(same) > 1 else f"{xpath}/{step.name}"))
        current = selected
    return [XmlItem(el, file, xpath) for el, xpath in current]


def _start_column(data: bytes, el: etree._Element) -> int | None:
    """The 1-based column of ``el``'s start tag on its line (lxml gives lines only)."""
    line = line_of(el)
    if not line:
        return None
    lines = data.split(b"\n", line)
    if len(lines) < line:
        return None
    qname = (f"{el.prefix}:" if el.prefix else "") + local(el.tag)
    at = lines[line - 1].find(b"<" + qname.encode("utf-8"))
    return at + 1 if at >= 0 else None


def _no_records(data: bytes, root: etree._Element, record: str | None, file: str) -> ParseError:
    name = local(root.tag)
    kids = list(dict.fromkeys(local(c.tag) for c in root if isinstance(c.tag, str)))
    shown = ", ".join(f"<{k}>" for k in kids[:5]) + (", ..." if len(kids) > 5 else "")
    found = f"<{name}> holding {shown}" if kids else f"an empty <{name}>"
    where = Location(file=file, line=line_of(root), column=_start_column(data, root), path=f"/{name}")
    if record is None:
        return ParseError("no records", location=where, expected=f"record elements inside the root <{name}>",
                          found=found)
    hint = None
    first = record.split("/", 1)
    if first[0].split("[")[0] == name:
        hint = (f"record is a path below the root <{name}>: try record: {first[1]}" if len(first) > 1 else
                f"record is a path below the root <{name}>, which cannot be a record itself")
    return ParseError(f"no records at '{record}'", location=where,
                      expected=f"<{record.split('/')[-1].split('[')[0]}> elements at {record} below the root <{name}>",
                      found=found, hint=hint)


# --------------------------------------------------------------------------- the format


class XmlFormat:
    """The ``xml`` source format (see the module docstring)."""

    name = "xml"

    def compile_path(self, path: str, *, version: str | None = None) -> Callable[[XmlItem], str | None]:
        return _compile(parse_path(path))

    def read_path(self, item: XmlItem, path: str) -> str | None:
        """The same read as the compiled one, through lxml's XPath engine (the reference semantics)."""
        found = item.element.xpath(_reference_xpath(parse_path(path)))
        if not found:
            return None
        if parse_path(path).attr is not None:
            return _stripped(str(found[0]))
        return "".join(str(t) for t in found).strip() or None

    def label(self, path: str) -> str:
        if path == ".":
            return "the element's text"
        return f"attribute {path}" if "@" in path else f"element {path}"

    def compile_repeat(self, path: str, *, version: str | None = None) -> Callable[[XmlItem], list[XmlItem]]:
        steps = parse_path(path, loop=True).steps
        if not steps:
            return lambda item: [item]
        return lambda item: [XmlItem(el, item.file, None, item) for el in _all(item, steps)]

    def locate(self, item: XmlItem, path: str) -> Location:
        parsed = parse_path(path)
        found = _first(item, item.element, parsed.steps, parsed.attr)
        if found is None:
            where = item.xpath + ("" if path == "." else "/" + path.removeprefix("./"))
            return Location(file=item.file, line=line_of(item.element), path=where)
        xpath = item.xpath + _relative(item.element, found)
        if parsed.attr is not None:
            xpath += f"/@{parsed.attr}"
        return Location(file=item.file, line=line_of(found), path=xpath)

    def read(self, path: Path | str, *, record: str | None = None, **options: Any) -> Iterator[XmlItem]:
        """The record items of an XML file (see the module docstring)."""
        file = str(path)
        if options:
            raise ConfigError("xml reader options (source.options of the mapping)", location=Location(file=file),
                              expected=" or ".join(OPTIONS), found=", ".join(sorted(options)))
        if record is not None:
            try:
                if not isinstance(record, str):
                    raise ValueError(record)
                check_record_path(record)
            except ValueError:
                raise ConfigError("xml reader option 'record'", location=Location(file=file),
                                  expected=RECORD_SYNTAX, found=repr(record)) from None
        data = Path(path).read_bytes()
        root = safexml.parse(data, file=file)
        items = records(root, record, file=file)
        if not items:
            raise _no_records(data, root, record, file)
        items.reverse()
        while items:  # hand each item over without keeping it: its index goes when the caller is done with it
            yield items.pop()
