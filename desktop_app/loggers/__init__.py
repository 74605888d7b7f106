"""Qt-free logger file readers: a file on disk -> :class:`Recording`.

Each format is one module here with a ``read(path: Path) -> Recording`` function;
:func:`read_recording` sniffs the content and dispatches.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .containers import is_utf16, relocated, transcoded
from .detect import sniff
from .recording import (
    Channel,
    Gate,
    LoggerFileError,
    Recording,
    UnknownFormatError,
    UnsupportedFormatError,
)

__all__ = [
    "Channel",
    "Gate",
    "LoggerFileError",
    "Recording",
    "UnknownFormatError",
    "UnsupportedFormatError",
    "read_recording",
    "sniff",
]

#: format name -> module in this package
READERS = {
    "vbo": "vbo",
    "racechrono": "racechrono",
    "aim": "aim",
    "motec": "motec",
    "motec_ld": "motec_ld",
    "bosch": "bosch",
    "mdf": "mdf",
    "xrk": "xrk",
}


def read_recording(path: str | Path) -> Recording:
    """Read any supported logger file.

    Raises :class:`UnsupportedFormatError` for files we do not read (with what to export
    instead) and :class:`LoggerFileError` for malformed files (naming file, line, what).
    """
    p = Path(path)
    fmt = sniff(p)
    module = importlib.import_module(f"{__name__}.{READERS[fmt]}")
    if not is_utf16(p):
        recording: Recording = module.read(p)
        return recording
    with transcoded(p) as utf8:
        try:
            recording = module.read(utf8)
        except LoggerFileError as exc:
            raise relocated(exc, p) from None
    recording.path = p
    recording.warnings.insert(0, "UTF-16 text: decoded (byte offsets in messages count its UTF-8 decoding)")
    return recording
