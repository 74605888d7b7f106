"""Exit codes shared by every sub-command."""

from __future__ import annotations

from storage.errors import LaptraceError

OK = 0
#: a file could not be read (malformed or unsupported), or the arguments were wrong
BAD_INPUT = 2
#: the file is already in the catalogue
DUPLICATE = 3
#: the database or the telemetry file could not be written or read
STORAGE_FAILURE = 4
#: the merge of several sources was refused
MERGE_REFUSED = 5


def for_error(exc: LaptraceError) -> int:
    """The exit code of an error of the one family the commands catch (docs/architecture.md#errors)."""
    # imported here: every command imports the codes, and only this needs the readers
    from desktop_app.loggers.recording import LoggerFileError
    from desktop_app.merging.combine import MergeError
    from storage.db.errors import DuplicateImportError

    if isinstance(exc, MergeError):
        return MERGE_REFUSED
    if isinstance(exc, LoggerFileError):
        return BAD_INPUT
    if isinstance(exc, DuplicateImportError):
        return DUPLICATE
    return STORAGE_FAILURE
