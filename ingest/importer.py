"""Import watch files into the store: many files, both cores, flat memory, one transaction per file.

The flow for each candidate file that :func:`loadwatch.ingest.sources.iter_sources` yields:

1. sha256 of its bytes; a file the store has seen (imported, duplicate or skipped) is reported as a
   duplicate straight away, without decoding it - so re-importing a whole export is quick.
2. Otherwise it goes to a worker process - by path when it is a file on disk (the worker reads it and
   checks its hash), by its bytes when it came out of an archive - which decodes it on numpy arrays (no
   pandas frame is built) and sends back only the summary, the heart-rate histogram and the compressed
   original (the samples stay in the worker: the detail view decodes the original again).  At most
   ``2 x workers`` files are in flight, so memory stays flat however big the export.
3. The main process writes the result with :meth:`loadwatch.ingest.store.Store.add_activity` - one transaction
   per file, so an import killed half-way leaves every file all-or-nothing and a second import finishes
   the job.  The WAL is checkpointed once, at the end (:meth:`loadwatch.ingest.store.Store.bulk_writes`).

A worker that takes longer than ``timeout_s`` on one file is killed and replaced; the file is reported
as failed and the batch goes on.  So does any unexpected error in a reader ("internal error").

In a threaded host (the dashboard) workers are fresh interpreters, and the idle ones stay alive between
imports (:data:`POOL_MAX`, :data:`POOL_IDLE_S`): the next upload starts decoding at once.  A kept worker
exits on its own when the host goes away (its end of the pipe closes).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_connections
from pathlib import Path

from loadwatch.ingest.activity_fixes import route_of
from loadwatch.ingest.canonical import Activity, empty_samples
from loadwatch.ingest.errors import IngestError, NotAnActivity
from loadwatch.ingest.store import Store, compress_original, samples_richness
from loadwatch.ingest.store_errors import StoreError

#: Files a worker holds at most: the one it reads and the ones queued in its pipe behind it.
QUEUE_DEPTH: int = 2

#: Pipe buffer asked for each worker's input [bytes] (Linux allows up to 1 MiB unprivileged): files up
#: to half of it are queued to a busy worker without blocking.
PIPE_BYTES: int = 1024 * 1024

#: Seconds a new worker may take to start and import the readers (a loaded laptop: a few s).
WORKER_START_TIMEOUT_S: float = 120.0

STATUSES: tuple[str, ...] = ("imported", "replaced", "duplicate", "skipped", "failed")

#: Files in flight (queued for or inside a worker) per worker: enough to keep both cores busy while the
#: main process reads the next file and writes the last result.
IN_FLIGHT_PER_WORKER: int = 2

#: Workers are forks of this process when it runs a single thread (the command line, a script): a fork
#: starts in a few milliseconds with the readers already imported.  In a threaded host (Streamlit serves
#: each session in a thread) forking can deadlock, so there a worker is a fresh interpreter (``python -c``,
#: talking over its stdin/stdout pipes); ``multiprocessing``'s spawn would re-import the host's
#: ``__main__`` (the CLI with every dashboard module, or Streamlit) in every worker.  A fresh worker imports
#: only ``ingest``: ~0.45 s each, measured with two starting at once on 2 cores, once per batch.
_WORKER_CODE = "import sys; sys.path[:0] = {path!r}; from loadwatch.ingest.importer import _worker_stdio_main; _worker_stdio_main()"

#: A file to decode: (name, sha256 hex, bytes, path on disk or None).
Task = tuple[str, str, bytes, "Path | None"]

#: A file that differs from the bytes the main process hashed when the worker reads it.
CHANGED_WHILE_READ = "changed while it was being imported; import it again"

Progress = Callable[[int, "int | None", str], None]
OnOutcome = Callable[["Outcome"], None]
Reader = Callable[[bytes, str], Activity]


@dataclass(frozen=True)
class Outcome:
    """What happened to one file: ``status`` is imported, replaced (a better copy of a run already kept,
    which it replaced), duplicate, skipped or failed; ``reason`` says why in words for the runner (empty
    for a plain import).  For a file that was read: what it became (``sport``, ``start_utc``,
    ``utc_offset_s`` [s], ``distance_m``, ``partial``, ``warnings``, ``excluded_reason``)."""

    name: str
    status: str
    reason: str = ""
    activity_id: str | None = None
    sport: str | None = None
    start_utc: object = None  # pandas.Timestamp (UTC) or None
    utc_offset_s: float | None = None
    distance_m: float | None = None
    partial: bool = False
    warnings: tuple[str, ...] = ()
    excluded_reason: str | None = None
    decoded: bool = False  # a reader decoded it this time (not known by its content hash)


def _default_reader(data: bytes, name: str) -> Activity:
    from loadwatch.ingest.sources import read_activity

    return read_activity(data, name)


def timeout_message(timeout_s: float) -> str:
    """Why a file that took longer than ``timeout_s`` [s] to decode was given up, in a runner's words."""
    return f"took longer than {timeout_s:g} s to read; the file may be damaged"


