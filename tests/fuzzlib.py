"""Helpers for the fuzz tests: seed files, mutations, and the one contract every input must meet.

A fuzz case is a *recipe* (seed name + a list of small mutation tuples), never raw bytes, so Hypothesis
prints a short reproducible example when a case fails.  :func:`apply_recipe` turns a recipe into bytes.

The contract (:func:`check_read`): ``read_activity(data, name)`` returns a canonical
:class:`~loadwatch.ingest.canonical.Activity` or raises an ``IngestError`` naming the file, or ``NotAnActivity``;
anything else is a bug.  Every case runs under a wall-clock alarm and ``tracemalloc`` so a hang or a
memory blow-up fails the case instead of the CI job.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import re
import signal
import struct
import threading
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from loadwatch.ingest.canonical import HR_BINS, SAMPLE_COLUMNS, SPORTS, Activity
from loadwatch.ingest.errors import IngestError, NotAnActivity
from loadwatch.ingest.synth import SynthRun, fit_bytes, fit_crc, gpx_bytes, tcx_bytes
from tests.helpers import CORPUS_DIR, corpus_manifest

#: Per-case limits.  A small file that takes longer than this, or allocates more, is a bug.
CASE_TIME_LIMIT_S: float = 5.0
CASE_MEMORY_LIMIT_B: int = 300 * 2**20

#: Corpus files larger than this are not used as fuzz seeds (a mutated 3 MB FIT decoded by the fallback
#: decoder takes seconds; the corpus report covers the big files unmutated).
CORPUS_SEED_MAX_BYTES: int = 40_000


# --------------------------------------------------------------------------------------------- seeds


def _run(seconds: int, **kw) -> SynthRun:
    return SynthRun(start_utc=datetime(2024, 5, 1, 7, 0, tzinfo=UTC), duration_s=seconds,
                    distance_m=3.0 * seconds, **kw)


@cache
def synth_seeds() -> dict[str, bytes]:
    """Generated seed files by name (the extension is the true format)."""
    seeds = {
        "synth-le.fit": fit_bytes(_run(40)),
        "synth-be-dyn.fit": fit_bytes(_run(25, with_dynamics=True, seed=1), big_endian=True),
        "synth-nohr-nogps.fit": fit_bytes(_run(20, heart_rate_bpm=None, with_gps=False, seed=2)),
        "synth-settings.fit": fit_bytes(_run(5), file_type="settings"),
        "synth.gpx": gpx_bytes(_run(12)),
        "synth-notimes.gpx": gpx_bytes(_run(6, seed=3), with_times=False),
        "synth.tcx": tcx_bytes(_run(10)),
        "synth-notrack.tcx": tcx_bytes(_run(8), with_trackpoints=False),
    }
    seeds["synth.fit.gz"] = gzip.compress(seeds["synth-le.fit"], mtime=0)
    seeds["synth.gpx.gz"] = gzip.compress(seeds["synth.gpx"], mtime=0)
    seeds["synth.tcx.gz"] = gzip.compress(seeds["synth.tcx"], mtime=0)
    return seeds


@cache
def corpus_seeds(kind: str | None = None) -> dict[str, bytes]:
    """Small real files from ../shared/corpus by corpus path (empty when the corpus is absent).

    Every file up to :data:`CORPUS_SEED_MAX_BYTES`, so the seeds keep the corpus's variety: developer
    fields, big-endian definitions, compressed timestamps, chained files, CRC mismatches, settings and
    workout files, waypoints-only GPX, TCX from several tools.
    """
    out = {}
    for row in corpus_manifest():
        if kind is not None and row["kind"] != kind:
            continue
        if int(row["bytes"]) > CORPUS_SEED_MAX_BYTES:
            continue
        path = CORPUS_DIR / row["path"]
        if path.is_file():
            out[row["path"]] = path.read_bytes()
    return out


def seeds(kinds: tuple[str, ...]) -> dict[str, bytes]:
    """Synthetic + corpus seeds whose format (by extension, ignoring .gz) is one of ``kinds``."""
    out = {}
    for name, data in {**synth_seeds(), **corpus_seeds()}.items():
        if true_kind(name) in kinds:
            out[name] = data
    return dict(sorted(out.items()))


def true_kind(name: str) -> str:
    lower = name.lower().removesuffix(".gz")
    return lower.rsplit(".", 1)[-1]


# ----------------------------------------------------------------------------------------- FIT layout


@dataclass(frozen=True)
class FitDefinition:
    offset: int  # offset of the record header byte
    big_endian: bool
    global_num: int
    field_count: int
    fields_offset: int  # offset of the first 3-byte field definition
    dev_count: int


def fit_definitions(data: bytes) -> list[FitDefinition]:
    """Walk the first FIT file in ``data`` and list its definition messages (stops at the first thing
    that does not parse; used to aim mutations, so it need not be complete on damaged input)."""
    out: list[FitDefinition] = []
    if len(data) < 12:
        return out
    header_size = data[0]
    data_size = struct.unpack_from("<I", data, 4)[0]
    end = min(len(data), header_size + data_size)
    sizes: dict[int, int] = {}
    pos = header_size
    while pos < end:
        rh = data[pos]
        if rh & 0x80:  # compressed timestamp header
            local = (rh >> 5) & 0x3
            if local not in sizes:
                break
            pos += 1 + sizes[local]
            continue
        local = rh & 0x0F
        if rh & 0x40:
            if pos + 6 > end:
                break
            arch = data[pos + 2]
            big = arch == 1
            gnum = struct.unpack_from(">H" if big else "<H", data, pos + 3)[0]
            nfields = data[pos + 5]
            fields_at = pos + 6
            size = sum(data[fields_at + 3 * i + 1] for i in range(nfields) if fields_at + 3 * i + 1 < end)
            after = fields_at + 3 * nfields
            ndev = 0
            if rh & 0x20 and after < end:
                ndev = data[after]
                size += sum(data[after + 1 + 3 * i + 1] for i in range(ndev) if after + 1 + 3 * i + 1 < end)
                after += 1 + 3 * ndev
            out.append(FitDefinition(pos, big, gnum, nfields, fields_at, ndev))
            sizes[local] = size
            pos = after
        else:
            if local not in sizes:
                break
            pos += 1 + sizes[local]
    return out


def fix_fit_crcs(data: bytes) -> bytes:
    """Recompute the header CRC (14-byte headers) and the trailing file CRC, so a mutation is not
    simply rejected by the CRC check and reaches the decoder."""
    if len(data) < 14 or data[8:12] != b".FIT":
        return data
    buf = bytearray(data)
    if buf[0] >= 14 and len(buf) >= 14:
        struct.pack_into("<H", buf, 12, fit_crc(bytes(buf[:12])))
    if len(buf) >= 16:
        struct.pack_into("<H", buf, len(buf) - 2, fit_crc(bytes(buf[:-2])))
    return bytes(buf)


# ------------------------------------------------------------------------------------------ mutations
# Each mutation is a tuple (op, *ints); positions are taken modulo the current length so any integers
# make a valid mutation and Hypothesis can shrink them freely.

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, 0x40, 0x20, 0x0E, 0x0C)
INTERESTING_U32 = (0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 12, 13, 14, 15)


def _pos(data: bytes | bytearray, i: int) -> int:
    return i % len(data) if data else 0


def mutate_bytes(data: bytes, mutation: tuple) -> bytes:
    """Generic byte-level mutation (any format)."""
    op, *args = mutation
    buf = bytearray(data)
    if not buf and op != "insert":
        return data
    if op == "flip":  # flip one bit
        p = _pos(buf, args[0])
        buf[p] ^= 1 << (args[1] % 8)
    elif op == "set":  # overwrite a byte with an interesting value
        p = _pos(buf, args[0])
        buf[p] = INTERESTING_BYTES[args[1] % len(INTERESTING_BYTES)]
    elif op == "byte":  # overwrite a byte with any value
        buf[_pos(buf, args[0])] = args[1] % 256
    elif op == "truncate":  # keep the first p bytes
        del buf[args[0] % (len(buf) + 1):]
    elif op == "insert":  # insert n copies of a byte
        p = args[0] % (len(buf) + 1)
        buf[p:p] = bytes([args[1] % 256]) * (1 + args[2] % 64)
    elif op == "delete":  # delete a run of n bytes
        p = _pos(buf, args[0])
        del buf[p:p + 1 + args[1] % 64]
    elif op == "duplicate":  # repeat a chunk in place
        p = _pos(buf, args[0])
        chunk = buf[p:p + 1 + args[1] % 256]
        buf[p:p] = chunk * (1 + args[2] % 4)
    elif op == "u32":  # overwrite 4 bytes with an interesting little-endian integer
        p = _pos(buf, args[0])
        val = struct.pack("<I", INTERESTING_U32[args[1] % len(INTERESTING_U32)])
        buf[p:p + 4] = val[: len(buf) - p] if p + 4 > len(buf) else val
    else:
        raise ValueError(f"unknown byte mutation {op}")
    return bytes(buf)


def mutate_fit(data: bytes, mutation: tuple) -> bytes:
    """FIT-aware mutations: header size lies and definition-message lies."""
    op, *args = mutation
    if len(data) < 12:
        return data
    buf = bytearray(data)
    if op == "hdr_size":  # header_size byte
        buf[0] = (0, 1, 11, 12, 13, 15, 16, 0x7F, 0xFF, args[0] % 256)[args[1] % 10]
    elif op == "data_size":  # header data_size field (bytes of records)
        real = struct.unpack_from("<I", buf, 4)[0]
        choices = (0, 1, real - 1, real + 1, real + 2, real * 2, 0x7FFFFFFF, 0xFFFFFFFF, real // 2,
                   args[0] % (real + 64))
        struct.pack_into("<I", buf, 4, choices[args[1] % len(choices)] % 2**32)
    elif op == "protocol":
        buf[1] = args[0] % 256
    elif op == "magic":
        buf[8:12] = (b".FIT", b".fit", b"FIT.", b"\0\0\0\0")[args[0] % 4]
    elif op.startswith("def_"):
        defs = fit_definitions(data)
        if not defs:
            return data
        d = defs[args[0] % len(defs)]
        if op == "def_field_size":  # one field's size byte
            if d.field_count == 0:
                return data
            at = d.fields_offset + 3 * (args[1] % d.field_count) + 1
            if at < len(buf):
                buf[at] = (0, 1, 2, 3, 4, 5, 7, 8, 0x7F, 0xFF, args[2] % 256)[args[2] % 11]
        elif op == "def_base_type":
            if d.field_count == 0:
                return data
            at = d.fields_offset + 3 * (args[1] % d.field_count) + 2
            if at < len(buf):
                buf[at] = (0x00, 0x01, 0x02, 0x07, 0x83, 0x84, 0x85, 0x86, 0x88, 0x89, 0x8B, 0x8C, 0x8E,
                           0x8F, 0x90, 0x0D, 0x0A, 0xFF, args[2] % 256)[args[2] % 19]
        elif op == "def_field_num":
            if d.field_count == 0:
                return data
            at = d.fields_offset + 3 * (args[1] % d.field_count)
            if at < len(buf):
                buf[at] = (253, 0, 1, 2, 3, 4, 5, 6, 7, 255, args[2] % 256)[args[2] % 11]
        elif op == "def_count":  # number of fields
            buf[d.offset + 5] = (0, 1, d.field_count + 1, d.field_count - 1, 255, args[1] % 256)[args[1] % 6] % 256
        elif op == "def_global":  # global message number
            fmt = ">H" if d.big_endian else "<H"
            struct.pack_into(fmt, buf, d.offset + 3, (0, 18, 19, 20, 21, 34, 0xFFFF, args[1] % 65536)[args[1] % 8])
        elif op == "def_arch":
            buf[d.offset + 2] = (0, 1, 2, 0xFF)[args[1] % 4]
        elif op == "def_header":  # the record header: local type, developer-data flag
            buf[d.offset] = (buf[d.offset] ^ (1 << (args[1] % 6))) & 0xFF
        else:
            raise ValueError(f"unknown FIT mutation {op}")
    else:
        raise ValueError(f"unknown FIT mutation {op}")
    return bytes(buf)


BAD_TIMESTAMPS = ("", "not-a-time", "2024-13-45T99:99:99Z", "0000-00-00T00:00:00Z", "1970-01-01T00:00:00",
                  "9999-12-31T23:59:59Z", "99999-01-01T00:00:00Z", "2024-05-01T07:00:00+25:00",
                  "2024-05-01T07:00:00.123456789123Z", "NaN", "1e309", "2024-05-01", "-2024-05-01T00:00:00Z",
                  "1600-01-01T00:00:00Z", "2262-04-12T00:00:00Z", "\u0660\u0661-01-01T00:00:00Z")
BAD_NUMBERS = ("NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "9" * 400, "1e-400", "-0",
               "0x1F", "", " ", "1,5", "999999999999999999999", "-999999", "1.7976931348623157e308", "abc")


def _nth(pattern: str, text: str, n: int) -> re.Match | None:
    matches = list(re.finditer(pattern, text, flags=re.S))
    return matches[n % len(matches)] if matches else None


def mutate_xml(data: bytes, mutation: tuple) -> bytes:
    """XML-aware mutations for GPX and TCX (operating on the decoded text)."""
    op, *args = mutation
    text = data.decode("utf-8", errors="surrogateescape")
    if op == "drop_close":  # drop one closing tag
        m = _nth(r"</[^>]+>", text, args[0])
        if m:
            text = text[: m.start()] + text[m.end():]
    elif op == "drop_open":
        m = _nth(r"<[A-Za-z][^>/]*>", text, args[0])
        if m:
            text = text[: m.start()] + text[m.end():]
    elif op == "bad_time":  # replace a timestamp with garbage
        m = _nth(r"(<(?:time|Time|Id)>)([^<]*)(</)", text, args[0])
        if m:
            text = text[: m.start(2)] + BAD_TIMESTAMPS[args[1] % len(BAD_TIMESTAMPS)] + text[m.end(2):]
        m = _nth(r'StartTime="([^"]*)"', text, args[0])
        if m and args[1] % 3 == 0:
            text = text[: m.start(1)] + BAD_TIMESTAMPS[args[1] % len(BAD_TIMESTAMPS)] + text[m.end(1):]
    elif op == "bad_number":  # replace a numeric text node or attribute with something odd
        m = _nth(r'(?:>|=")(-?\d+(?:\.\d+)?)(?:<|")', text, args[0])
        if m:
            text = text[: m.start(1)] + BAD_NUMBERS[args[1] % len(BAD_NUMBERS)] + text[m.end(1):]
    elif op == "all_numbers":  # every occurrence of one numeric element becomes odd (NaN everywhere)
        bad = BAD_NUMBERS[args[1] % len(BAD_NUMBERS)]
        tag = ("ele", "AltitudeMeters", "DistanceMeters", "Value", "gpxtpx:hr", "LatitudeDegrees",
               "TotalTimeSeconds", "ns3:RunCadence")[args[0] % 8]
        text = re.sub(rf"<{tag}>[^<]*</{tag}>", f"<{tag}>{bad}</{tag}>", text)
        text = re.sub(r'(lat|lon)="[^"]*"', lambda m: f'{m.group(1)}="{bad}"', text) if args[0] % 8 == 5 else text
    elif op == "undeclared_prefix":  # an element with a namespace prefix nobody declared
        m = _nth(r"<([A-Za-z][\w]*)([ >])", text, args[0])
        if m:
            pre = ("zz", "xsi", "gpxtpx", "ns9")[args[1] % 4]
            if args[1] % 2:  # rename an element (and its closing tag, when findable)
                name = m.group(1)
                close = text.find(f"</{name}>", m.end())
                if close >= 0:
                    text = text[:close] + f"</{pre}:{name}>" + text[close + len(name) + 3:]
                text = text[: m.start(1)] + f"{pre}:{name}" + text[m.end(1):]
            else:  # insert a foreign element
                text = text[: m.start()] + f"<{pre}:x {pre}:a='1'>1</{pre}:x>" + text[m.start():]
    elif op == "swap_times":  # make time go backwards
        ms = list(re.finditer(r"<(?:time|Time)>([^<]*)</", text))
        if len(ms) >= 2:
            a, b = ms[args[0] % len(ms)], ms[args[1] % len(ms)]
            if a.start() > b.start():
                a, b = b, a
            ta, tb = a.group(1), b.group(1)
            text = text[: a.start(1)] + tb + text[a.end(1): b.start(1)] + ta + text[b.end(1):]
    elif op == "same_time":  # every timestamp the same
        m = _nth(r"<(?:time|Time)>([^<]*)</", text, 0)
        if m:
            stamp = m.group(1)
            text = re.sub(r"(<(?:time|Time)>)[^<]*(</)", lambda mm: mm.group(1) + stamp + mm.group(2), text)
    elif op == "encoding_lie":
        decl = ('<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.0" encoding="latin-1"?>',
                '<?xml version="1.0" encoding="bogus-enc"?>', '<?xml version="2.0"?>', "",
                '\ufeff<?xml version="1.0" encoding="UTF-8"?>')[args[0] % 6]
        text = re.sub(r"^\s*<\?xml[^>]*\?>", lambda _m: decl, text, count=1)
    elif op == "entity":  # a small internal entity (defused parsers must refuse it, cleanly)
        decl = '<!DOCTYPE x [<!ENTITY e "12">]>'
        text = re.sub(r"(<\?xml[^>]*\?>)", lambda m: m.group(1) + decl, text, count=1)
        m = _nth(r">(-?\d+(?:\.\d+)?)<", text, args[0])
        if m:
            text = text[: m.start(1)] + "&e;" + text[m.end(1):]
    elif op == "external_entity":
        decl = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        text = re.sub(r"(<\?xml[^>]*\?>)", lambda m: m.group(1) + decl, text, count=1)
        text = text.replace("<name>Run</name>", "<name>&e;</name>").replace("<Calories>0</Calories>",
                                                                            "<Calories>&e;</Calories>")
    elif op == "bad_char":  # a control character or broken UTF-8 inside a text node
        m = _nth(r">([^<]+)<", text, args[0])
        if m:
            junk = ("\x00", "\x01", "\udcff", "\ufffe", "&#0;", "&bogus;", "]]>", "&#x110000;")[args[1] % 8]
            text = text[: m.start(1)] + junk + text[m.end(1):]
    elif op == "duplicate_point":  # repeat a trackpoint / trkpt block
        m = _nth(r"<(trkpt|Trackpoint)\b.*?</\1>", text, args[0])
        if m:
            text = text[: m.end()] + m.group(0) * (1 + args[1] % 50) + text[m.end():]
    elif op == "strip_ns":  # the default namespace removed or changed
        new = ("", ' xmlns="http://example.com/other"', ' xmlns=""')[args[0] % 3]
        text = re.sub(r'\sxmlns="[^"]*"', lambda _m: new, text, count=1)
    elif op == "sport":
        m = re.search(r'Sport="([^"]*)"|<type>([^<]*)</type>', text)
        if m:
            g = 1 if m.group(1) is not None else 2
            new = ("", "Running", "running", "Biking", "Other", "9", "\x00", "x" * 5000)[args[0] % 8]
            text = text[: m.start(g)] + new + text[m.end(g):]
    else:
        raise ValueError(f"unknown XML mutation {op}")
    return text.encode("utf-8", errors="surrogateescape")


def mutate_gzip(data: bytes, mutation: tuple) -> bytes:
    """Mutate the *inside* of a gzip file, then recompress (so the damage reaches the reader)."""
    op, *args = mutation
    inner = gzip.decompress(data)
    inner = mutate_bytes(inner, tuple([args[0] if args else "flip", *args[1:]])) if op == "gz_inner" else inner
    return gzip.compress(inner, mtime=0)


def apply_recipe(seed: bytes, mutations: list[tuple], *, fix_crc: bool = False) -> bytes:
    """Apply mutations in order.  ``fix_crc`` recomputes FIT CRCs afterwards."""
    data = seed
    for m in mutations:
        op = m[0]
        if op in {"hdr_size", "data_size", "protocol", "magic"} or op.startswith("def_"):
            data = mutate_fit(data, m)
        elif op == "gz_inner":
            try:
                data = mutate_gzip(data, m)
            except (OSError, EOFError, zlib.error):  # the wrapper itself was damaged first
                pass
        elif op in XML_OPS:
            data = mutate_xml(data, m)
        else:
            data = mutate_bytes(data, m)
    return fix_fit_crcs(data) if fix_crc else data


BYTE_OPS = ("flip", "set", "byte", "truncate", "insert", "delete", "duplicate", "u32")
FIT_OPS = ("hdr_size", "data_size", "protocol", "magic", "def_field_size", "def_base_type", "def_field_num",
           "def_count", "def_global", "def_arch", "def_header")
XML_OPS = ("drop_close", "drop_open", "bad_time", "bad_number", "all_numbers", "undeclared_prefix",
           "swap_times", "same_time", "encoding_lie", "entity", "external_entity", "bad_char",
           "duplicate_point", "strip_ns", "sport")


# ----------------------------------------------------------------------------------------------- zips


def make_zip(members: list[tuple[str, bytes]], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 1, 7, 0, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return buf.getvalue()


def _pack_into(fmt: str, buf: bytearray, at: int, *values) -> None:
    """struct.pack_into that ignores a field past the end (a signature found near the end of damaged data)."""
    if 0 <= at and at + struct.calcsize(fmt) <= len(buf):
        struct.pack_into(fmt, buf, at, *values)


def mutate_zip(data: bytes, mutation: tuple) -> bytes:
    """Archive-structure mutations: size fields that lie, names that escape, methods that do not exist."""
    op, *args = mutation
    buf = bytearray(data)
    locals_ = [m.start() for m in re.finditer(rb"PK\x03\x04", data)]
    centrals = [m.start() for m in re.finditer(rb"PK\x01\x02", data)]
    eocd = data.rfind(b"PK\x05\x06")
    if op == "zip_size_lie":  # uncompressed/compressed size in local or central header
        table = centrals if args[0] % 2 else locals_
        if table:
            at = table[args[1] % len(table)]
            off = (20, 24) if table is centrals else (18, 22)
            _pack_into("<I", buf, at + off[args[2] % 2], INTERESTING_U32[args[3] % len(INTERESTING_U32)])
    elif op == "zip_method":  # compression method field
        table = centrals if args[0] % 2 else locals_
        if table:
            at = table[args[1] % len(table)]
            off = 10 if table is centrals else 8
            _pack_into("<H", buf, at + off, (0, 8, 9, 12, 14, 99, 0xFFFF)[args[2] % 7])
    elif op == "zip_crc":
        if centrals:
            at = centrals[args[0] % len(centrals)]
            _pack_into("<I", buf, at + 16, args[1] % 2**32)
    elif op == "zip_count":  # member count in the end-of-central-directory record
        if eocd >= 0:
            _pack_into("<HH", buf, eocd + 8, *(args[0] % 65536,) * 2)
    elif op == "zip_cd_offset":
        if eocd >= 0:
            _pack_into("<I", buf, eocd + 16, INTERESTING_U32[args[0] % len(INTERESTING_U32)])
    elif op == "zip_flags":  # general purpose flags: encrypted, data descriptor, utf-8...
        table = centrals if args[0] % 2 else locals_
        if table:
            at = table[args[1] % len(table)]
            off = 8 if table is centrals else 6
            _pack_into("<H", buf, at + off, (1, 8, 0x800, 0x41, 0xFFFF)[args[2] % 5])
    else:
        return mutate_bytes(data, mutation)
    return bytes(buf)


ZIP_OPS = ("zip_size_lie", "zip_method", "zip_crc", "zip_count", "zip_cd_offset", "zip_flags")
ODD_MEMBER_NAMES = ("../escape.fit", "/abs/path.gpx", "a/../../b.tcx", "C:\\win\\x.fit", "dir/", "x" * 300 + ".fit",
                    "nul\x00byte.fit", "dup.fit", "dup.fit", "résumé ünïcode.gpx", "nested.zip", "run.fit.gz",
                    "  .tcx", ".hidden.fit", "__MACOSX/._run.fit")


# --------------------------------------------------------------------------------------- the contract


class CaseTimeout(BaseException):  # noqa: N818  BaseException: a reader's ``except Exception`` cannot hide it
    """A fuzz case ran past its time limit."""


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`CaseTimeout` in this (main) thread after ``seconds`` (SIGALRM; no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _alarm(signum, frame):
        raise CaseTimeout(f"case took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    t0 = time.monotonic()
    prev_delay, prev_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if prev_delay > 0:  # give back an outer alarm (pytest-timeout's) with the time it has left
            signal.setitimer(signal.ITIMER_REAL, max(prev_delay - (time.monotonic() - t0), 0.001), prev_interval)


@dataclass
class CaseResult:
    outcome: str  # "activity" | "ingest_error" | "not_an_activity"
    seconds: float
    peak_bytes: int
    error: BaseException | None = None
    activity: Activity | None = None


def _vm_hwm_b() -> int | None:
    """This process's peak resident set size [bytes] (Linux ``VmHWM``), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS counter (Linux >= 4.0: write 5 to clear_refs).  False when unavailable."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return _vm_hwm_b() is not None


