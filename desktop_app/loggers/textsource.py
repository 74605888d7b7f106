"""Where a text data block's bytes come from, streamed in chunks (used by :mod:`.textblock`).

A block is read either from memory (a zero-copy view) or from a file region; padding
removal is applied on line-aligned chunks as they stream, so no whole copy is ever made.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np

_SPACE_EDGES = re.compile(rb"(?m)^ +| +$")
_SPACE_RUNS = re.compile(rb" {2,}")
Buf = bytes | memoryview


def first_row(data: Buf) -> bytes:
    """The first non-blank line (without its line end), read from the head of the block."""
    size = 1 << 16
    while True:
        head = bytes(data[:size])
        for line in head.split(b"\n")[:-1] if size < len(data) else head.split(b"\n"):
            if line.strip():
                return line.rstrip(b"\r")
        if size >= len(data):
            return b""
        size *= 4


def looks_padded(row: bytes, delimiter: bytes) -> bool:
    """Whether values are padded with spaces (pyarrow does not trim numbers)."""
    row = row.rstrip(b"\r")
    if delimiter == b" ":
        return row.startswith(b" ") or b"  " in row
    return b" " in row and b'"' not in row


def normalise(buf: Buf, delimiter: bytes) -> bytes:
    """Remove padding around values, keeping every newline (so line numbers survive)."""
    data = bytes(buf)
    if delimiter == b" ":
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        data = _SPACE_EDGES.sub(b"", data)
        data = _SPACE_RUNS.sub(b" ", data)
    elif b'"' not in data:
        # fixed-width padding around tabs/semicolons; unquoted text cells lose their spaces,
        # which only matters for text columns (metadata)
        data = data.translate(None, b" ")  # delete every space: one C pass, 5x faster than replace
    return data


def nonblank_line_index(data: Buf) -> np.ndarray:
    """Line offsets (0-based, within the block) of the lines pyarrow turns into rows."""
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [arr.shape[0]]))
    # a line of only "\r" is the blank line of a CRLF file
    cr_only = (ends - starts == 1) & (arr[np.minimum(starts, max(arr.shape[0] - 1, 0))] == 13)
    return np.flatnonzero((ends > starts) & ~cr_only)


class NotUtf8(Exception):
    """A chunk of the block is not valid UTF-8: the caller transcodes the whole block."""


def _is_utf8(chunk: Buf) -> bool:
    if isinstance(chunk, bytes) and chunk.isascii():
        return True
    if isinstance(chunk, memoryview) and isinstance(chunk.obj, bytes) and chunk.obj.isascii():
        return True
    try:
        codecs.utf_8_decode(chunk, "strict", True)
    except UnicodeDecodeError:
        return False
    return True


class FileDigest:
    """The SHA-256 of a file, computed from the bytes a reader streams anyway.

    While :meth:`active`, every :class:`BlockSource` reading this file hands over what it
    reads; bytes are taken in file order only (a region read twice counts once), and the
    header before the block, which the reader parsed on its own, is read here once (it
    is small and in the page cache). :meth:`hexdigest` is None unless the whole file was
    covered: then the caller hashes the file itself (a reader that does not stream).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._hash = hashlib.sha256()
        self._done = 0  # bytes hashed, from the start of the file

    @contextmanager
    def active(self) -> Iterator[FileDigest]:
        token = _DIGEST.set(self)
        try:
            yield self
        finally:
            _DIGEST.reset(token)

    def feed(self, offset: int, data: Buf) -> None:
        """``data`` was read at byte ``offset`` of the file."""
        if offset > self._done:
            with open(self.path, "rb") as fh:  # the header the reader parsed by itself
                fh.seek(self._done)
                gap = fh.read(offset - self._done)
            if len(gap) != offset - self._done:
                return
            self._hash.update(gap)
            self._done = offset
        end = offset + len(data)
        if end > self._done:
            self._hash.update(memoryview(data)[self._done - offset :])
            self._done = end

    def hexdigest(self) -> str | None:
        try:
            size = self.path.stat().st_size
        except OSError:
            return None
        return self._hash.hexdigest() if self._done == size else None


_DIGEST: ContextVar[FileDigest | None] = ContextVar("laptrace_file_digest", default=None)


def _digest_for(path: Path | None) -> FileDigest | None:
    digest = _DIGEST.get()
    if digest is None or path is None or digest.path != path:
        return None
    return digest