#: Memory a worker may take on top of what it holds when it starts [bytes]: a 10-hour FIT file decodes in
#: well under 200 MB, so a file that needs more is damaged or hostile (one-byte records by the million).
WORKER_MEMORY_BYTES: int = 1536 * 1024 * 1024

MEMORY_MESSAGE = (f"needs more than {WORKER_MEMORY_BYTES / 1024 ** 3:g} GB of memory to read; the file may be "
                  "damaged")


def _limit_memory(extra_bytes: int = WORKER_MEMORY_BYTES) -> None:
    """Cap this (worker) process's data memory at what it uses now plus ``extra_bytes`` (Linux
    ``RLIMIT_DATA``); a reader that asks for more gets a MemoryError instead of taking the machine's."""
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as fh:
            used_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmData:"))
        limit = used_kb * 1024 + extra_bytes
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ImportError, OSError, ValueError, StopIteration):
        pass  # not Linux: the time limit still applies


# --- decoding (runs in a worker, or in-process with workers <= 0) -------------------------------------------

def _decode(reader: Reader | None, name: str, data: bytes) -> tuple:
    """Read one file; returns a small picklable tuple (never raises):
    ``("ok", summary, richness, n_samples, compressed_original, route)``, ``("skipped", reason)`` or
    ``("failed", reason)``.  The original is compressed here, in the worker, so the single writer stays
    light."""
    try:
        activity = (reader or _default_reader)(data, name)
        block = activity.block  # numpy only: no pandas frame is built for an import
        return ("ok", activity.summary, samples_richness(block), int(len(block)),
                compress_original(data, activity.summary.format), route_of(block))
    except NotAnActivity as exc:
        return ("skipped", exc.reason)
    except IngestError as exc:
        return ("failed", exc.problem)
    except MemoryError:
        return ("failed", MEMORY_MESSAGE)
    except Exception as exc:  # a reader bug must not stop the batch; the runner sees what happened
        return ("failed", f"could not be read (internal error: {type(exc).__name__}: {exc})")


def _import_readers() -> None:
    try:
        import loadwatch.ingest.fit_reader  # noqa: F401
        import loadwatch.ingest.gpx_reader  # noqa: F401
        import loadwatch.ingest.sources  # noqa: F401
        import loadwatch.ingest.tcx_reader  # noqa: F401
    except ImportError:
        pass


def _worker_main(recv, send) -> None:
    """Worker loop of a fresh interpreter: receive the reader, then serve (see :func:`_serve`)."""
    try:
        reader = recv.recv()
    except (EOFError, OSError):
        return
    # import the readers before saying "ready": the per-file clock must not count interpreter start-up
    _import_readers()
    _serve(reader, recv, send)


def _serve(reader, recv, send) -> None:
    """Say "ready", then answer ``(name, data, path, sha256)`` messages (``data`` None: read ``path``) with
    :func:`_decode`'s tuple.  Returns on ``None`` or when the parent goes away (its end of the pipe closes)."""
    _limit_memory()
    try:
        send.send(("ready",))
    except OSError:
        return
    while True:
        try:
            msg = recv.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        name, data, path, digest = msg
        if data is None:  # a file on disk: read here, and checked to be what the main process hashed
            from loadwatch.ingest.sources import read_regular_file

            try:
                data = read_regular_file(path, name)
            except IngestError as exc:
                problem = f"could not be read: {exc.problem}"
            else:
                problem = None if hashlib.sha256(data).hexdigest() == digest else CHANGED_WHILE_READ
            if problem is not None:
                try:
                    send.send(("failed", problem))
                except OSError:
                    return
                continue
        result = _decode(reader, name, data)
        try:
            send.send(result)
        except (BrokenPipeError, EOFError, OSError):
            return
        except Exception as exc:  # e.g. a result that cannot be pickled
            send.send(("failed", f"could not be read (internal error: {type(exc).__name__}: {exc})"))


