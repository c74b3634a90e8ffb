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
from xml.parsers import expat  # the same: finds where a damaged document (no DTD) first breaks

import defusedxml
import defusedxml.ElementTree as DET
import numpy as np
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

#: Deepest element nesting read.  GPX and TCX nest about 9 levels (TrainingCenterDatabase / Activities /
#: Activity / Lap / Track / Trackpoint / Extensions / TPX / Speed); a document nested a million deep costs
#: the parsers a minute and a GB before any reader sees it.
MAX_XML_DEPTH: int = 100
#: Most elements read in one document: a 24-hour recording at one point a second holds under 1,000,000.
MAX_XML_ELEMENTS: int = 5_000_000


def check_shape(text: str, name: str, error, *, max_depth: int = MAX_XML_DEPTH,
                max_elements: int = MAX_XML_ELEMENTS) -> None:
    """Raise ``error(name, problem)`` when the document nests deeper than ``max_depth`` or holds more than
    ``max_elements`` elements, before any parser builds a tree of it.  Counted on the tags, vectorised
    (tens of ms for a 10 MB file): ``<`` not followed by ``/``, ``?`` or ``!`` opens an element unless
    its tag ends in ``/>``; ``</`` closes one."""
    raw = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    lt = np.flatnonzero(raw == ord("<"))
    lt = lt[lt + 1 < len(raw)]
    if not len(lt):
        return
    after = raw[lt + 1]
    closes = after == ord("/")
    opens = ~closes & (after != ord("?")) & (after != ord("!"))
    if int(opens.sum()) > max_elements:
        raise error(name, f"the file holds more than {max_elements:,} XML elements, more than any watch "
                          "file does; refused for safety")
    if int(np.cumsum(opens.astype(np.int32) - closes.astype(np.int32)).max()) <= max_depth:
        return  # even counting every "<a/>" as left open it is shallow enough: the usual watch file
    gt = np.flatnonzero(raw == ord(">"))
    if len(gt) == len(lt) and bool(np.all(gt > lt)) and bool(np.all(gt[:-1] < lt[1:])):
        ends = gt  # every tag closes before the next opens (the usual file): no search needed
    else:
        nxt = np.minimum(np.searchsorted(gt, lt), len(gt) - 1) if len(gt) else None
        ends = gt[nxt] if nxt is not None else lt
    empty = (raw[ends - 1] == ord("/")) & (ends > lt)
    step = (opens & ~empty).astype(np.int32) - closes.astype(np.int32)
    depth = int(np.cumsum(step).max())
    if depth > max_depth:
        raise error(name, f"the file nests XML elements more than {max_depth} deep (watch files nest about 10); "
                          "refused for safety")


@dataclass(frozen=True)
class Resync:
    """How to pick a damaged document up again after the damage: at the next ``<point`` start tag (any
    namespace prefix), inside the root's own start tag (``root``, when the file's own is damaged) and
    ``wrapper`` (the elements a point sits in)."""

    point: str  # "trkpt", "Trackpoint"
    root: bytes  # b'<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1">'
    wrapper: bytes = b""  # b"<trk><trkseg>"

    @property
    def root_name(self) -> str:
        return self.root[1:].split(None, 1)[0].rstrip(b">").decode()


@dataclass(frozen=True)
class XmlDamage:
    """How a damaged document broke, and what the tolerant parse read of it.

    ``parts``: the root elements read, in file order: the part before the first damage, then one part
    per place the reading was picked up again after damage (see :class:`Resync`).  ``head``: the first
    part starts at the beginning of the file (False when the damage was right at the start).
    ``cut_short``: the document stops before its root element is closed (its end is missing).  Element
    names in the parts carry no namespace (damage can take the declarations with it): match local names.
    """

    parts: tuple
    head: bool
    cut_short: bool
    size_chars: int
    detail: str  # the parser's first message, for logs and ``__cause__``, never shown as is

    @property
    def gaps(self) -> int:
        """Places in the middle of the file where damage was skipped."""
        return len(self.parts) - 1 + (0 if self.head else 1)


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


def declares_dtd(text: str) -> bool:
    """Whether the document's text holds a DTD or an entity declaration (then :func:`parse_xml` refuses
    it, and no other parser may see it)."""
    return _DTD_MARK.search(text) is not None


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


def parse_xml(data: bytes, name: str, error, *, tolerant: bool = True, resync: Resync | None = None):
    """``(text, root, damage)`` from one safe parse of ``data``.

    ``damage`` is None for a well-formed document; otherwise the document was damaged and ``root`` comes
    from the tolerant parse (an lxml element: same API as ElementTree's).  Raises ``error(name, problem)``
    in plain words for an empty file, a DTD or entities (refused for safety), a damaged file that breaks a
    safety limit, and (with ``tolerant=False``, or when nothing could be recovered) damaged XML.
    """
    text = decode(data).lstrip("\ufeff \t\r\n")
    if not text:
        raise error(name, "the file is empty")
    check_shape(text, name, error)
    # Entities (billion laughs, external files or URLs) can only be declared in a DTD.  A document with
    # no DTD at all is parsed with the C parser (ten times faster); anything with one goes to defusedxml,
    # which refuses it, and never to the tolerant parser.
    has_dtd = declares_dtd(text)
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
            root, damage = _recover(text, name, error, exc, resync)
            return text, root, damage
    raise error(name, "the file is not valid XML")  # pragma: no cover


