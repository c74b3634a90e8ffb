"""Where watch files come from: paths, folders, zip and gzip archives, uploads.

* :func:`~loadwatch.ingest.file_bytes.source_bytes` (in :mod:`loadwatch.ingest.file_bytes`, below the readers, and named here
  too) turns whatever a reader was given (path, bytes, binary file object) into bytes and a display name.
* :func:`sniff_format` recognises FIT, GPX, TCX, zip and gzip by content first, by extension second.
* :func:`read_activity` reads one file's bytes (gunzipping with a size cap) into an
  :class:`~loadwatch.ingest.canonical.Activity`.
* :func:`iter_sources` walks paths, folders and (nested) archives and yields one :class:`SourceFile` at a
  time (never the whole export in memory), a :class:`Skipped` for files that are clearly not activities,
  or an :class:`~loadwatch.ingest.errors.IngestError` for archives that are damaged or break a :class:`Limits`
  safety limit.

Archive members are only ever read into memory, never extracted to disk, so a member named
``../../etc/passwd`` cannot write anywhere; such names are still rejected (reported as
:class:`~loadwatch.ingest.errors.ArchiveError`) because no real watch export contains them.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from loadwatch.ingest.archive_meta import Metadata, is_metadata_name
from loadwatch.ingest.canonical import Activity
from loadwatch.ingest.errors import ArchiveError, IngestError, UnsupportedFileError
from loadwatch.ingest.file_bytes import DEFAULT_LIMITS, MB, Limits, display_name, source_bytes, too_big
from loadwatch.ingest.file_bytes import (
    NOT_A_FILE as NOT_A_FILE,  # named here too, where callers have found it
)
from loadwatch.ingest.file_bytes import read_regular_file as read_regular_file
from loadwatch.ingest.fit_reader import read_fit
from loadwatch.ingest.gpx_reader import read_gpx
from loadwatch.ingest.plausible import check
from loadwatch.ingest.tcx_reader import read_tcx

log = logging.getLogger(__name__)


@dataclass
class SourceFile:
    """One candidate activity file: ``name`` as shown to the runner (``export.zip/folder/run.fit``) and
    its bytes; ``path`` when those bytes are a whole file on disk (not unpacked from an archive), so a
    worker process can read them itself instead of receiving them through a pipe."""

    name: str
    data: bytes
    path: Path | None = None


@dataclass
class Skipped:
    """A file that is clearly not an activity (by name, e.g. ``activities.csv`` or a photo): reported,
    not a failure."""

    name: str
    reason: str


# ------------------------------------------------------------------------------------------ sniffing

_EXT_FORMAT = {".fit": "fit", ".gpx": "gpx", ".tcx": "tcx", ".zip": "zip", ".gz": "gzip"}


def _xml_root(data: bytes) -> str | None:
    """Local name of the first element in an XML document (skipping BOM, declaration, comments,
    doctype), lower case, or None."""
    head = data[:4096]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            head = head.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return None
    text = head.decode("utf-8", "replace")
    i = 0
    while True:
        i = text.find("<", i)
        if i < 0 or i + 1 >= len(text):
            return None
        nxt = text[i + 1]
        if nxt in "?!":
            if text.startswith("<!--", i):
                end = text.find("-->", i)
                i = end + 3 if end >= 0 else len(text)
            else:
                end = text.find(">", i)
                i = end + 1 if end >= 0 else len(text)
            continue
        j = i + 1
        while j < len(text) and (text[j].isalnum() or text[j] in ":_-."):
            j += 1
        tag = text[i + 1:j]
        return tag.rsplit(":", 1)[-1].lower() or None


def sniff_format(data: bytes, name: str = "") -> str | None:
    """``"fit"``, ``"gpx"``, ``"tcx"``, ``"zip"``, ``"gzip"`` or None.

    Content decides first (FIT ``.FIT`` signature at byte 8, gzip and zip magic, the XML root element),
    so a file with a wrong extension is still read; the extension decides only when the content says
    nothing (e.g. an empty or badly damaged file).
    """
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    root = _xml_root(data)
    if root == "gpx":
        return "gpx"
    if root == "trainingcenterdatabase":
        return "tcx"
    return _EXT_FORMAT.get(PurePosixPath(name.lower()).suffix)


# ----------------------------------------------------------------------------------------- reading


def gunzip(data: bytes, name: str, *, max_bytes: int = DEFAULT_LIMITS.max_file_bytes,
           limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Decompress gzip ``data`` by streaming, stopping with :class:`ArchiveError` as soon as the output
    would pass ``max_bytes`` or, past ``limits.ratio_min_bytes``, ``limits.max_ratio`` times the
    compressed size (so a gzip bomb never fills memory, and a 184 kB file of 190 MB of one-byte
    records is refused before a reader spends minutes on it).  The bytes produced are counted, never
    the size the gzip trailer claims.  Concatenated gzip members are joined."""
    max_bytes = min(max_bytes, max(limits.ratio_min_bytes, int(limits.max_ratio * max(len(data), 1))))
    out = bytearray()
    rest = data
    try:
        while rest:
            d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            pos = 0
            while not d.eof and pos < len(rest):
                chunk = rest[pos:pos + 64 * 1024]
                pos += len(chunk)
                buf = d.decompress(chunk, max_bytes + 1 - len(out))
                out += buf
                while d.unconsumed_tail and len(out) <= max_bytes:
                    out += d.decompress(d.unconsumed_tail, max_bytes + 1 - len(out))
                if len(out) > max_bytes:
                    raise ArchiveError(name, _gz_too_big(max_bytes, len(data), limits))
            if not d.eof:
                raise ArchiveError(name, "the compressed (.gz) file ends early (truncated)")
            rest = d.unused_data.lstrip(b"\x00")
    except zlib.error as exc:
        raise ArchiveError(name, "the compressed (.gz) file is damaged") from exc
    return bytes(out)