def _worker_stdio_main() -> None:
    """Entry point of a worker process: messages on stdin/stdout; anything a library prints goes to
    stderr so it cannot corrupt the channel."""
    channel_out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _worker_main(Connection(0, writable=False), Connection(channel_out, readable=False))
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (pandas & co. take ~0.5 s): nothing is left to clean up


def _pipe_bytes(task: Task) -> int:
    """Bytes a task puts in a worker's pipe: its name and path when the file is on disk, else its bytes."""
    return 4096 + (0 if task[3] is not None else len(task[2]))


def _grow_pipe(fd: int, size: int) -> int:
    """Ask Linux for a bigger pipe buffer (so a file can be queued to a busy worker without blocking);
    returns the buffer size in bytes, 0 when unknown."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
    except (ImportError, AttributeError, OSError):
        return 0


def _fork_is_safe() -> bool:
    """Forking is safe only in a process running a single thread, on a system that forks."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


class _Forked:
    """A worker forked from this process, with :class:`subprocess.Popen`'s ``poll``/``wait``/``kill``.
    ``send_fd``/``recv_fd`` are this side's ends of its two pipes."""

    def __init__(self, reader: Reader | None):
        _import_readers()  # once, here: every fork inherits them
        to_child, to_parent = os.pipe(), os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: its two pipe ends and the standard streams, nothing of the parent's
            try:
                keep = sorted((to_child[0], to_parent[1]))
                os.closerange(3, keep[0])
                os.closerange(keep[0] + 1, keep[1])
                os.closerange(keep[1] + 1, 65536)
                _serve(reader, Connection(to_child[0], writable=False), Connection(to_parent[1], readable=False))
            finally:
                os._exit(0)  # never the parent's clean-up (its store, its atexit handlers)
        os.close(to_child[0])
        os.close(to_parent[1])
        self.pid = pid
        self.send_fd, self.recv_fd = to_child[1], to_parent[0]
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"import worker {self.pid}", timeout)
            time.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class _Worker:
    """One decoding process.  It may hold a second file queued behind the one it decodes (sent ahead
    into its pipe when the pipe can take it without blocking), so it never waits for the main process."""

    def __init__(self, reader: Reader | None):
        if _fork_is_safe():
            self.proc = _Forked(reader)
            self._send = Connection(self.proc.send_fd, readable=False)
            self.conn = Connection(self.proc.recv_fd, writable=False)
        else:
            code = _WORKER_CODE.format(path=[p for p in sys.path if p])
            self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, close_fds=True)
            self._send = Connection(os.dup(self.proc.stdin.fileno()), readable=False)
            self.conn = Connection(os.dup(self.proc.stdout.fileno()), writable=False)
            self.proc.stdin.close()
            self.proc.stdout.close()
        self.pipe_bytes = _grow_pipe(self._send.fileno(), PIPE_BYTES)
        # the answer (summary and compressed original, ~80 kB for an hour of FIT) fits in one write too, so a
        # worker never waits for the main process to read it before starting its next file
        _grow_pipe(self.conn.fileno(), PIPE_BYTES)
        if not isinstance(self.proc, _Forked):
            self._send.send(reader)
        self.born = time.monotonic()
        self.tasks: deque[Task] = deque()  # the first is being read
        self.started = 0.0  # when the first task started

    @property
    def exitcode(self) -> int | None:
        return self.proc.poll()

    def can_queue(self, task: Task) -> bool:
        """Idle, or one file in hand and the next fits in the pipe (a blocking send would stall the
        main process, and with it every time limit)."""
        if not self.tasks:
            return True
        queued = sum(_pipe_bytes(t) for t in list(self.tasks)[1:])
        return len(self.tasks) < QUEUE_DEPTH and queued + _pipe_bytes(task) <= self.pipe_bytes // 2

    def give(self, task: Task) -> None:
        if not self.tasks:
            self.started = time.monotonic()
        self.tasks.append(task)
        name, digest, data, path = task
        # a file on disk goes by its path (the worker reads it from the page cache): no copy of its bytes
        # through the pipe, and a 1 MB GPX never waits for a worker's pipe to empty
        self._send.send((name, None, str(path), digest) if path is not None else (name, data, None, None))

    def done(self) -> Task:
        """The first task's result arrived: the next queued one (if any) starts now."""
        task = self.tasks.popleft()
        self.started = time.monotonic()
        return task

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        finally:
            self._send.close()
            self.conn.close()

    def ask_to_stop(self) -> None:
        try:
            self._send.send(None)
        except OSError:
            pass

    def stop(self) -> None:
        """After :meth:`ask_to_stop` (ask every worker first: they shut down in parallel)."""
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._send.close()
        self.conn.close()


