"""Recognise a logger file by its content, never by its extension alone (docs/formats.md#recognising-a-file)."""

from __future__ import annotations

import stat
import zlib
from pathlib import Path

from .containers import lfs_pointer, utf16_head, zip_refusal
from .recording import LoggerFileError, UnknownFormatError, UnsupportedFormatError

#: How many bytes of the head we look at.
HEAD_BYTES = 4096

_UNSUPPORTED_BY_EXT = {
    ".rcz": "a RaceChrono session archive (.rcz): export it from RaceChrono as CSV v3 or VBO",
    ".bmsbin": "a Bosch WinDarab binary file (.bmsbin): export ASCII or MDF from WinDarab",
    ".vbb": "a Racelogic binary file (.vbb): convert it to .vbo with Racelogic software",
    ".mfc": "a CANedge compressed MDF file (.MFC): decompress it with the vendor's tools first",
    ".mfe": "a CANedge encrypted MDF file (.MFE): decrypt it with the vendor's tools first",
}


#: every AiM log (``.xrk``, ``.drk``) starts with its configuration message
MAGIC = b"<hCNF"
#: the two bytes that open a zlib stream (deflate, any compression level), as an ``.xrz`` does
ZLIB_HEADS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


def looks_like_xrk(head: bytes) -> bool:
    """Whether a file's first bytes are an AiM log (plain, or zlib-compressed as ``.xrz``).

    Here rather than in the reader, so that recognising a file does not import it.
    """
    if head.startswith(MAGIC):
        return True
    if head[:2] not in ZLIB_HEADS:
        return False
    try:
        return zlib.decompressobj().decompress(head, len(MAGIC)).startswith(MAGIC)
    except zlib.error:
        return False


def _first_text_line(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    return line.decode("utf-8", errors="replace").strip()


def _second_text_line(head: bytes) -> str:
    parts = head.split(b"\n", 2)
    return parts[1].rstrip(b"\r").decode("utf-8", errors="replace").strip() if len(parts) > 1 else ""


def _ldx_alone(path: Path) -> str:
    """An .ldx holds only MoTeC i2's laps for the .ld log of the same name."""
    logs = [p for p in (path.with_suffix(".ld"), path.with_suffix(".LD")) if p.is_file()]
    where = f"open {logs[0].name} beside it instead" if logs else f"open its log, {path.stem}.ld, instead"
    return f"is a MoTeC i2 lap file (.ldx), not a log: it holds the laps of the .ld of the same name; {where}"


def _sniff_member(head: bytes, name: str) -> str | None:
    """The format of a ZIP member from its first bytes (UTF-16 members too), or None."""
    decoded = utf16_head(head)
    try:
        return _sniff_head(Path(name), decoded if decoded is not None else head)
    except UnsupportedFormatError:
        return None


def _sniff_head(path: Path, head: bytes) -> str | None:
    """The format a head of (UTF-8 or 8-bit) bytes shows, or None when it shows none."""
    if head[:8] in (b"MDF     ", b"UnFinMF "):
        return "mdf"
    if looks_like_xrk(head):
        return "xrk"
    if head[:4] == b"\x40\x00\x00\x00":
        return "motec_ld"  # the reader checks the rest of the header and names what is wrong
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
    return None


def sniff(path: Path) -> str:
    """Return the format name (``vbo``, ``racechrono``, ``aim``, ``motec``, ``motec_ld``, ``bosch``, ``mdf``, ``xrk``).

    Raises :class:`UnsupportedFormatError` for files we recognise but do not read and for
    anything unrecognised, and :class:`LoggerFileError` if the file cannot be opened.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise LoggerFileError(path, "no such file") from None
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be opened: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        # opening a FIFO blocks until a writer comes, a device may never end: not a log
        raise LoggerFileError(path, "is not a regular file (a FIFO, socket or device): save the log as a file first")
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

    lfs = lfs_pointer(head)
    if lfs is not None:
        raise UnsupportedFormatError(path, lfs, offset=0)
    if head[:2] == b"PK":
        raise UnsupportedFormatError(path, zip_refusal(path, _sniff_member), offset=0)
    decoded = utf16_head(head)
    if decoded is not None:
        fmt = _sniff_head(path, decoded)
        if fmt is None or fmt == "mdf":
            raise UnknownFormatError(
                path,
                "is UTF-16 text but not a logger format Laptrace reads (VBO, RaceChrono CSV, AiM CSV, "
                f"MoTeC CSV, WinDarab ASCII); it starts with {_first_text_line(decoded)[:40]!r}",
                line=1,
            )
        return fmt  # read_recording decodes it (containers.transcoded)
    fmt = _sniff_head(path, head)
    if fmt is not None:
        return fmt

    ext = path.suffix.lower()
    if ext == ".ld":
        return "motec_ld"  # damaged from byte 0: the reader says where and what
    if ext == ".ldx":
        raise UnsupportedFormatError(path, _ldx_alone(path), offset=0)
    if ext in _UNSUPPORTED_BY_EXT:
        raise UnsupportedFormatError(path, f"is {_UNSUPPORTED_BY_EXT[ext]}", offset=0)
    if ext in (".mf4", ".mdf", ".dat"):
        raise UnsupportedFormatError(
            path,
            "has an MDF extension but does not start with 'MDF     ' or 'UnFinMF ': "
            "it is not an MDF file (compressed or encrypted? decompress/decrypt it first)",
            offset=0,
        )
    raise UnknownFormatError(
        path,
        "is not a logger format Laptrace reads (VBO, RaceChrono CSV, AiM CSV, MoTeC CSV, "
        f"WinDarab ASCII, MDF4); it starts with {_first_text_line(head)[:40]!r}",
        line=1,
    )
