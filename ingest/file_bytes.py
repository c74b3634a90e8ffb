"""Bytes in: whatever a reader was given (a path, bytes, a binary file object) as bytes and a name to show.

Below every reader and :mod:`loadwatch.ingest.sources` (which walks folders and archives and calls the readers), so
the imports run one way: ``sources`` -> readers -> ``file_bytes``.  :class:`Limits` lives here because
the readers' single-file cap and the walker's archive caps are one set of numbers.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from loadwatch.ingest.errors import IngestError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Safety limits for reading untrusted exports.  Sizes in bytes.

    ``max_file_bytes``: largest single file (or archive member, or gunzipped file) read [bytes]; a
    10-hour 1 Hz FIT file is about 3 MB, a GPX of it about 10 MB, so 200 MB leaves a wide margin.
    ``max_archive_total_bytes``: most uncompressed bytes read out of one archive, nested members
    included [bytes]; a full Garmin export of many years is a few GB.
    ``max_ratio``: largest compression ratio (uncompressed / compressed) for a member bigger than
    ``ratio_min_bytes``; watch files compress 3-20:1, zip bombs 1000:1 and more.
    ``max_members``: most entries in one archive.
    ``max_depth``: how deep archives may nest (a zip in a zip in a zip is depth 3).
    """

    max_file_bytes: int = 200 * MB
    max_archive_total_bytes: int = 4 * 1024 * MB
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1 * MB
    max_members: int = 100_000
    max_depth: int = 3


DEFAULT_LIMITS = Limits()


def source_bytes(src, name: str | None = None, *, max_bytes: int = DEFAULT_LIMITS.max_file_bytes
                 ) -> tuple[bytes, str]:
    """``(data, name)`` from a path (``str``/``Path``), ``bytes``-like, or a binary file object
    (Streamlit ``UploadedFile``, zip member, open file).  ``name`` defaults to the path's or file
    object's name.  Raises :class:`IngestError` when the file is missing or larger than ``max_bytes``."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        name = name or "uploaded file"
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        name = name or display_name(path.name)
        data = read_regular_file(path, name, max_bytes=max_bytes)
    elif hasattr(src, "read") or hasattr(src, "getvalue"):
        name = name or os.path.basename(str(getattr(src, "name", "") or "")) or "uploaded file"
        if hasattr(src, "getvalue"):
            data = src.getvalue()
        else:
            data = src.read(max_bytes + 1)
        if isinstance(data, str):
            raise IngestError(name, "the file was opened as text; open it in binary mode")
        data = bytes(data)
    else:
        raise TypeError(f"cannot read an activity from {type(src).__name__}")
    if len(data) > max_bytes:
        raise IngestError(name, too_big(len(data), max_bytes))
    return data, name


def display_name(raw: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by Python as lone surrogates, so the file can
    still be opened) become the replacement character "\ufffd"; such a name can be stored and printed.
    Only for showing: the file is read through its real path."""
    try:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that no undecodable byte made
        return raw.encode("utf-8", "replace").decode("utf-8")


#: Why a path that is not a regular file is not read (a FIFO would block for ever, a device like
#: /dev/zero never ends).
NOT_A_FILE = "not a regular file (a pipe, device or socket); only files are read"


def read_regular_file(path: str | os.PathLike, name: str, *, max_bytes: int = DEFAULT_LIMITS.max_file_bytes
                      ) -> bytes:
    """The bytes of ``path``, only when it is a regular file (after following symlinks) of at most
    ``max_bytes``.  The file is opened without blocking and checked with ``fstat`` on the open
    descriptor, so a FIFO, a device or a socket is refused before a byte is read and a file swapped for
    one after a check is still refused; at most ``max_bytes + 1`` bytes are ever read (a file that grows
    while read cannot fill memory).  Raises :class:`IngestError` naming ``name``."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise IngestError(name, f"the file cannot be opened ({exc.strerror or exc})") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IngestError(name, NOT_A_FILE)
        if st.st_size > max_bytes:
            raise IngestError(name, too_big(st.st_size, max_bytes))
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as fh:
            # ask for the size fstat gave (a read of max_bytes would allocate that much up front), then
            # go on in chunks while the file grows, never past max_bytes + 1
            chunks = [fh.read(st.st_size + 1)]
            total = len(chunks[0])
            while chunks[-1] and total <= max_bytes:
                chunks.append(fh.read(min(1024 * 1024, max_bytes + 1 - total)))
                total += len(chunks[-1])
            data = b"".join(chunks)
    except OSError as exc:
        raise IngestError(name, f"the file cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise IngestError(name, too_big(len(data), max_bytes))
    return data


def too_big(size: int, limit: int) -> str:
    """Why a file of ``size`` bytes is refused under a ``limit`` [bytes], in a runner's words."""
    return f"the file is too large to be a watch file ({size / MB:.0f} MB; the limit is {limit / MB:.0f} MB)"