class _PeakMemory:
    """Peak memory growth of one call [bytes].

    Prefers the kernel's peak RSS (reset before the call, so it is the real high-water mark of
    everything: numpy, C libraries, Python objects) at no run-time cost; falls back to ``tracemalloc``
    (Python allocations only, and 5-10x slower) where ``/proc/self/clear_refs`` is not writable.
    """

    def __enter__(self):
        import psutil

        self._rss0 = psutil.Process().memory_info().rss
        self._kernel = _reset_hwm()
        if not self._kernel:
            self._started = not tracemalloc.is_tracing()
            if self._started:
                tracemalloc.start()
            tracemalloc.reset_peak()
            self._base = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        if self._kernel:
            self.peak_b = max(0, (_vm_hwm_b() or 0) - self._rss0)
        else:
            self.peak_b = max(0, tracemalloc.get_traced_memory()[1] - self._base)
            if self._started:
                tracemalloc.stop()
        return False


def bounded_call(fn: Callable[[], object], *, time_limit_s: float = CASE_TIME_LIMIT_S,
                 memory_limit_b: int = CASE_MEMORY_LIMIT_B) -> tuple[object, float, int]:
    """Run ``fn()`` under the time alarm and a peak-memory measure; return (value, seconds, peak bytes)
    and assert both limits.  Exceptions from ``fn`` propagate (after the limits are checked)."""
    error: BaseException | None = None
    value = None
    with _PeakMemory() as mem:
        t0 = time.perf_counter()
        try:
            with time_limit(time_limit_s * 2):
                value = fn()
        except CaseTimeout:
            raise
        except BaseException as exc:  # noqa: BLE001  re-raised below, after the limits are checked
            error = exc
        seconds = time.perf_counter() - t0
    assert seconds < time_limit_s, f"case took {seconds:.2f} s (limit {time_limit_s} s)"
    assert mem.peak_b < memory_limit_b, \
        f"case grew memory by {mem.peak_b / 2**20:.0f} MB (limit {memory_limit_b >> 20} MB)"
    if error is not None:
        raise error
    return value, seconds, mem.peak_b


