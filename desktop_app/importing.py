"""Qt-free: logger file(s) -> :class:`storage.types.SessionDraft`; the pipeline CLI and GUI share.

Contract (the laps issue implements it; the GUI and the catalogue command call it):

``import_file(path, progress=None) -> ImportedFile``
    read the recording (``desktop_app.loggers.read_recording``), split it into laps, measure
    them, propose validity, and build the per-lap ``SessionTelemetry`` (session_id 0) and
    the ``SessionDraft`` (name from the file, track/started_at from the file where known,
    one ``SourceRecord`` with the file's SHA-256). ``progress(done, total)`` is called now
    and then and may raise to cancel. Raises ``LoggerFileError``/``UnsupportedFormatError``.
"""

from __future__ import annotations
