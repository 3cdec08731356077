"""Safe XML parsing for everything a configurator or another tool hands us (BPMN, DMN).

Rules, enforced for every document:

* size limit (``max_bytes``, default 5 MB) checked before parsing;
* no DTD at all: a ``<!DOCTYPE ...>`` is refused outright (this rules out entity expansion such as the
  "billion laughs", external entities such as ``file:///etc/passwd`` and external DTDs);
* the lxml parser itself is configured defensively as a second line: ``resolve_entities=False``,
  ``no_network=True``, ``load_dtd=False``, ``dtd_validation=False``, ``huge_tree=False`` (libxml2's default
  depth and text-node limits stay on);
* XInclude elements are refused (lxml never processes them unless asked, but a file that contains them is not
  one we want to store and hand to other tools);
* anything that is not well-formed XML is refused with the parser's line and message.

Every refusal raises :class:`engine.errors.Invalid` with a message a configurator can act on.

SpiffWorkflow's ``BpmnParser.add_bpmn_str``/``add_bpmn_io``/``add_bpmn_file`` (and the DMN equivalents) parse
with lxml's *default* parser, which loads internal DTD subsets and expands entities. Never call them: use
:func:`add_bpmn` / :func:`add_dmn` here, which hand SpiffWorkflow an already parsed, safe tree through
``add_bpmn_xml`` / ``add_dmn_xml`` (those two do no parsing of their own).
"""

from __future__ import annotations

from lxml import etree

from engine.errors import Invalid

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

XINCLUDE_NAMESPACES = frozenset({"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"})


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=True,
        strip_cdata=False,
        collect_ids=False,
    )


def _looks_like_doctype(data: bytes) -> bool:
    # Cheap pre-check on the common encodings; the docinfo check after parsing is the authoritative one.
    head = data[:65536]
    needles = (b"<!DOCTYPE", b"<!doctype", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
    for needle in needles:
        if needle in head:
            return True
    return False


def parse_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "file") -> etree._Element:
    """Parse ``data`` safely and return the root element. Raises :class:`Invalid` on any refusal.

    ``what`` names the document in messages (e.g. the file name).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise Invalid(f"{what}: expected the file's bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise Invalid(f"{what} is too large: {len(data):,} bytes (the limit is {max_bytes:,} bytes)")
    if not data.strip():
        raise Invalid(f"{what} is empty")
    if _looks_like_doctype(bytes(data)):
        raise Invalid(f"{what} contains a DOCTYPE declaration; DTDs and entities are not allowed")
    try:
        root = etree.fromstring(bytes(data), parser=_make_parser())
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        detail = exc.msg if hasattr(exc, "msg") else str(exc)
        raise Invalid(f"{what} is not well-formed XML{where}: {detail}") from None
    except (ValueError, etree.LxmlError) as exc:
        raise Invalid(f"{what} could not be read as XML: {exc}") from None
    if root is None:
        raise Invalid(f"{what} has no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise Invalid(f"{what} contains a DOCTYPE declaration; DTDs and entities are not allowed")
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag.startswith("{"):
            namespace = tag[1:].split("}", 1)[0]
            if namespace in XINCLUDE_NAMESPACES:
                raise Invalid(f"{what} uses XInclude (line {element.sourceline}); XInclude is not allowed")
        elif tag is etree.Entity:
            raise Invalid(f"{what} contains an entity reference (line {element.sourceline}); not allowed")
    return root


def safe_parse_xsd(path) -> etree.XMLSchema:
    """Load one of *our own* XSD files (engine/xsd) without network access; includes resolve locally."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.XMLSchema(etree.parse(str(path), parser=parser))


def add_bpmn(parser, data: bytes | str, filename: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """Parse BPMN bytes safely and add the tree to a SpiffWorkflow ``BpmnParser``. Returns the root."""
    root = parse_xml(data, max_bytes=max_bytes, what=filename or "BPMN file")
    parser.add_bpmn_xml(root, filename)
    return root


def add_dmn(parser, data: bytes | str, filename: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """Parse DMN bytes safely and add the tree to a SpiffWorkflow ``BpmnDmnParser``. Returns the root."""
    root = parse_xml(data, max_bytes=max_bytes, what=filename or "DMN file")
    parser.add_dmn_xml(root, filename)
    return root