def _gz_too_big(max_bytes: int, packed: int, limits: Limits) -> str:
    if max_bytes < limits.max_file_bytes:
        return (f"the compressed file unpacks to more than {limits.max_ratio:.0f} times its size "
                f"({packed / 1024:,.0f} kB packed): a compression bomb, not a watch file")
    return f"the compressed file unpacks to more than {max_bytes / MB:.0f} MB (the limit); it is not a watch file"


def _strip_gz(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def read_activity(data: bytes, name: str, *, limits: Limits = DEFAULT_LIMITS) -> Activity:
    """Read one activity from ``data`` (the file's bytes; ``name`` is shown in messages).

    Gzip is unpacked first (capped at ``limits.max_file_bytes``); ``Summary.id`` is the sha256 of the
    unpacked bytes.  Raises an :class:`IngestError` subclass, or ``NotAnActivity`` for valid files that
    are not activities.  A zip must go through :func:`iter_sources` (it may hold many activities).
    """
    data, name = source_bytes(data, name, max_bytes=limits.max_file_bytes)
    fmt = sniff_format(data, name)
    if fmt == "gzip":
        data = gunzip(data, name, max_bytes=limits.max_file_bytes, limits=limits)
        fmt = sniff_format(data, _strip_gz(name))
        if fmt in ("gzip", "zip"):
            raise UnsupportedFileError(name, "a compressed archive inside a .gz file; unpack it first")
    return check(_read_by_format(data, name, fmt))


def _read_by_format(data: bytes, name: str, fmt: str | None) -> Activity:
    if fmt == "fit":
        return read_fit(data, name)
    if fmt == "gpx":
        return read_gpx(data, name)
    if fmt == "tcx":
        return read_tcx(data, name)
    if fmt == "zip":
        raise UnsupportedFileError(name, "a zip archive; import the archive itself so every file inside is read")
    if not data:
        raise UnsupportedFileError(name, "the file is empty")
    raise UnsupportedFileError(name, "not a FIT, GPX or TCX file (loadwatch reads watch files in those formats)")


# ------------------------------------------------------------------------------------- walking

#: Extensions that are clearly not activities in a Garmin / Strava / Polar / Suunto export.
_SKIP_EXTENSIONS = {
    ".json": "export metadata (JSON), not an activity file",
    ".csv": "a table (CSV), not an activity file",
    ".txt": "a text file, not an activity file",
    ".html": "a web page, not an activity file",
    ".htm": "a web page, not an activity file",
    ".pdf": "a document, not an activity file",
    ".xml": "an XML file that is not GPX or TCX",
    ".jpg": "a photo, not an activity file",
    ".jpeg": "a photo, not an activity file",
    ".png": "an image, not an activity file",
    ".gif": "an image, not an activity file",
    ".heic": "a photo, not an activity file",
    ".webp": "an image, not an activity file",
    ".mp4": "a video, not an activity file",
    ".mov": "a video, not an activity file",
    ".db": "a database file, not an activity file",
    ".sqlite": "a database file, not an activity file",
    ".md": "a text file, not an activity file",
}
_JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def _junk(part: str) -> bool:
    """Hidden files and OS litter (``.DS_Store``, ``__MACOSX``, ``._resource forks``)."""
    return part.startswith(".") or part == "__MACOSX" or part.lower() in _JUNK_NAMES


def _skip_reason(name: str, data: bytes | None = None) -> str | None:
    if is_metadata_name(name):
        return None  # read: the importer takes sports and names from it
    ext = PurePosixPath(name.lower()).suffix
    reason = _SKIP_EXTENSIONS.get(ext)
    if reason is None:
        return None
    if data is not None and ext == ".xml" and sniff_format(data, name) in ("gpx", "tcx"):
        return None  # a GPX/TCX saved as .xml is still an activity
    return reason


#: Why a symlink is not followed.
LINK_OUTSIDE = "a link to a place outside the folder being imported; not followed"


def iter_sources(paths: Iterable, *, limits: Limits = DEFAULT_LIMITS, within: str | os.PathLike | None = None
                 ) -> Iterator[SourceFile | IngestError | Skipped]:
    """Yield every candidate activity file under ``paths`` (files or folders), one at a time.

    Folders are walked recursively in sorted order, skipping hidden files and OS litter; a symlink in a
    folder is followed only when it stays inside that folder (``up -> ..`` is not), and only regular
    files are read (a FIFO, a device or a socket is reported, never opened for reading).  ``within``: a
    folder every path given must stay inside once symlinks are resolved (a cohort runner's folder).
    Zip archives are opened in memory (nested zips up to ``limits.max_depth``), ``.gz`` files are
    unpacked with a cap.  Yields :class:`SourceFile` (to pass to :func:`read_activity`), :class:`Skipped`
    (clearly not an activity, e.g. ``activities.csv``, or a link out of the folder), or an
    :class:`IngestError` (a damaged archive, a safety limit broken, an unreadable file) - never raises
    for one bad input.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    fence = None if within is None else Path(within).resolve()
    for p in paths:
        path = Path(p)
        shown = display_name(path.name)
        if fence is not None and not _inside(path, fence):
            yield Skipped(shown, LINK_OUTSIDE)
        elif path.is_dir():
            yield from _walk_dir(path, limits)
        else:
            yield from _from_path(path, shown, limits)


def _inside(path: Path, fence: Path) -> bool:
    """Whether ``path``, symlinks resolved, is ``fence`` or inside it."""
    try:
        return path.resolve().is_relative_to(fence)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _walk_dir(root: Path, limits: Limits) -> Iterator[SourceFile | IngestError | Skipped]:
    # os.walk never descends into a symlinked folder; a symlinked file is read when it stays inside root
    fence = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _junk(d))
        for fname in sorted(filenames):
            if _junk(fname):
                continue
            full = Path(dirpath) / fname
            shown = display_name(f"{root.name}/{full.relative_to(root).as_posix()}")
            if full.is_symlink() and not _inside(full, fence):
                yield Skipped(shown, LINK_OUTSIDE)
                continue
            yield from _from_path(full, shown, limits)


def _from_path(path: Path, shown: str, limits: Limits) -> Iterator[SourceFile | IngestError | Skipped]:
    reason = _skip_reason(shown)
    if reason and PurePosixPath(shown.lower()).suffix != ".xml":
        yield Skipped(shown, reason)
        return
    try:
        data, _ = source_bytes(path, shown, max_bytes=limits.max_file_bytes)
    except IngestError as exc:
        yield exc
        return
    yield from _from_bytes(data, shown, limits, depth=0, budget=None, path=path)


class _Budget:
    """Uncompressed bytes read so far from one top-level archive (nested members included)."""

    def __init__(self, archive: str, limits: Limits, packed: int):
        self.archive = archive
        # counted on the bytes produced, against the archive's real size: a directory that claims huge
        # compressed sizes (or members that share one compressed stream) cannot buy a bigger allowance
        self.by_ratio = max(limits.ratio_min_bytes, int(limits.max_ratio * max(packed, 1)))
        self.limit = min(limits.max_archive_total_bytes, self.by_ratio)
        self.max_ratio = limits.max_ratio
        self.used = 0
        self.exhausted = False

    def take(self, n: int, member: str) -> None:
        self.used += n
        if self.used > self.limit:
            self.exhausted = True
            if self.limit == self.by_ratio:
                raise ArchiveError(member, f"the archive {self.archive} unpacks to more than "
                                           f"{self.max_ratio:.0f} times its size: a zip bomb, not a watch "
                                           "export; stopped reading it")
            raise ArchiveError(member, f"the archive {self.archive} unpacks to more than "
                                       f"{self.limit / MB:.0f} MB (the limit); stopped reading it")


def iter_bytes(data: bytes, shown: str, *, limits: Limits = DEFAULT_LIMITS
               ) -> Iterator[SourceFile | IngestError | Skipped]:
    """The walk :func:`iter_sources` makes of a file on disk, for bytes already in hand (an upload):
    a zip is expanded, a .gz unpacked, anything else yielded as one :class:`SourceFile` named ``shown``."""
    yield from _from_bytes(data, shown, limits, depth=0, budget=None)


def _from_bytes(data: bytes, shown: str, limits: Limits, depth: int, budget: _Budget | None,
                path: Path | None = None) -> Iterator[SourceFile | IngestError | Skipped]:
    fmt = sniff_format(data, shown)
    if fmt == "zip":
        if depth >= limits.max_depth:
            yield ArchiveError(shown, f"archives nested more than {limits.max_depth} deep; not opened")
            return
        yield from _iter_zip(data, shown, limits, depth + 1, budget)
    elif fmt == "gzip":
        try:
            data = gunzip(data, shown, max_bytes=limits.max_file_bytes, limits=limits)
            if budget is not None:
                budget.take(len(data), shown)
        except ArchiveError as exc:
            yield exc
            return
        inner = _strip_gz(shown)
        if sniff_format(data, inner) in ("zip", "gzip"):
            if depth >= limits.max_depth:
                yield ArchiveError(shown, f"archives nested more than {limits.max_depth} deep; not opened")
                return
            yield from _from_bytes(data, inner, limits, depth + 1, budget)
        else:
            yield SourceFile(shown, data)
    elif is_metadata_name(shown):
        yield Metadata(shown, data)
    else:
        reason = _skip_reason(shown, data)
        if reason:
            yield Skipped(shown, reason)
        else:
            yield SourceFile(shown, data, path)


def _safe_member_name(raw: str) -> str | None:
    """The member's path inside the archive, or None when it is absolute or climbs out (``..``)."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    return posixpath.join(*parts) if parts else None


def _iter_zip(data: bytes, shown: str, limits: Limits, depth: int, budget: _Budget | None
              ) -> Iterator[SourceFile | IngestError | Skipped]:
    if budget is None:
        budget = _Budget(shown, limits, len(data))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - zipfile raises many types on hostile archives
        yield ArchiveError(shown, "the zip archive is damaged and cannot be opened")
        log.debug("bad zip %s: %r", shown, exc)
        return
    if len(infos) > limits.max_members:
        yield ArchiveError(shown, f"the zip archive holds {len(infos):,} entries (the limit is "
                                  f"{limits.max_members:,}); not opened")
        return
    with zf:
        for info in sorted(infos, key=lambda i: i.filename):
            if budget.exhausted:
                return
            if info.filename.endswith("/"):  # a folder (ZipInfo.is_dir() fails on an empty name)
                continue
            inner = _safe_member_name(info.filename)
            member_shown = f"{shown}/{info.filename}"
            if inner is None:
                yield ArchiveError(member_shown, "the archive member's name points outside the archive "
                                                 "(absolute path or '..'); ignored")
                continue
            member_shown = f"{shown}/{inner}"
            if any(_junk(part) for part in inner.split("/")):
                continue
            reason = _skip_reason(inner)
            if reason and PurePosixPath(inner.lower()).suffix != ".xml":
                yield Skipped(member_shown, reason)
                continue
            try:
                member = _read_member(zf, info, member_shown, shown, limits, budget, packed=len(data))
            except ArchiveError as exc:
                yield exc
                continue
            yield from _from_bytes(member, member_shown, limits, depth, budget)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, member_shown: str, archive: str,
                 limits: Limits, budget: _Budget, packed: int) -> bytes:
    """Read one member in chunks, enforcing the size, ratio and archive-total limits on the bytes
    actually produced (the sizes in the zip directory can lie: a member's compressed size is never taken
    as more than the archive's ``packed`` size)."""
    compressed = max(min(info.compress_size, packed), 1)

    def ratio_ok(n: int) -> bool:
        return n <= limits.ratio_min_bytes or n / compressed <= limits.max_ratio

    if info.file_size > limits.max_file_bytes:
        raise ArchiveError(member_shown, too_big(info.file_size, limits.max_file_bytes))
    if not ratio_ok(info.file_size):
        raise ArchiveError(member_shown, f"the member is compressed {info.file_size / compressed:,.0f}:1 "
                                         f"(the limit is {limits.max_ratio:.0f}:1): a zip bomb, not a watch file")
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(256 * 1024)
                if not chunk:
                    break
                out += chunk
                budget.take(len(chunk), member_shown)
                if len(out) > limits.max_file_bytes:
                    raise ArchiveError(member_shown, too_big(len(out), limits.max_file_bytes))
                if not ratio_ok(len(out)):
                    raise ArchiveError(member_shown, f"the member unpacks more than {limits.max_ratio:.0f} times "
                                                     "its packed size: a zip bomb, not a watch file")
    except ArchiveError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile raises many types on hostile archives
        raise ArchiveError(member_shown, f"the archive member cannot be read (damaged, encrypted or an "
                                         f"unsupported compression) in {archive}") from exc
    return bytes(out)