# --- idle workers kept between batches -----------------------------------------------------------------------

#: Fresh-interpreter workers (the threaded host's: the dashboard) stay alive between imports, so an upload
#: does not pay an interpreter start (~0.45 s each, both cores) every time; at most this many wait, ...
POOL_MAX: int = 2
#: ... each for at most this long [s] before it is stopped at the next import.
POOL_IDLE_S: float = 600.0

_pool: list[tuple[_Worker, object, float]] = []  # (worker, its reader, when it went idle)
_pool_lock = threading.Lock()


def _pool_take(reader: Reader | None) -> _Worker | None:
    """An idle worker started for ``reader`` that is still alive (None when there is none); workers idle
    for longer than :data:`POOL_IDLE_S` are stopped."""
    now = time.monotonic()
    with _pool_lock:
        keep, stale, found = [], [], None
        for worker, its_reader, since in _pool:
            if worker.exitcode is not None or now - since > POOL_IDLE_S:
                stale.append(worker)
            elif found is None and its_reader == reader:
                found = worker
            else:
                keep.append((worker, its_reader, since))
        _pool[:] = keep
    _stop_all(stale)
    return found


def _pool_put(worker: _Worker, reader: Reader | None) -> bool:
    """Keep an idle worker for the next import; False when it cannot be kept (forked, dead, pool full)."""
    if isinstance(worker.proc, _Forked) or worker.exitcode is not None or worker.tasks:
        return False
    with _pool_lock:
        if len(_pool) >= POOL_MAX:
            return False
        _pool.append((worker, reader, time.monotonic()))
    return True


def _stop_all(workers: list[_Worker]) -> None:
    for worker in workers:
        worker.ask_to_stop()
    for worker in workers:
        try:
            worker.stop()
        except OSError:
            pass


def shutdown_pool() -> None:
    """Stop every idle worker (at interpreter exit; tests)."""
    with _pool_lock:
        workers = [w for w, _r, _t in _pool]
        _pool.clear()
    _stop_all(workers)


atexit.register(shutdown_pool)


# --- the batch -----------------------------------------------------------------------------------------------