def warm_up(read_activity: Callable[[bytes, str], Activity]) -> None:
    """Read each generated seed once, untimed: the first call imports fitdecode's profile, gpxpy,
    pandas internals..., which must not count against the first case's time limit."""
    for name, data in synth_seeds().items():
        try:
            read_activity(data, name)
        except (IngestError, NotAnActivity):
            pass


def check_activity(activity: object, data: bytes, name: str) -> None:
    """The canonical-shape invariants every returned activity meets."""
    assert isinstance(activity, Activity), f"read_activity returned {type(activity).__name__}"
    samples = activity.samples
    assert isinstance(samples, pd.DataFrame)
    assert tuple(samples.columns) == SAMPLE_COLUMNS, list(samples.columns)
    assert all(dt == np.float64 for dt in samples.dtypes), samples.dtypes.to_dict()
    idx = samples.index
    assert isinstance(idx, pd.DatetimeIndex), type(idx)
    assert idx.tz is not None and str(idx.tz) == "UTC", idx.tz
    assert not idx.hasnans, "NaT in the samples index"
    assert idx.is_monotonic_increasing, "samples not sorted by time"
    assert not idx.has_duplicates, "duplicate sample timestamps"
    values = samples.to_numpy()
    assert not np.isinf(values).any(), "inf in samples"
    s = activity.summary
    assert s.format in {"fit", "gpx", "tcx"}, s.format
    assert s.sport in SPORTS, s.sport
    assert isinstance(s.start_utc, pd.Timestamp) and s.start_utc.tz is not None, repr(s.start_utc)
    assert str(s.start_utc.tz) == "UTC", s.start_utc.tz
    assert not pd.isna(s.start_utc), "start_utc is NaT"
    for fname in ("elapsed_s", "moving_s", "distance_m", "ascent_m", "avg_hr_bpm", "max_hr_bpm",
                  "avg_cadence_spm", "avg_vertical_oscillation_mm", "avg_stance_time_ms", "avg_step_length_mm",
                  "utc_offset_s"):
        v = getattr(s, fname)
        if v is None and fname == "utc_offset_s":
            continue
        assert isinstance(v, (int, float, np.floating, np.integer)), f"{fname}={v!r}"
        assert not math.isinf(float(v)), f"summary.{fname} is {v}"
    for fname in ("distance_m", "elapsed_s", "moving_s"):
        v = float(getattr(s, fname))
        assert not (v < 0), f"summary.{fname} is negative: {v}"
    hist = s.hr_seconds_by_bpm
    if hist is not None:
        hist = np.asarray(hist)
        assert hist.shape == (HR_BINS,), hist.shape
        assert np.isfinite(hist).all() and (hist >= 0).all(), "bad HR histogram"
    assert isinstance(s.id, str) and len(s.id) == 64, s.id