def _tolerant_parser() -> LET.XMLParser:
    return LET.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False,
                         dtd_validation=False, huge_tree=False, remove_comments=True, remove_pis=True,
                         encoding="utf-8")


#: At most this many places of damage are skipped in one file; what follows the last is read as it comes.
MAX_PARTS = 32
_START_TAG = re.compile(rb"<(?![?!/])[^<>]*>")


def _first_error_byte(data: bytes) -> int | None:
    """Byte offset of the first well-formedness error in ``data`` (expat, which expands nothing: the
    document has no DTD), or None when it is well-formed."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return max(0, min(parser.ErrorByteIndex, len(data)))
    return None


def _strip_namespaces(root) -> None:
    """Element names without their namespace (``{uri}trkpt`` -> ``trkpt``; an undeclared ``p:name`` that
    recovery kept as written -> ``name``), in place."""
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and ("}" in tag or ":" in tag):
            try:
                el.tag = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
            except ValueError:  # nothing valid after the prefix (damage): the name stays as read
                pass


def _recover_part(data: bytes, name: str, error, cause: Exception):
    """One part through libxml2's recovery mode: its root (None when nothing could be built); raises
    ``error`` when a safety limit was hit."""
    if not data.strip():
        return None
    parser = _tolerant_parser()
    try:
        root = LET.fromstring(data, parser)
    except LET.XMLSyntaxError:
        root = None
    if any(e.type_name in _LIMIT_ERRORS for e in parser.error_log):
        raise error(name, "the file is damaged and nests elements deeper, or holds longer texts, than any "
                          "watch file does; refused for safety") from cause
    return root


def _recover(text: str, name: str, error, strict_error: Exception, resync: Resync | None):
    """Root and :class:`XmlDamage` from libxml2's recovery mode; raises ``error`` when nothing usable
    comes back or a safety limit was hit.

    The document is read up to its first error (so every point complete before the damage is kept
    exactly), then picked up again at the next point start tag after the damage, inside the root's
    start tag and ``resync.wrapper``; and so on for each later place of damage."""
    body = _XML_DECL.sub("", _NOT_XML_CHARS.sub("", text), count=1)
    if _DTD_MARK.search(body):  # removing junk characters must never assemble a declaration
        raise error(name, REFUSED_FOR_SAFETY) from strict_error
    data = body.encode("utf-8", "replace")
    prefix = b""
    if resync is not None:
        start = _START_TAG.search(data)
        tag = re.sub(rb"[\r\n]+", b" ", start.group(0)).replace(b"/>", b">") if start is not None else b""
        own_name = re.match(rb"<(?:[\w.-]+:)?([\w.-]+)", tag)
        if own_name is None or own_name.group(1).decode() != resync.root_name or \
                _first_error_byte(tag[:-1] + b"/>") is not None:
            tag = resync.root  # the file's own start tag is damaged
        prefix = tag + resync.wrapper
    point = re.compile(rb"<(?:[\w.-]+:)?" + re.escape(resync.point.encode()) + rb"[\s>/]") if resync else None
    parts, pos, head, lead = [], 0, True, b""
    while True:
        chunk = lead + data[pos:]
        err = _first_error_byte(chunk) if resync is not None and len(parts) < MAX_PARTS - 1 else None
        if err is not None and err < len(lead):
            err = None  # the root's own start tag is damaged: no better place to split than none
        cut_at = len(chunk) if err is None else err
        root = _recover_part(chunk[:cut_at] if err is not None else chunk, name, error, strict_error)
        if root is not None:
            _strip_namespaces(root)
            parts.append(root)
        elif pos == 0:
            head = False
        if err is None:
            break
        nxt = point.search(data, pos + err - len(lead) + 1)
        if nxt is None:
            break
        pos, lead = nxt.start(), prefix
    if not parts:
        raise error(name, "the file is not valid XML (damaged or cut short) and nothing in it could be "
                          "read") from strict_error
    if resync is not None and parts[0].tag != resync.root_name:
        # the start is beyond reading: the parts picked up after the damage are what is left
        kept = [p for p in parts if p.tag == resync.root_name]
        parts, head = kept or parts, head and not kept
    local = parts[0].tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1] if isinstance(parts[0].tag, str) else ""
    tail = body.rstrip()
    cut_short = not re.search(r"</\s*(?:[\w.-]+:)?" + re.escape(local) + r"\s*>$", tail) if local else True
    return parts[0], XmlDamage(parts=tuple(parts), head=head, cut_short=cut_short, size_chars=len(text),
                               detail=str(strict_error))


def safe_xml_root(data: bytes, name: str, error):
    """The document as text and its root element from one strict safe parse (no salvage); raises
    ``error`` in plain words for damaged XML.  Kept for callers that want all-or-nothing."""
    text, root, _ = parse_xml(data, name, error, tolerant=False)
    return text, root
