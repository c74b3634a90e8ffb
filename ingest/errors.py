"""The ingest error tree.

Every problem with one input file is an :class:`IngestError` whose message names the file and says what
is wrong in words a runner understands.  Readers raise the format subclass ``from`` the library's own
error, so ``__cause__`` keeps the technical detail.  The faces catch ``IngestError`` and show it;
nothing else is swallowed.
"""

from __future__ import annotations


class IngestError(ValueError):
    """A watch file could not be read.

    ``file_name`` is the name shown to the runner (for a zip member: ``archive.zip/member.fit``).
    """

    def __init__(self, file_name: str, problem: str):
        self.file_name = str(file_name)
        self.problem = problem
        super().__init__(f"{self.file_name}: {problem}")


class FitError(IngestError):
    """A FIT file is damaged, truncated or not a FIT file."""


class GpxError(IngestError):
    """A GPX file is not valid GPX, or holds nothing loadwatch can use."""


class TcxError(IngestError):
    """A TCX file is not valid TCX, or holds nothing loadwatch can use."""


class ArchiveError(IngestError):
    """A zip or gzip archive is damaged, or breaks a safety limit (size, ratio, member count, paths)."""


class UnsupportedFileError(IngestError):
    """The file is not a format loadwatch reads (wrong extension and no recognisable content)."""


class NotAnActivity(Exception):
    """The file is valid but is not an activity (settings, monitoring, weight, workout, course,
    waypoints-only GPX...).  Not a failure: the importer reports it as *skipped* with ``reason``."""

    def __init__(self, file_name: str, reason: str):
        self.file_name = str(file_name)
        self.reason = reason
        super().__init__(f"{self.file_name}: {reason}")
