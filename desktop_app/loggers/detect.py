"""Recognise a logger file by its content, never by its extension alone (docs/formats.md#recognising-a-file)."""

from __future__ import annotations

from pathlib import Path

from .recording import LoggerFileError, UnsupportedFormatError

#: How many bytes of the head we look at.
HEAD_BYTES = 4096

_UNSUPPORTED_BY_EXT = {
    ".rcz": "a RaceChrono session archive (.rcz): export it from RaceChrono as CSV v3 or VBO",
    ".xrk": "an AiM binary log (.xrk): export CSV from AiM Race Studio",
    ".xrz": "an AiM binary log (.xrz): export CSV from AiM Race Studio",
    ".drk": "an AiM binary log (.drk): export CSV from AiM Race Studio",
    ".ld": "a MoTeC binary log (.ld): export CSV from MoTeC i2",
    ".ldx": "a MoTeC i2 lap index (.ldx): export CSV from MoTeC i2",
    ".bmsbin": "a Bosch WinDarab binary file (.bmsbin): export ASCII or MDF from WinDarab",
    ".vbb": "a Racelogic binary file (.vbb): convert it to .vbo with Racelogic software",
    ".mfc": "a CANedge compressed MDF file (.MFC): decompress it with the vendor's tools first",
    ".mfe": "a CANedge encrypted MDF file (.MFE): decrypt it with the vendor's tools first",
}


def _first_text_line(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    return line.decode("utf-8", errors="replace").strip()


def _second_text_line(head: bytes) -> str:
    parts = head.split(b"\n", 2)
    return parts[1].rstrip(b"\r").decode("utf-8", errors="replace").strip() if len(parts) > 1 else ""


def sniff(path: Path) -> str:
    """Return the format name (``vbo``, ``racechrono``, ``aim``, ``motec``, ``bosch``, ``mdf``).

    Raises :class:`UnsupportedFormatError` for files we recognise but do not read and for
    anything unrecognised, and :class:`LoggerFileError` if the file cannot be opened.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except IsADirectoryError:
        raise LoggerFileError(path, "is a folder, not a logger file") from None
    except FileNotFoundError:
        raise LoggerFileError(path, "no such file") from None
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be opened: {exc.strerror or exc}") from None
    if not head:
        raise LoggerFileError(path, "the file is empty", offset=0)

    if head[:8] in (b"MDF     ", b"UnFinMF "):
        return "mdf"
    if head[:2] == b"PK":
        raise UnsupportedFormatError(
            path,
            "is a ZIP archive (a RaceChrono .rcz session or similar): export it from RaceChrono as CSV v3 or VBO",
            offset=0,
        )

    first = _first_text_line(head)
    lowered = first.lower()
    if lowered.startswith("file created on") or lowered.startswith("[header]"):
        return "vbo"
    if first.startswith("This file is created using RaceChrono"):
        second = _second_text_line(head)
        if second.startswith("Format,3") or second.startswith("Format,2"):
            return "racechrono"
        raise UnsupportedFormatError(
            path, f"is a RaceChrono CSV of an unknown format ({second!r}): export CSV v3", line=2
        )
    if first.startswith("# BOSCH-DARAB extract file created"):
        return "bosch"
    fields = [f.strip().strip('"').strip() for f in first.split(",")]
    if len(fields) >= 2 and fields[0] == "Format":
        if fields[1] == "MoTeC CSV File":
            return "motec"
        if fields[1] == "AiM CSV File":
            return "aim"

    ext = path.suffix.lower()
    if ext in _UNSUPPORTED_BY_EXT:
        raise UnsupportedFormatError(path, f"is {_UNSUPPORTED_BY_EXT[ext]}", offset=0)
    if ext in (".mf4", ".mdf", ".dat"):
        raise UnsupportedFormatError(
            path,
            "has an MDF extension but does not start with 'MDF     ' or 'UnFinMF ': "
            "it is not an MDF file (compressed or encrypted? decompress/decrypt it first)",
            offset=0,
        )
    raise UnsupportedFormatError(
        path,
        "is not a logger format Laptrace reads (VBO, RaceChrono CSV, AiM CSV, MoTeC CSV, "
        f"WinDarab ASCII, MDF4); it starts with {first[:40]!r}",
        line=1,
    )