class BlockSource:
    """Where the block's bytes come from: memory (a view) or a file region, streamed.

    ``transform`` (padding removal) is applied to line-aligned chunks as they stream, so
    even a padded block is never held in memory whole.
    """

    CHUNK = 1 << 22
    #: larger padded blocks are normalised chunk by chunk as they are parsed (each chunk
    #: goes to the threaded read_csv, so this costs no speed, and the text is never whole)
    IN_MEMORY_MAX = 1 << 22

    def __init__(
        self,
        data: Buf | None = None,
        path: Path | None = None,
        offset: int = 0,
        transform: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self._data = data
        self._path = path
        self._offset = offset
        self._transform = transform
        self._lines: int | None = None
        #: bytes per chunk (a parser may widen it for a wide block: see textblock)
        self.chunk_size = self.CHUNK

    @property
    def transformed(self) -> bool:
        """Whether padding is removed on the fly (then only the streaming reader fits)."""
        return self._transform is not None

    def normalised(self, delimiter: bytes) -> BlockSource:
        """The same bytes with padding removed (see :func:`normalise`).

        Up to :attr:`IN_MEMORY_MAX` bytes this is one pass in memory; larger blocks are
        transformed chunk by chunk as they are parsed (see :meth:`line_chunks`), so the
        text is never held whole.
        """
        if self.size() <= self.IN_MEMORY_MAX:
            return BlockSource(data=normalise(self.load(), delimiter))
        return BlockSource(self._data, self._path, self._offset, lambda b: normalise(b, delimiter))

    def _raw_chunks(self) -> Iterator[bytes]:
        if self._data is not None:
            for i in range(0, len(self._data), self.chunk_size):
                yield bytes(self._data[i : i + self.chunk_size])
            return
        assert self._path is not None
        digest = _digest_for(self._path)
        with open(self._path, "rb") as fh:
            pos = self._offset
            fh.seek(pos)
            while chunk := fh.read(self.chunk_size):
                if digest is not None:
                    digest.feed(pos, chunk)
                pos += len(chunk)
                yield chunk

    def chunks(self) -> Iterator[bytes]:
        """The block in chunks; with a transform, cut at line ends and transformed."""
        if self._transform is None:
            yield from self._raw_chunks()
            return
        carry = b""
        for chunk in self._raw_chunks():
            buf = carry + chunk
            cut = buf.rfind(b"\n")
            if cut < 0:
                carry = buf
                continue
            yield self._transform(buf[: cut + 1])
            carry = buf[cut + 1 :]
        if carry:
            yield self._transform(carry)

    def line_chunks(self, check_utf8: bool = False) -> Iterator[Buf]:
        """The block in chunks of about :attr:`CHUNK` bytes, each ending at a line end.

        (Transformed, if padding is removed.) Each chunk is a complete set of rows, so it
        can be parsed on its own. From a file, each chunk is one read (a view of it, no
        copy); the next read starts at the cut. ``check_utf8``: raise :class:`NotUtf8`
        before yielding a chunk that is not valid UTF-8 (chunks end at line ends, so no
        character is ever split).
        """
        for chunk in self._aligned_chunks():
            if check_utf8 and not _is_utf8(chunk):
                raise NotUtf8
            yield chunk

    def _aligned_chunks(self) -> Iterator[Buf]:
        if self._transform is not None:
            yield from self.chunks()
            return
        if self._data is not None:
            carry = b""
            for chunk in self._raw_chunks():
                buf = carry + chunk if carry else chunk
                cut = buf.rfind(b"\n")
                if cut < 0:
                    carry = buf
                    continue
                yield buf[: cut + 1]
                carry = buf[cut + 1 :]
            if carry:
                yield carry
            return
        yield from self._file_line_chunks()

    def _file_line_chunks(self) -> Iterator[Buf]:
        """From the file: one read per chunk, cut at its last line end (a view, no copy)."""
        assert self._path is not None
        digest = _digest_for(self._path)
        with open(self._path, "rb") as fh:
            pos = self._offset
            fh.seek(pos)
            while data := fh.read(self.chunk_size):
                cut = data.rfind(b"\n")
                while cut < 0 and len(data) % self.chunk_size == 0:  # a line longer than a chunk
                    more = fh.read(self.chunk_size)
                    if not more:
                        break
                    data += more
                    cut = data.rfind(b"\n")
                if digest is not None:
                    digest.feed(pos, data)
                if cut < 0 or cut == len(data) - 1:
                    yield data  # the last line, or a read that ends at a line end
                    pos += len(data)
                    continue
                yield memoryview(data)[: cut + 1]
                pos += cut + 1
                fh.seek(pos)  # the cut line is read again with the next chunk

    def head(self) -> bytes:
        return next(self.chunks(), b"")

    def load(self) -> bytes:
        """All the bytes (for error messages and transcoding: the slow, rare paths)."""
        if self._data is not None and self._transform is None:
            return bytes(self._data)
        return b"".join(self.chunks())

    def is_utf8(self) -> bool:
        """Whether the bytes are valid UTF-8 (pyarrow cannot report a bad row that is not)."""
        if isinstance(self._data, bytes) and self._data.isascii():
            return True
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in self.chunks():
                if not (chunk.isascii() and not decoder.getstate()[0]):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        return True

    def size(self) -> int:
        if self._data is not None:
            return len(self._data)
        assert self._path is not None
        return max(self._path.stat().st_size - self._offset, 0)

    def line_count(self) -> int:
        """Lines in the block (a last line without a line end counts); counted once, lazily."""
        if self._lines is None:
            newlines, last = 0, b"\n"
            for chunk in self._raw_chunks():  # newlines survive every transform
                newlines += chunk.count(b"\n")
                last = chunk[-1:] or last
            self._lines = newlines + (0 if last == b"\n" else 1)
        return self._lines

    def note_line_count(self, lines: int) -> None:
        """The block's line count as a full parse found it (:meth:`line_count` then needs no
        pass of its own over the bytes)."""
        self._lines = lines

    def rows_estimate(self) -> int:
        """A generous row count from the block size and the shortest line of its head.

        Over-allocating costs address space only: numpy's large arrays are mapped lazily
        and pages never written are never resident.
        """
        lines = [ln for ln in self.head()[: 1 << 16].split(b"\n")[:-1] if ln.strip()]
        shortest = min((len(ln) + 1 for ln in lines), default=2)
        return int(self.size() / max(shortest, 2) * 1.25) + 64
