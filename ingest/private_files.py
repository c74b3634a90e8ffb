"""Files that hold health data, written private: ``0600`` in folders loadwatch creates ``0700``.

The store and its backups (:mod:`loadwatch.ingest.store`), ``loadwatch pain export --csv``, ``loadwatch report
--pdf/--html`` and the cohort's Parquet tables and state all go through these two functions, so no face
writes a world-readable copy of a runner's data (whatever the umask) and a half-written file is never left
under the final name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: Mode of every file loadwatch writes holding health data, and of every folder it creates for one.
FILE_MODE: int = 0o600
FOLDER_MODE: int = 0o700


def make_private_dirs(folder: str | os.PathLike) -> Path:
    """Create ``folder`` and any missing parents ``0700`` (``os.makedirs``' mode applies only to the last
    one, and the umask may widen nothing here: each is chmod-ed after it is made).  Folders that already
    exist are left as they are (they are the runner's)."""
    folder = Path(folder)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        try:
            os.mkdir(path, FOLDER_MODE)
        except FileExistsError:
            continue
        os.chmod(path, FOLDER_MODE)
    return folder


def write_private(path: str | os.PathLike, data: bytes | str, *, make_dirs: bool = False) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` as a ``0600`` file: the bytes go to a private temporary
    file beside it, which then replaces ``path`` atomically.  ``make_dirs``: create missing folders
    ``0700`` (else a missing folder is an ``OSError``, as for ``open``)."""
    path = Path(path)
    if make_dirs:
        make_private_dirs(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
