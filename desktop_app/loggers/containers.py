"""Files that wrap a log rather than being one: ZIP archives, UTF-16 text, Git LFS pointers.

:func:`.detect.sniff` asks here before it gives up on a file, so the refusal says what the
file really is (docs/formats.md#containers-and-encodings): a ZIP lists what it holds
and says to unzip it when it holds files Laptrace reads; a Git LFS pointer says how to get
the real file. UTF-16 text with a byte-order mark is decoded (:func:`utf16_head` for the
sniffing, :func:`transcoded` for the reading), so it reads like its UTF-8 twin.
"""

from __future__ import annotations

import codecs
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .recording import LoggerFileError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: members listed in a ZIP refusal (the rest are counted)
_LIST_MAX = 8
#: bytes of each ZIP member looked at to recognise it (never the whole member: a small
#: archive can expand to gigabytes)
_MEMBER_HEAD = 4096
#: members sniffed at most (an archive of thousands of files is listed, not opened whole)
_SNIFF_MAX = 64
_LFS = re.compile(rb"^version https://git-lfs\.\S+/spec/v1\r?\n", re.ASCII)
_LFS_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})\r?$", re.M)
_LFS_SIZE = re.compile(rb"^size (\d+)\r?$", re.M)

#: ``(head bytes, file name) -> format name or None``: the sniffing of :mod:`.detect`
HeadSniffer = Callable[[bytes, str], "str | None"]

_NAMES = {
    "vbo": "VBO",
    "racechrono": "RaceChrono CSV",
    "aim": "AiM CSV",
    "motec": "MoTeC CSV",
    "bosch": "WinDarab ASCII",
    "mdf": "MDF",
}


def lfs_pointer(head: bytes) -> str | None:
    """The refusal for a Git LFS pointer file, or None if ``head`` is not one."""
    if not _LFS.match(head) or len(head) > 1024:
        return None
    oid = _LFS_OID.search(head)
    size = _LFS_SIZE.search(head)
    what = f" of {int(size.group(1)):,} bytes" if size else ""
    ref = f" (sha256 {oid.group(1)[:12].decode()}…)" if oid else ""
    return (
        f"is a Git LFS pointer, not the log itself: it stands for a file{what}{ref} kept in Git LFS. "
        "Fetch the real file with 'git lfs pull' (or 'git lfs fetch' then 'git lfs checkout') in the "
        "repository it came from, or download the file itself rather than its pointer"
    )


def zip_refusal(path: Path, sniff_head: HeadSniffer) -> str:
    """What to tell the user about a ZIP archive: what it holds, and to unzip it if useful."""
    rcz = path.suffix.lower() == ".rcz"
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            readable: list[tuple[str, str]] = []
            for m in members[:_SNIFF_MAX]:
                try:
                    with archive.open(m) as fh:
                        head = fh.read(_MEMBER_HEAD)
                except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError):
                    continue  # encrypted, an unknown compression, a damaged member
                fmt = sniff_head(head, m.filename)
                if fmt is not None:
                    readable.append((m.filename, fmt))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        if rcz:
            return "is a RaceChrono session archive (.rcz): export it from RaceChrono as CSV v3 or VBO"
        return "is a damaged or unreadable ZIP archive: unzip it with an archive tool and import the files inside"
    listed = ", ".join(m.filename for m in members[:_LIST_MAX])
    if len(members) > _LIST_MAX:
        listed += f" and {len(members) - _LIST_MAX} more"
    holds = f"holding {len(members)} file{'s' if len(members) != 1 else ''} ({listed})" if members else "that is empty"
    if readable:
        kinds = ", ".join(f"{name} ({_NAMES.get(fmt, fmt)})" for name, fmt in readable[:_LIST_MAX])
        return f"is a ZIP archive {holds}: unzip it and import the logger files inside: {kinds}"
    if rcz:
        return f"is a RaceChrono session archive (.rcz) {holds}: export it from RaceChrono as CSV v3 or VBO"
    return f"is a ZIP archive {holds}, none of them a logger file Laptrace reads"


def utf16_head(head: bytes) -> bytes | None:
    """The head of a UTF-16 file with a byte-order mark, re-encoded as UTF-8; None if not one."""
    if not head.startswith(_UTF16_BOMS):
        return None
    text = codecs.getincrementaldecoder("utf-16")(errors="replace").decode(head[: len(head) & ~1])
    return text.encode("utf-8")


@contextmanager
def transcoded(path: Path) -> Iterator[Path]:
    """A UTF-8 copy of the UTF-16 file ``path`` in a temporary folder, removed afterwards.

    Decoded in chunks, so memory stays one chunk whatever the file's size; line breaks are
    kept, so line numbers in errors are the original file's.
    """
    folder = Path(tempfile.mkdtemp(prefix="laptrace-utf16-"))
    try:
        target = folder / path.name
        decoder = codecs.getincrementaldecoder("utf-16")(errors="strict")
        offset = 0
        try:
            with open(path, "rb") as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    try:
                        dst.write(decoder.decode(chunk).encode("utf-8"))
                    except UnicodeDecodeError as exc:
                        raise LoggerFileError(
                            path, f"is not valid UTF-16 ({exc.reason})", offset=offset + exc.start
                        ) from None
                    offset += len(chunk)
                try:
                    dst.write(decoder.decode(b"", final=True).encode("utf-8"))
                except UnicodeDecodeError:
                    raise LoggerFileError(path, "ends inside a UTF-16 character", offset=offset) from None
        except OSError as exc:
            raise LoggerFileError(path, f"cannot be read: {exc.strerror or exc}") from None
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def is_utf16(path: Path) -> bool:
    """Whether ``path`` starts with a UTF-16 byte-order mark (False if it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) in _UTF16_BOMS
    except OSError:
        return False


def relocated(exc: LoggerFileError, original: Path) -> LoggerFileError:
    """``exc`` raised on a decoded copy, re-addressed to the file the user gave."""
    new = type(exc)(original, exc.message, line=exc.line, offset=exc.offset, field_name=exc.field_name)
    return new