def expected_id(data: bytes) -> set[str]:
    """Acceptable ``Summary.id`` values: sha256 of the bytes as given, or after gunzip."""
    ids = {hashlib.sha256(data).hexdigest()}
    if data[:2] == b"\x1f\x8b":
        try:
            ids.add(hashlib.sha256(gzip.decompress(data)).hexdigest())
        except (OSError, EOFError, ValueError):
            pass
    return ids


def check_read(read_activity: Callable[[bytes, str], Activity], data: bytes, name: str) -> CaseResult:
    """Run one input through ``read_activity`` under limits and assert the contract.  Returns the result
    so callers can tally outcomes."""
    try:
        activity, seconds, peak = bounded_call(lambda: read_activity(data, name))
    except IngestError as exc:
        assert name in str(exc), f"IngestError does not name the file {name!r}: {exc}"
        return CaseResult("ingest_error", 0.0, 0, error=exc)
    except NotAnActivity as exc:
        assert name in str(exc), f"NotAnActivity does not name the file {name!r}: {exc}"
        return CaseResult("not_an_activity", 0.0, 0, error=exc)
    check_activity(activity, data, name)
    assert activity.summary.id in expected_id(data), "Summary.id is not the sha256 of the file"
    return CaseResult("activity", seconds, peak, activity=activity)