class _Batch:
    def __init__(self, store: Store, progress: Progress | None, total: int | None, reader: Reader | None,
                 on_outcome: OnOutcome | None = None):
        self.store = store
        self.progress = progress
        self.on_outcome = on_outcome
        self.total = total
        self.reader = reader
        self.outcomes: list[Outcome] = []
        self._no_samples = None  # the store gets summaries only; one shared empty frame
        #: content hash -> name of the first file with those bytes in this batch.  Two copies of one file
        #: in one upload must not race each other through two workers: the first is read, the copy is a
        #: duplicate of it, as it would be in a later import.
        self._first_with_hash: dict[str, str] = {}
        #: (file name, entries) of the archives' metadata files seen in this batch: applied at the end.
        self.metadata: list[tuple[str, list]] = []

    def apply_metadata(self) -> None:
        """Sport, surface, name and (Strava's "Activity Gear") shoes from the batch's metadata files onto the
        activities they describe."""
        if not self.metadata:
            return
        from loadwatch.ingest.archive_meta import START_MATCH_S, match_file

        files = [o for o in self.outcomes if o.activity_id]
        gear: dict[str, str] = {}
        for meta_name, entries in self.metadata:
            root = meta_name.rsplit("/", 1)[0] + "/" if "/" in meta_name else ""
            for entry in entries:
                target = None
                for o in files:
                    if o.name.startswith(root) and match_file(entry, o.name[len(root):] if root else o.name):
                        target = o.activity_id
                        break
                if target is None and entry.start_utc_s is not None:
                    target = self.store.activity_starting_at(entry.start_utc_s, tolerance_s=START_MATCH_S)
                if target is not None:
                    self.store.apply_metadata(target, sport=entry.sport, surface=entry.surface, name=entry.name)
                    if entry.gear:
                        gear[target] = entry.gear
        if gear:
            # after the sports: a run's pair is created when new; the runner's own choice and bikes are left alone
            self.store.assign_gear(gear, source="strava")

    def report(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        if self.progress is not None:
            done = len(self.outcomes)
            if self.total is not None and done > self.total:
                self.total = done
            self.progress(done, self.total, outcome.name)

    def triage(self, item) -> Task | None:
        """Handle what needs no decoding; return the :data:`Task` of a file to decode."""
        from loadwatch.ingest.archive_meta import Metadata, parse
        from loadwatch.ingest.sources import Skipped, SourceFile

        if isinstance(item, Metadata):
            try:
                entries = parse(item.name, item.data)
            except ValueError as exc:
                self.report(Outcome(item.name, "skipped", f"export metadata that could not be used: {exc}"))
                return None
            self.metadata.append((item.name, entries))
            what = "sports, names and shoes" if any(e.gear for e in entries) else "sports and names"
            self.report(Outcome(item.name, "skipped", f"export metadata: {what} of {len(entries)} "
                                                      "activities, applied to their files"))
            return None
        if isinstance(item, IngestError):
            self.report(Outcome(item.file_name, "failed", item.problem))
            return None
        if isinstance(item, Skipped):
            self.report(Outcome(item.name, "skipped", item.reason))
            return None
        if isinstance(item, SourceFile):
            data = bytes(item.data)
            digest = hashlib.sha256(data).hexdigest()
            known = self.store.file_outcome(digest)
            if known is not None:
                if known["outcome"] == "skipped":
                    self.report(Outcome(item.name, "skipped", known["reason"]))
                else:
                    self.report(Outcome(item.name, "duplicate", f"already imported ({known['file_name']})",
                                        known["activity_id"]))
                return None
            first = self._first_with_hash.get(digest)
            if first is not None:
                self.report(Outcome(item.name, "duplicate", f"the same file as {first} in this import"))
                return None
            self._first_with_hash[digest] = item.name
            return (item.name, digest, data, item.path)
        raise TypeError(f"unexpected source item {item!r}")

    def finish(self, task: Task, result: tuple) -> None:
        """Write one decoded file to the store (its own transaction)."""
        name, digest, data, _path = task
        kind = result[0]
        if kind == "skipped":
            self.store.record_skipped(digest, name, result[1])
            self.report(Outcome(name, "skipped", result[1], decoded=True))
            return
        if kind == "failed":
            self.report(Outcome(name, "failed", result[1], decoded=True))
            return
        _, summary, richness, n_samples, compressed, route = result
        if self._no_samples is None:
            self._no_samples = empty_samples()
        try:
            res = self.store.add_activity(Activity(summary, self._no_samples), data, name,
                                          richness=richness, n_samples=n_samples, compressed=compressed,
                                          content_hash=digest, route=route)
        except StoreError:
            raise  # the store itself (read-only, full disk, damaged): no later file can be saved either
        except Exception as exc:  # noqa: BLE001 - reported per file, the batch goes on
            self.report(Outcome(name, "failed", f"could not be saved ({type(exc).__name__}: {exc})"))
            return
        distance = summary.distance_m
        self.report(Outcome(
            name, res.outcome, res.reason, res.activity_id, sport=summary.sport, start_utc=summary.start_utc,
            utc_offset_s=summary.utc_offset_s,
            distance_m=float(distance) if distance is not None and distance == distance else None,
            partial=bool(summary.partial), warnings=tuple(summary.warnings),
            excluded_reason=summary.excluded_reason, decoded=True))


def _run(store: Store, items: Iterable, *, progress: Progress | None, total: int | None, workers: int,
         timeout_s: float, reader: Reader | None, on_outcome: OnOutcome | None) -> list[Outcome]:
    with store.bulk_writes():
        return _run_batch(store, items, progress=progress, total=total, workers=workers, timeout_s=timeout_s,
                          reader=reader, on_outcome=on_outcome)


def _run_batch(store: Store, items: Iterable, *, progress: Progress | None, total: int | None, workers: int,
               timeout_s: float, reader: Reader | None, on_outcome: OnOutcome | None) -> list[Outcome]:
    batch = _Batch(store, progress, total, reader, on_outcome)
    if workers <= 0:
        # in-process (tests, debugging): no time limit can be enforced here
        for item in items:
            task = batch.triage(item)
            if task is not None:
                batch.finish(task, _decode(reader, task[0], task[2]))  # the bytes in hand
        batch.apply_metadata()
        return batch.outcomes
    _Scheduler(batch, items, workers=workers, timeout_s=timeout_s, reader=reader).run()
    batch.apply_metadata()
    return batch.outcomes


class _Scheduler:
    """Hands a batch's files to worker processes: at most ``IN_FLIGHT_PER_WORKER`` files a worker taken
    from ``items`` at a time, workers started as files wait, each file given up after ``timeout_s``."""

    def __init__(self, batch: _Batch, items: Iterable, *, workers: int, timeout_s: float, reader: Reader | None):
        self.batch, self.workers, self.timeout_s, self.reader = batch, workers, timeout_s, reader
        self.max_in_flight = IN_FLIGHT_PER_WORKER * workers
        self.source = iter(items)
        self.exhausted = False
        self.pending: deque[Task] = deque()
        self.starting: list[_Worker] = []  # started, not yet ready (importing)
        self.ready_workers: list[_Worker] = []

    def run(self) -> None:
        try:
            while True:
                self._take_files()
                self._hand_out()
                self._start_workers()
                busy = [w for w in self.ready_workers if w.tasks]
                if not busy and not self.starting:
                    if self.exhausted and not self.pending:
                        break
                    continue
                now = time.monotonic()
                deadlines = [w.started + self.timeout_s for w in busy] + \
                    [w.born + WORKER_START_TIMEOUT_S for w in self.starting]
                ready = wait_connections([w.conn for w in busy + self.starting],
                                         timeout=max(0.0, min(deadlines) - now))
                self._greet(ready)
                self._collect(busy, ready)
        finally:
            for worker in self.starting + [w for w in self.ready_workers if w.tasks]:
                worker.kill()
            idle = [w for w in self.ready_workers if not w.tasks and not _pool_put(w, self.reader)]
            _stop_all(idle)

    def _in_flight(self) -> int:
        return len(self.pending) + sum(len(w.tasks) for w in self.ready_workers)

    def _take_files(self) -> None:
        """Files from the source into the queue while there is room in flight."""
        while not self.exhausted and self._in_flight() < self.max_in_flight:
            try:
                item = next(self.source)
            except StopIteration:
                self.exhausted = True
                break
            task = self.batch.triage(item)
            if task is not None:
                self.pending.append(task)

    def _hand_out(self) -> None:
        """Waiting files to the ready worker with the fewest files, while one can take the next."""
        while self.pending:
            candidates = [w for w in self.ready_workers if w.can_queue(self.pending[0])]
            if not candidates:
                break
            min(candidates, key=lambda w: len(w.tasks)).give(self.pending.popleft())

    def _start_workers(self) -> None:
        # workers start lazily (a re-import of known files starts none), one per waiting file; an idle
        # worker kept from the last import is taken first
        while len(self.pending) > len(self.starting) and len(self.starting) + len(self.ready_workers) < self.workers:
            kept = _pool_take(self.reader)
            if kept is not None:
                self.ready_workers.append(kept)
                break  # the loop's top hands it the waiting files
            self.starting.append(_Worker(self.reader))

    def _greet(self, ready: list) -> None:
        """Starting workers that said they are ready join the ready ones; one that failed or took too
        long to start stops the import."""
        for worker in list(self.starting):
            if worker.conn in ready:
                try:
                    hello = worker.conn.recv()
                except (EOFError, OSError):
                    hello = None
                self.starting.remove(worker)
                if hello != ("ready",):
                    code = worker.exitcode
                    worker.kill()
                    raise RuntimeError(f"an import worker process could not start (exit code {code}); "
                                       "see the messages above")
                self.ready_workers.append(worker)
            elif time.monotonic() - worker.born >= WORKER_START_TIMEOUT_S:
                self.starting.remove(worker)
                worker.kill()
                raise RuntimeError(f"an import worker process did not start within {WORKER_START_TIMEOUT_S:g} s")

    def _collect(self, busy: list[_Worker], ready: list) -> None:
        """Results from the busy workers that answered; a worker that died or ran out of time is lost."""
        for worker in busy:
            if worker.conn in ready:
                try:
                    result = worker.conn.recv()
                except (EOFError, OSError):
                    worker.proc.wait(5)
                    self._lost(worker, f"could not be read (internal error: the reader process stopped, exit code "
                                       f"{worker.exitcode})")
                    continue
                self.batch.finish(worker.done(), result)
            elif time.monotonic() - worker.started >= self.timeout_s:
                # killing is the only way to stop a stuck decoder; a fresh worker takes its place
                self._lost(worker, timeout_message(self.timeout_s))

    def _lost(self, worker: _Worker, reason: str) -> None:
        """The worker is killed: its current file fails, files queued behind it go back to the queue."""
        self.ready_workers.remove(worker)
        worker.kill()
        task = worker.tasks.popleft()
        self.pending.extendleft(reversed(worker.tasks))
        self.batch.finish(task, ("failed", reason))


# --- public entry points -------------------------------------------------------------------------------------

def _estimate_total(paths: list[Path]) -> int | None:
    """Number of files under ``paths`` for the progress bar; None when archives make it unknowable."""
    count = 0
    for p in paths:
        if p.is_dir():
            for _dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__MACOSX"]
                for f in filenames:
                    if f.startswith("."):
                        continue
                    if f.lower().endswith(".zip"):
                        return None
                    count += 1
        else:
            if p.name.lower().endswith(".zip"):
                return None
            count += 1
    return count


def import_paths(store: Store, paths: Iterable[str | os.PathLike], *, progress: Progress | None = None,
                 workers: int = 2, timeout_s: float = 60.0, reader: Reader | None = None,
                 on_outcome: OnOutcome | None = None, within: str | os.PathLike | None = None) -> list[Outcome]:
    """Import files, folders (recursively) and archives.

    ``progress(done, total, name)`` is called after each file (``total`` is None when it cannot be known
    in advance, e.g. inside zips).  ``workers``: decoding processes (0: in-process, no time or memory
    limit).  ``timeout_s``: per-file decoding limit [s].  ``within``: a folder no path may leave through a
    symlink (see :func:`loadwatch.ingest.sources.iter_sources`).  ``reader(data, name) -> Activity`` replaces
    :func:`loadwatch.ingest.sources.read_activity` (a module-level function, so worker processes can import it).
    ``on_outcome(outcome)`` is called as each file's :class:`Outcome` is known (before ``progress``).
    Returns one :class:`Outcome` per file, in the order they finished.
    """
    from loadwatch.ingest.sources import iter_sources

    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    total = _estimate_total(paths) if progress is not None else None
    return _run(store, iter_sources(paths, within=within), progress=progress, total=total, workers=workers,
                timeout_s=timeout_s, reader=reader, on_outcome=on_outcome)


def _iter_uploads(files: Iterable[tuple[str, object]]) -> Iterator:
    from loadwatch.ingest.sources import iter_bytes, source_bytes

    for name, obj in files:
        try:
            data, shown = source_bytes(obj, name)
        except IngestError as exc:
            yield exc
            continue
        yield from iter_bytes(data, shown)  # zips expanded, .gz unpacked, as for a file on disk


def import_files(store: Store, files: Iterable[tuple[str, object]], *, progress: Progress | None = None,
                 workers: int = 2, timeout_s: float = 60.0, reader: Reader | None = None,
                 on_outcome: OnOutcome | None = None) -> list[Outcome]:
    """Import uploaded files: ``(name, bytes or binary file object)`` pairs (e.g. Streamlit
    ``UploadedFile``); zips among them are expanded.  Otherwise as :func:`import_paths`."""
    files = list(files)
    total = None if any(str(n).lower().endswith(".zip") for n, _ in files) else len(files)
    return _run(store, _iter_uploads(files), progress=progress, total=total, workers=workers,
                timeout_s=timeout_s, reader=reader, on_outcome=on_outcome)


def summarize(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """Counts per status (every status present, 0 when none)."""
    counts = dict.fromkeys(STATUSES, 0)
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts
