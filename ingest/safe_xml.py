"""Safe XML parsing for GPX and TCX, strict first and tolerant when the file is damaged.

One safe parse: a document with a DTD or an entity declaration is refused outright (defusedxml, with DTDs,
entities and external references forbidden), so no entity is ever expanded and nothing outside the file
is ever read; a document without one goes to the standard library's C parser.  Namespace prefixes used
but never declared (``<gpxdata:cadence>`` in some Strava exports) get a placeholder declaration.

When that strict parse fails because the file is damaged (cut short by a killed app or a dead battery, a
few bad bytes from a failed sync), :func:`parse_xml` parses it again with libxml2's recovery mode through
lxml, so every well-formed element before and around the damage is kept.  The tolerant parser never sees
a document with a DTD (those are refused before), and is configured anyway to resolve no entity, load no
DTD, touch no network and keep libxml2's limits on depth and text size (``huge_tree=False``); a damaged
file that hits one of those limits is refused, not salvaged.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only for documents without a DTD (see parse_xml)
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as DET
from lxml import etree as LET

_PREFIX_USE = re.compile(r"</?([A-Za-z_][\w.-]*):[A-Za-z_]")
_PREFIX_DECL = re.compile(r"xmlns:([A-Za-z_][\w.-]*)\s*=")
_DTD_MARK = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""^[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
#: Characters XML 1.0 does not allow anywhere; junk bytes bring them in, and libxml2 stops recovering at
#: the first one, so they are removed before the tolerant parse (never before the strict one).
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XML_DECL = re.compile(r"^<\?xml[^>]*\?>")
#: libxml2 error types that mean a safety limit was hit (nesting depth, text size, entity amplification).
_LIMIT_ERRORS = {"ERR_RESOURCE_LIMIT", "ERR_ENTITY_LOOP", "ERR_ENTITY_AMPLIFICATION", "ERR_INTERNAL_ERROR"}

REFUSED_FOR_SAFETY = "the file contains XML declarations (DTD or entities) that watch files never use; refused for safety"


@dataclass(frozen=True)
class XmlDamage:
    """Where and how a damaged document broke (from the tolerant parse).

    ``line``: 1-based line of the first error; ``cut_short``: the document stops before its root element
    is closed (the end of the file is missing); ``size_chars``: length of the decoded text.
    """

    line: int
    cut_short: bool
    size_chars: int
    detail: str  # the parser's first message, kept for logs and ``__cause__``, never shown as is


def decode(data: bytes) -> str:
    """The document's text: BOMs and the declared encoding honoured, broken bytes replaced."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    m = _ENCODING.match(data[:200])
    enc = m.group(1).decode("ascii") if m else "utf-8"
    try:
        return data.decode(enc)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", "replace")


def declare_missing_prefixes(text: str) -> str:
    """Add a placeholder ``xmlns:p`` on the root element for every prefix used but never declared."""
    used = set(_PREFIX_USE.findall(text)) - {"xml", "xmlns"}
    missing = used - set(_PREFIX_DECL.findall(text))
    if not missing:
        return text
    m = re.search(r"<(?![?!])[A-Za-z_][\w.:-]*", text)
    if not m:
        return text
    decl = "".join(f' xmlns:{p}="urn:loadwatch:undeclared:{p}"' for p in sorted(missing))
    return text[:m.end()] + decl + text[m.end():]


def parse_xml(data: bytes, name: str, error, *, tolerant: bool = True):
    """``(text, root, damage)`` from one safe parse of ``data``.

    ``damage`` is None for a well-formed document; otherwise the document was damaged and ``root`` comes
    from the tolerant parse (an lxml element: same API as ElementTree's).  Raises ``error(name, problem)``
    in plain words for an empty file, a DTD or entities (refused for safety), a damaged file that breaks a
    safety limit, and (with ``tolerant=False``, or when nothing could be recovered) damaged XML.
    """
    text = decode(data).lstrip("\ufeff \t\r\n")
    if not text:
        raise error(name, "the file is empty")
    # Entities (billion laughs, external files or URLs) can only be declared in a DTD.  A document with
    # no DTD at all is parsed with the C parser (ten times faster); anything with one goes to defusedxml,
    # which refuses it, and never to the tolerant parser.
    has_dtd = _DTD_MARK.search(text) is not None
    for attempt in range(2):
        try:
            if has_dtd:
                root = DET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            else:
                root = ET.fromstring(text)
            return text, root, None
        except defusedxml.DefusedXmlException as exc:
            raise error(name, REFUSED_FOR_SAFETY) from exc
        except (DET.ParseError, ET.ParseError) as exc:
            if attempt == 0 and "unbound prefix" in str(exc):
                text = declare_missing_prefixes(text)
                continue
            if has_dtd:
                # damaged *and* carrying a DTD: never handed to a second parser
                raise error(name, REFUSED_FOR_SAFETY) from exc
            if not tolerant:
                raise error(name, "the file is not valid XML (damaged or cut short)") from exc
            root, damage = _recover(text, name, error, exc)
            return text, root, damage
    raise error(name, "the file is not valid XML")  # pragma: no cover


def _tolerant_parser() -> LET.XMLParser:
    return LET.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False,
                         dtd_validation=False, huge_tree=False, remove_comments=True, remove_pis=True,
                         encoding="utf-8")


def _recover(text: str, name: str, error, strict_error: Exception):
    """Root and :class:`XmlDamage` from libxml2's recovery mode; raises ``error`` when nothing usable
    comes back or a safety limit was hit."""
    body = _XML_DECL.sub("", _NOT_XML_CHARS.sub("", text), count=1)
    if _DTD_MARK.search(body):  # removing junk characters must never assemble a declaration
        raise error(name, REFUSED_FOR_SAFETY) from strict_error
    parser = _tolerant_parser()
    try:
        root = LET.fromstring(body.encode("utf-8", "replace"), parser)
    except LET.XMLSyntaxError as exc:  # recovery found nothing at all to build a tree from
        raise error(name, "the file is not valid XML (damaged or cut short) and nothing in it could be "
                          "read") from exc
    errors = list(parser.error_log)
    if any(e.type_name in _LIMIT_ERRORS for e in errors):
        raise error(name, "the file is damaged and nests elements deeper, or holds longer texts, than any "
                          "watch file does; refused for safety") from strict_error
    if root is None:
        raise error(name, "the file is not valid XML (damaged or cut short) and nothing in it could be "
                          "read") from strict_error
    first = errors[0] if errors else None
    line = first.line if first is not None and first.line else _strict_line(strict_error)
    local = root.tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1] if isinstance(root.tag, str) else ""
    tail = body.rstrip()
    cut_short = not re.search(r"</\s*(?:[\w.-]+:)?" + re.escape(local) + r"\s*>$", tail) if local else True
    return root, XmlDamage(line=max(1, int(line)), cut_short=cut_short, size_chars=len(text),
                           detail=str(first.message) if first is not None else str(strict_error))


def _strict_line(exc: Exception) -> int:
    pos = getattr(exc, "position", None)
    return pos[0] if pos else 1


def safe_xml_root(data: bytes, name: str, error):
    """The document as text and its root element from one strict safe parse (no salvage); raises
    ``error`` in plain words for damaged XML.  Kept for callers that want all-or-nothing."""
    text, root, _ = parse_xml(data, name, error, tolerant=False)
    return text, root