# ------------------------------------------------------------------------------------- damaged copies
# The damage real files suffer (issue 17): an app killed or a battery dead mid-write (cut short), a sync
# that wrote a few bad bytes, lost a run of bytes or overwrote one.  The same recipes are used on FIT and
# on GPX/TCX, so the salvage rates of the two families can be compared (tests/test_fuzz.py and
# benchmarks/corpus_report.py).

DAMAGE_KINDS = ("cut", "junk", "overwrite", "drop")


def damage(data: bytes, kind: str, where_frac: float, size_b: int, junk_seed: int = 0) -> bytes:
    """``data`` damaged at ``where_frac`` (0..1) of its length: ``cut`` keeps the bytes before that point;
    ``junk`` inserts ``size_b`` random bytes there; ``overwrite`` replaces ``size_b`` bytes with random
    ones; ``drop`` deletes ``size_b`` bytes."""
    import random

    at = min(max(int(len(data) * where_frac), 0), len(data))
    junk = random.Random(junk_seed).randbytes(max(size_b, 1))
    if kind == "cut":
        return data[:at]
    if kind == "junk":
        return data[:at] + junk + data[at:]
    if kind == "overwrite":
        return data[:at] + junk + data[at + len(junk):]
    if kind == "drop":
        return data[:at] + data[at + max(size_b, 1):]
    raise ValueError(f"unknown damage {kind}")


def damaged_copies(data: bytes, n: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """``n`` damaged copies of ``data`` (derandomised by ``seed``): (kind, bytes), the kinds in turn,
    places between 5% and 98% of the file, 1 to 200 bytes of damage."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = DAMAGE_KINDS[i % len(DAMAGE_KINDS)]
        out.append((kind, damage(data, kind, rng.uniform(0.05, 0.98), rng.randint(1, 200), rng.randrange(2**32))))
    return out


def salvage_rate(read_activity: Callable[[bytes, str], Activity], files: dict[str, bytes], n: int,
                 seed: int = 0) -> tuple[int, int]:
    """(damaged copies read as an activity, damaged copies) over ``n`` copies of every file, each checked
    against the contract of :func:`check_read`."""
    salvaged = total = 0
    for i, (name, data) in enumerate(sorted(files.items())):
        for kind, bad in damaged_copies(data, n, seed + i):
            total += 1
            shown = f"{kind}-{Path(name).name}"
            salvaged += check_read(read_activity, bad, shown).outcome == "activity"
    return salvaged, total
