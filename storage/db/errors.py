"""Errors of the catalogue and the save pipeline (imported from here, by every caller)."""

from __future__ import annotations

from storage.errors import StorageError


class CatalogError(StorageError):
    """The catalogue database could not be read or written (server gone, disk full...).

    Nothing of the unit of work that failed was committed.
    """


class SessionNotFoundError(StorageError, LookupError):
    """No session (or no such lap of it) in the catalogue."""

    def __init__(self, session_id: int, lap_number: int | None = None) -> None:
        self.session_id = session_id
        self.lap_number = lap_number
        what = f"session {session_id}" if lap_number is None else (f"lap {lap_number} of session {session_id}")
        super().__init__(f"{what} is not in the catalogue")


class DuplicateImportError(StorageError):
    """A source file with this SHA-256 is already in the catalogue (nothing was written)."""

    def __init__(self, sha256: str, file_name: str, session_id: int, session_name: str) -> None:
        self.sha256 = sha256
        self.file_name = file_name
        self.session_id = session_id
        self.session_name = session_name
        super().__init__(
            f"{file_name} is already in the catalogue: session {session_id} "
            f"({session_name!r}) holds a file with the same SHA-256 {sha256}"
        )


class SaveError(StorageError):
    """The session's rows were committed but its telemetry file could not be written.

    The session is left ``failed`` (or ``writing`` if even that could not be recorded);
    the caller may :func:`storage.sessions.retry_telemetry` or
    :func:`storage.sessions.discard_session` it.
    """

    def __init__(self, session_id: int, cause: BaseException, *, file_complete: bool = False) -> None:
        self.session_id = session_id
        self.cause = cause
        #: the telemetry file was written completely; only recording that in the catalogue
        #: failed, which ``recover`` finishes
        self.file_complete = file_complete
        if file_complete:
            message = (
                f"session {session_id}: the telemetry file is complete, but the catalogue could not "
                f"record it ({describe(cause)}); run 'laptrace recover' (or restart the app) to finish the save"
            )
        else:
            message = f"session {session_id} was saved but its telemetry could not be written: {describe(cause)}"
        super().__init__(message)


def describe(exc: BaseException) -> str:
    """One line for an error, as stored in ``sessions.error`` and shown to the user."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
