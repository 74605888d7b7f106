"""AiM native logs: ``.xrk``, ``.xrz`` (the same, zlib-compressed) and ``.drk``, through libxrk.

The format facts this module relies on are in docs/formats.md#aim-native-logs-xrkxrzdrk.
In short:

- libxrk decodes the message stream into one table per channel (its own millisecond
  timestamps, its own rate). Every channel goes onto the sorted union of all channels'
  timestamps, NaN where it has no sample (:func:`.timebase.union_time_base`); libxrk's
  ``get_channels_as_table`` is not used, it interpolates and forward-fills.
- ``.xrz`` is inflated here (with a size cap and an exact error offset), not by libxrk,
  which would silently keep the readable part of a truncated stream.
- libxrk's Rust decoder is used: it reports the byte ranges it could not decode ("Bad
  bytes(N at X)") where the default decoder skips them silently. Everything libxrk prints,
  from Python or native code, is captured at the file-descriptor level, so a command's
  stdout stays clean; a skipped byte range becomes :class:`LoggerFileError` at that offset,
  anything else a warning.
- The logger's own laps (its LAP messages) become :attr:`Recording.beacons`; the out-lap
  before the first one and the in-lap after the last one stay laps of their own.
- A few header messages are read here too (channel order, unknown unit codes, the GPS
  records' own GPS time, which repairs a record whose logger timestamp is damaged).
"""

from __future__ import annotations

import io
import os
import re
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from storage.types import FloatArray

from . import timebase
from .channels import SourceChannel, build_channels
from .csvmeta import local_start
from .detect import MAGIC, ZLIB_HEADS
from .recording import LoggerFileError, Recording, UnsupportedFormatError

#: an ``.xrz`` that inflates past this is refused (a day of logging is far less)
MAX_INFLATED_BYTES = 1 << 30
#: a channel sample this far outside every other channel's time span is a damaged timestamp
_OUTLIER_MS = 10_000
#: a GPS record whose logger time and GPS time disagree by more than this is re-timed
_GPS_CLOCK_SLIP_MS = 1_000
_GPS_WEEK_MS = 604_800_000
_GPS_RECORD = 56
#: what a captured line may hold before it is cut (a skipped byte range is dumped in hex)
_LINE_MAX = 300

#: the logger's channel functions (libxrk's ``function`` metadata) that name standard channels
_FUNCTIONS = {
    "Engine RPM": "rpm",
    "Lateral Acceleration": "glat",
    "Inline Acceleration": "glong",
}
_GPS_SPEED = "GPS Speed"

_BAD_BYTES = re.compile(rb"Bad bytes\((\d+) at ([0-9a-fA-F]+)\)")
_UNKNOWN_UNITS = re.compile(r"Unknown units\[(\d+)\] for (.+)")
_AT_HEX = re.compile(r"\bat (?:0x)?([0-9a-fA-F]+)\b")
#: the header messages read here: channel set-up, GPS records, the configuration block

_capture_lock = threading.Lock()

IntArray = npt.NDArray[np.int64]


def read(path: Path) -> Recording:
    """Read an AiM ``.xrk``/``.xrz``/``.drk`` log (see the module docstring)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    inflated = raw[:2] in ZLIB_HEADS
    data = _inflate(path, raw) if inflated else raw
    where = " of the inflated log" if inflated else ""
    if not data.startswith(MAGIC):
        raise LoggerFileError(path, f"not an AiM log: it does not start with {MAGIC.decode()!r}{where}", offset=0)

    log, lines, failure = _decode(data)
    _reject_damage(path, lines, failure, len(data), where)
    if log is None or not log.channels:
        raise UnsupportedFormatError(path, "holds no channel with samples: nothing to import")

    warnings: list[str] = []
    unknown_units = _output_warnings(lines, warnings)
    frames = _Frames(data)
    try:
        return _build(path, data, log, frames, unknown_units, warnings, where)
    except _Unusable as exc:
        raise LoggerFileError(path, f"damaged AiM log: {exc}") from None


class _Unusable(ValueError):
    """What libxrk decoded cannot be a recording (checked where it is used)."""


# --- input ----------------------------------------------------------------------------


def _inflate(path: Path, raw: bytes) -> bytes:
    """The log inside an ``.xrz``: the whole zlib stream, checked, at most MAX_INFLATED_BYTES."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, MAX_INFLATED_BYTES + 1)
    except zlib.error as exc:
        raise LoggerFileError(path, f"the compressed data is damaged ({exc})", offset=_zlib_error_at(raw)) from None
    if len(out) > MAX_INFLATED_BYTES or inflater.unconsumed_tail:
        raise LoggerFileError(
            path,
            f"inflates to more than {MAX_INFLATED_BYTES >> 20} MiB: refused",
            offset=len(raw) - len(inflater.unconsumed_tail),
        )
    if not inflater.eof:
        raise LoggerFileError(path, "the compressed log ends early (truncated .xrz?)", offset=len(raw))
    if inflater.unused_data:
        extra = len(inflater.unused_data)
        raise LoggerFileError(path, f"{extra} byte(s) follow the end of the compressed log", offset=len(raw) - extra)
    return out


def _zlib_error_at(raw: bytes) -> int:
    """The byte where a damaged zlib stream fails: 64 KiB steps, then byte by byte."""
    inflater = zlib.decompressobj()
    step = 1 << 16
    for start in range(0, len(raw), step):
        before = inflater.copy()
        try:
            inflater.decompress(raw[start : start + step], 1 << 16)
            while inflater.unconsumed_tail:
                inflater.decompress(inflater.unconsumed_tail, 1 << 16)
        except zlib.error:
            for i in range(start, min(len(raw), start + step)):
                try:
                    before.decompress(raw[i : i + 1], 1 << 16)
                    while before.unconsumed_tail:
                        before.decompress(before.unconsumed_tail, 1 << 16)
                except zlib.error:
                    return i
            return start
    return len(raw)


# --- libxrk ---------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[Any, list[bytes], BaseException | None]:
    """libxrk's decode of ``data``, what it printed, and the exception it raised (if any)."""
    from libxrk._aim_xrk_rs import aim_xrk  # heavy import, only when an AiM log is read

    log: Any = None
    failure: BaseException | None = None
    with _captured_output() as lines:
        try:
            log = aim_xrk(data)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - libxrk raises many types on damaged files, Rust panics too
            failure = exc
    return log, lines, failure


@contextmanager
def _captured_output() -> Iterator[list[bytes]]:
    """Collect what is printed to stdout/stderr, by Python or native code, as lines.

    File descriptors 1 and 2 point at an unnamed temporary file for the duration (native
    code writes there directly); Python's own streams go to a buffer. One capture at a
    time: the descriptors are the process's, so whatever another thread prints meanwhile
    (a Qt message on the GUI thread) lands there too, and shows as a warning of this file.
    """
    lines: list[bytes] = []
    with _capture_lock:
        # a windowed app may have no descriptor 1 or 2: open one for the capture's duration
        # first, so the temporary file does not land on that number itself
        made: list[int] = []
        for fd in (1, 2):
            try:
                os.fstat(fd)
            except OSError:
                null = os.open(os.devnull, os.O_WRONLY)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
                made.append(fd)
        try:
            with tempfile.TemporaryFile() as sink:
                yield from _capture_into(sink, lines)
        finally:
            for fd in made:
                os.close(fd)


def _capture_into(sink: Any, lines: list[bytes]) -> Iterator[list[bytes]]:
    buffer = io.StringIO()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    saved = [(fd, os.dup(fd)) for fd in (1, 2)]
    for fd, _ in saved:
        os.dup2(sink.fileno(), fd)
    handles = _point_std_handles(sink.fileno())
    try:
        with redirect_stdout(buffer), redirect_stderr(buffer):
            yield lines
    finally:
        _restore_std_handles(handles)
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        sink.seek(0)
        lines.extend(line.rstrip(b"\r\n") for line in sink)
        lines.extend(line.encode("utf-8", "replace") for line in buffer.getvalue().splitlines())


def _point_std_handles(fd: int) -> list[tuple[int, int]]:
    """Windows: native code writes to the process's standard handles, not to descriptors
    1 and 2, so those handles are pointed at ``fd`` too; returns what to restore."""
    if sys.platform != "win32":
        return []
    import ctypes
    import msvcrt

    kernel32 = ctypes.windll.kernel32
    target = msvcrt.get_osfhandle(fd)
    saved = []
    for which in (-11, -12):  # STD_OUTPUT_HANDLE, STD_ERROR_HANDLE
        saved.append((which, int(kernel32.GetStdHandle(which) or 0)))
        kernel32.SetStdHandle(which, target)
    return saved


def _restore_std_handles(saved: list[tuple[int, int]]) -> None:
    if sys.platform != "win32" or not saved:
        return
    import ctypes

    for which, handle in saved:
        ctypes.windll.kernel32.SetStdHandle(which, handle)


def _reject_damage(path: Path, lines: list[bytes], failure: BaseException | None, size: int, where: str) -> None:
    """:class:`LoggerFileError` for a byte range libxrk skipped, or for an exception it raised."""
    for line in lines:
        m = _BAD_BYTES.search(line[:200])
        if m is None:
            continue
        count, at = int(m[1]), int(m[2], 16)
        if at + count >= size:
            what = f"the log ends inside a message at byte {at}{where} (truncated?)"
        else:
            what = f"{count} byte(s) from byte {at}{where} are not a valid AiM message (damaged)"
        raise LoggerFileError(path, what, offset=at)
    if failure is not None:
        if isinstance(failure, MemoryError):
            raise LoggerFileError(path, "too large to read into memory") from None
        text = str(failure)
        m2 = _AT_HEX.search(text)
        offset = int(m2[1], 16) if m2 else None
        raise LoggerFileError(
            path, f"damaged AiM log: libxrk failed with {type(failure).__name__}: {text[:200]}", offset=offset
        ) from None


def _output_warnings(lines: list[bytes], warnings: list[str]) -> dict[str, int]:
    """libxrk's printed remarks as warnings (each once); returns the unknown unit codes."""
    unknown: dict[str, int] = {}
    seen: set[str] = set()
    for raw in lines:
        line = raw[:_LINE_MAX].decode("utf-8", "replace").strip()
        if not line or line in seen:
            continue
        seen.add(line)
        m = _UNKNOWN_UNITS.match(line)
        if m is not None:
            unknown[m[2].strip().strip("'\"")] = int(m[1])
            continue
        warnings.append(f"libxrk: {line}")
    for name, code in sorted(unknown.items()):
        warnings.append(f"channel {name!r}: unit code {code} is not known: kept without a unit, not guessed")
    return unknown


# --- header messages read here --------------------------------------------------------


class _Frames:
    """What this module reads from the header messages itself (docs/formats.md#aim-native-logs-xrkxrzdrk).

    The channel order comes from the first configuration block; the GPS records are
    looked up only when a GPS time needs checking.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.buf = np.frombuffer(data, np.uint8)
        first = _frames(data, self.buf, (b"CNF\x00",), limit=12)
        limit = int(first[1][0]) + 8 if first[1].shape[0] else 0
        self.channel_order: list[str] = []
        seen: set[str] = set()
        starts, ends, _ = _frames(data, self.buf, (b"CHS\x00",), limit=limit)
        for start, end in zip(starts.tolist(), ends.tolist()):
            if end - start >= 56:
                name = data[start + 32 : start + 56].split(b"\x00", 1)[0].decode("ascii", "replace")
                if name and name not in seen:
                    seen.add(name)
                    self.channel_order.append(name)

    @cached_property
    def _gps(self) -> tuple[IntArray, IntArray, IntArray]:
        starts, ends, which = _frames(self.data, self.buf, (b"CNF\x00", b"GPS\x00", b"GPS1"))
        cnf = which == 0
        keep = ~cnf & ((ends - starts) % _GPS_RECORD == 0)
        for a, b in zip(starts[cnf].tolist(), ends[cnf].tolist()):  # libxrk ignores GPS inside a CNF block
            keep &= ~((starts >= a) & (starts < b))
        starts, ends = starts[keep], ends[keep]
        offsets = _ranges(starts, (ends - starts) // _GPS_RECORD, _GPS_RECORD)
        logger_ms = _le(self.buf, offsets, 4, signed=True)
        itow = _le(self.buf, offsets + 4, 4, signed=False)
        if itow.shape[0] > 1:
            itow = itow + _GPS_WEEK_MS * np.concatenate(([0], np.cumsum(np.diff(itow) < -_GPS_WEEK_MS // 2)))
        return offsets, logger_ms, itow

    @property
    def gps_offsets(self) -> IntArray:
        """The byte offset of each top-level GPS record, in file order."""
        return self._gps[0]

    @property
    def gps_logger_ms(self) -> IntArray:
        """Each GPS record's logger timestamp as written."""
        return self._gps[1]

    @property
    def gps_itow_ms(self) -> IntArray:
        """Each GPS record's GPS time of week, unwrapped over week ends."""
        return self._gps[2]


def _le(buf: npt.NDArray[np.uint8], at: IntArray, size: int, *, signed: bool) -> IntArray:
    """Little-endian integers of ``size`` bytes at each offset in ``at``."""
    value = np.zeros(at.shape[0], np.int64)
    for k in range(size):
        value |= buf[at + k].astype(np.int64) << (8 * k)
    if signed:
        top = np.int64(1) << (8 * size - 1)
        value = (value ^ top) - top
    return value


def _ranges(starts: IntArray, counts: IntArray, step: int) -> IntArray:
    """``starts[i] + step * j`` for ``j < counts[i]``, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    first = np.repeat(starts, counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return first + step * within


def _frames(
    data: bytes, buf: npt.NDArray[np.uint8], toks: tuple[bytes, ...], limit: int | None = None
) -> tuple[IntArray, IntArray, IntArray]:
    """Payload spans of the ``<h`` header messages of these tokens whose framing and checksum hold.

    A header message is ``<h`` + token (4) + payload length (int32) + version (1) + ``>``,
    the payload, then ``<`` + token + 16-bit byte sum of the payload + ``>``. Returns the
    payload starts and ends and which token each is (its index in ``toks``); with
    ``limit``, only messages starting before it are looked at.
    """
    stop = len(data) if limit is None else limit
    # every '<h' followed by one of the tokens, found with array compares (no Python loop)
    view = buf[: max(0, min(stop, buf.shape[0] - 5))]
    at = np.flatnonzero(view == 0x3C)
    at = at[buf[at + 1] == 0x68]
    which = np.full(at.shape[0], -1, np.int64)
    for i, tok in enumerate(toks):
        hit = which < 0
        for k, byte in enumerate(tok):
            hit &= buf[at + 2 + k] == byte
        which[hit] = i
    keep = which >= 0
    at, which = at.astype(np.int64)[keep], which[keep]
    n = buf.shape[0]
    ok = at + 12 <= n
    at, which = at[ok], which[ok]
    if not at.shape[0]:
        return at, at, which
    hlen = _le(buf, at + 6, 4, signed=True)
    start = at + 12
    end = start + hlen
    ok = (buf[at + 11] == 0x3E) & (hlen >= 0) & (end + 8 <= n)
    at, start, end, which = at[ok], start[ok], end[ok], which[ok]
    ok = (buf[end] == 0x3C) & (buf[end + 7] == 0x3E)
    for k in range(4):
        ok &= buf[end + 1 + k] == buf[at + 2 + k]
    at, start, end, which = at[ok], start[ok], end[ok], which[ok]
    lengths = end - start
    sums = np.zeros(at.shape[0], np.int64)
    if int(lengths.sum()):
        nonempty = lengths > 0
        idx = _ranges(start[nonempty], lengths[nonempty], 1)
        sums[nonempty] = np.add.reduceat(buf[idx].astype(np.int64), np.cumsum(lengths[nonempty]) - lengths[nonempty])
    ok = (sums & 0xFFFF) == _le(buf, end + 5, 2, signed=False)
    return start[ok], end[ok], which[ok]


# --- building the recording -----------------------------------------------------------


@dataclass
class _Group:
    """Channels sharing one set of timestamps (libxrk's milliseconds)."""

    t_ms: IntArray
    names: list[str]
    units: list[str]
    values: list[FloatArray]


def _build(
    path: Path, data: bytes, log: Any, frames: _Frames, unknown_units: dict[str, int], warnings: list[str], where: str
) -> Recording:
    from libxrk import GPS_CHANNEL_NAMES, ChannelMetadata

    names = _ordered(list(log.channels), frames.channel_order, list(GPS_CHANNEL_NAMES))
    groups: list[_Group] = []
    functions: dict[str, str] = {}
    for name in names:
        table = log.channels[name]
        t_ms = _column(table.column("timecodes")).astype(np.int64, copy=False)
        values = _column(table.column(name)).astype(np.float64)
        info = ChannelMetadata.from_channel_table(table)
        if info.function:
            functions[name] = info.function
        for g in groups:
            if g.t_ms.shape == t_ms.shape and np.array_equal(g.t_ms, t_ms):
                break
        else:
            g = _Group(t_ms, [], [], [])
            groups.append(g)
        g.names.append(name)
        g.units.append(info.units)
        g.values.append(values)

    for g in groups:
        if _GPS_SPEED in g.names or any(n in GPS_CHANNEL_NAMES for n in g.names):
            g.t_ms = _repair_gps_times(path, g.t_ms, frames, warnings, where)
    _reject_outliers(path, data, groups, frames, where)

    timed: list[tuple[IntArray, list[FloatArray]]] = []
    sources: list[SourceChannel] = []
    for g in groups:
        t_us = g.t_ms * 1000
        group_warnings: list[str] = []
        timebase.check_backward_steps(t_us, path, group_warnings)
        t_us, cols = timebase.merge_repeated(t_us, g.values, group_warnings)
        warnings.extend(f"{g.names[0]} and its group: {w}" for w in group_warnings)
        timed.append((t_us, cols))
        sources.extend(SourceChannel(n, u, np.empty(0)) for n, u in zip(g.names, g.units))
    union, placed = timebase.union_time_base(timed)
    for src, column in zip(sources, (c for cols in placed for c in cols)):
        src.values = column

    overrides = {std: name for name, fn in functions.items() if (std := _FUNCTIONS.get(fn)) is not None}
    if _GPS_SPEED in log.channels:
        overrides.setdefault("speed", _GPS_SPEED)
    with np.errstate(over="ignore", invalid="ignore"):
        channels = build_channels("aim", sources, warnings, overrides=_first_per_standard(overrides, names))

    meta = dict(log.metadata or {})
    metadata = {
        k.lower(): str(v).strip() for k, v in meta.items() if isinstance(v, str | int | float) and str(v).strip()
    }
    if unknown_units:
        metadata["unknown unit codes"] = ", ".join(f"{n}: {c}" for n, c in sorted(unknown_units.items()))
    t0_ms = int(union[0]) / 1000.0 if union.shape[0] else 0.0
    # the fastest group's rate: the median step of the group with the most samples per second
    timed_groups = [g for g in groups if g.t_ms.shape[0] > 1 and g.t_ms[-1] > g.t_ms[0]]
    fastest = max(timed_groups, key=lambda g: g.t_ms.shape[0] / float(g.t_ms[-1] - g.t_ms[0]), default=None)
    step = float(np.median(np.diff(fastest.t_ms))) if fastest is not None else 0.0
    rates = [1000.0 / step] if step > 0 else []
    rec = Recording(
        path=path,
        format="aim",
        time=timebase.relative_seconds(union),
        channels=channels,
        logger=_logger(meta),
        started_at=local_start(
            str(meta.get("Log Date") or "") or None,
            str(meta.get("Log Time") or "") or None,
            month_first=True,
            warnings=warnings,
        ),
        sample_rate_hz=round(max(rates), 3) if rates else None,
        beacons=_beacons(log.laps, t0_ms, warnings),
        track=str(meta.get("Venue") or "").strip() or None,
        metadata=metadata,
        warnings=warnings,
    )
    rec.check()
    return rec


#: Arrow primitive types (by name) as numpy dtypes
_NUMPY_TYPES = {
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "halffloat": np.float16, "float": np.float32, "double": np.float64,
}  # fmt: skip


def _column(column: Any) -> npt.NDArray[Any]:
    """An Arrow column of numbers as a numpy view of its buffer, missing values as NaN.

    Read from the buffers directly: pyarrow's ``to_numpy`` imports pandas on first use,
    which costs more time and memory than the whole read.
    """
    parts: list[npt.NDArray[Any]] = []
    for chunk in column.chunks:
        dtype = _NUMPY_TYPES.get(str(chunk.type))
        if dtype is None:
            raise _Unusable(f"libxrk gave a column of {chunk.type}, not numbers")
        n, offset = len(chunk), chunk.offset
        validity, data = chunk.buffers()[:2]
        values = (
            np.frombuffer(data, dtype, count=n, offset=offset * np.dtype(dtype).itemsize) if n else np.zeros(0, dtype)
        )
        if chunk.null_count:
            bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")[offset : offset + n]
            values = np.where(bits.astype(bool), values.astype(np.float64), np.nan)
        parts.append(values)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, np.float64)


def _ordered(present: list[str], file_order: list[str], gps: list[str]) -> list[str]:
    """Channels in the file's own order, then libxrk's GPS channels, then anything else."""
    have = set(present)
    out = [n for n in file_order if n in have]
    out += [n for n in gps if n in have and n not in out]
    taken = set(out)
    return out + sorted(n for n in present if n not in taken)


def _first_per_standard(overrides: dict[str, str], order: list[str]) -> dict[str, str]:
    """One source per standard channel: the first in file order among those named for it."""
    rank = {n: i for i, n in enumerate(order)}
    best: dict[str, str] = {}
    for std, name in sorted(overrides.items(), key=lambda kv: rank.get(kv[1], 0)):
        best.setdefault(std, name)
    return best


def _repair_gps_times(path: Path, t_ms: IntArray, frames: _Frames, warnings: list[str], where: str) -> IntArray:
    """Re-time GPS records whose logger timestamp is damaged, from their own GPS time.

    Each GPS record carries the logger's millisecond clock and the receiver's GPS time of
    week; on a sound record the two differ by one constant (a few ms of jitter). A record
    that is out of order and off that constant by more than a second gets the logger time
    its GPS time implies, if that falls between its neighbours; otherwise the file is
    rejected at the record's byte offset.
    """
    n = t_ms.shape[0]
    if n < 2 or np.all(np.diff(t_ms) > 0):
        return t_ms
    if frames.gps_itow_ms.shape[0] != n:
        return t_ms  # not the records libxrk decoded: leave the order check to decide
    raw = frames.gps_logger_ms
    shift = int(np.median(raw - t_ms))
    if np.count_nonzero(raw - t_ms == shift) < 0.9 * n:
        return t_ms  # libxrk re-timed these itself (a firmware fix): not ours to repeat
    clock = t_ms - frames.gps_itow_ms
    usual = int(np.median(clock))
    out = t_ms.copy()
    fixed: list[str] = []
    back = np.flatnonzero(np.diff(t_ms) < 0) + 1
    for k in back:
        # the out-of-order record is the one whose clocks disagree: k, or the one before it
        bad = next((j for j in (int(k), int(k) - 1) if abs(int(clock[j]) - usual) > _GPS_CLOCK_SLIP_MS), None)
        if bad is None:
            continue
        # placed after its neighbour by the receiver's own step (the two clocks drift apart
        # over a session, so the neighbour is a closer reference than the session's median)
        if bad > 0:
            new = int(out[bad - 1] + frames.gps_itow_ms[bad] - frames.gps_itow_ms[bad - 1])
        else:
            new = int(out[1] - (frames.gps_itow_ms[1] - frames.gps_itow_ms[0]))
        lo = out[bad - 1] if bad > 0 else np.iinfo(np.int64).min
        hi = out[bad + 1] if bad + 1 < n else np.iinfo(np.int64).max
        offset = int(frames.gps_offsets[bad])
        if not lo < new < hi:
            raise LoggerFileError(
                path,
                f"GPS record {bad + 1} at byte {offset}{where} has a damaged time "
                f"({out[bad] / 1000:.3f} s) that its GPS time does not place between its neighbours",
                offset=offset,
            )
        fixed.append(f"record {bad + 1} at byte {offset}{where}: {out[bad] / 1000:.3f} s -> {new / 1000:.3f} s")
        out[bad] = new
    if fixed:
        warnings.append(
            f"{len(fixed)} GPS record(s) had a logger time out of order with their own GPS time, "
            f"re-timed from the GPS time ({'; '.join(fixed[:3])})"
        )
    return out


def _reject_outliers(path: Path, data: bytes, groups: list[_Group], frames: _Frames, where: str) -> None:
    """:class:`LoggerFileError` for a channel sample far outside every other channel's span.

    libxrk keeps a channel's samples only while its timestamps increase, so one damaged
    timestamp in the future hides the rest of that channel; a sample hours after the others
    end is such damage, not data.
    """
    if len(groups) < 2:
        return
    firsts = [int(g.t_ms[0]) for g in groups if g.t_ms.shape[0]]
    lasts = [int(g.t_ms[-1]) for g in groups if g.t_ms.shape[0]]
    for i, g in enumerate(groups):
        if not g.t_ms.shape[0]:
            continue
        others_first = min(f for j, f in enumerate(firsts) if j != i)
        others_last = max(x for j, x in enumerate(lasts) if j != i)
        late = np.flatnonzero(g.t_ms > others_last + _OUTLIER_MS)
        early = np.flatnonzero(g.t_ms < others_first - _OUTLIER_MS)
        if not late.shape[0] and not early.shape[0]:
            continue
        k = int(late[0]) if late.shape[0] else int(early[-1])
        t = int(g.t_ms[k])
        side = "after every other channel ends" if late.shape[0] else "before every other channel starts"
        gap = (t - others_last) if late.shape[0] else (others_first - t)
        offset = _sample_offset(data, frames, groups, g, k)
        at = f" (the byte offset is{where})" if offset is not None and where else ""
        raise LoggerFileError(
            path,
            f"channel {g.names[0]!r} has a sample at {t / 1000:.3f} s, {gap / 1000:.1f} s {side}{at}: "
            "a damaged timestamp",
            offset=offset,
        )


def _sample_offset(data: bytes, frames: _Frames, groups: list[_Group], group: _Group, k: int) -> int | None:
    """The byte offset of a channel sample's message, where it can be found.

    A GPS sample is a GPS record found by :class:`_Frames`. Any other sample is looked
    up by its timestamp as written: libxrk's times are the file's minus one constant, which
    the GPS records give; ``(G``, ``(S`` and ``(M`` data messages carry the time right after
    their two-byte opening.
    """
    gps = next((g for g in groups if _GPS_SPEED in g.names), None)
    if gps is None or frames.gps_logger_ms.shape[0] != gps.t_ms.shape[0] or not gps.t_ms.shape[0]:
        return None
    if group is gps:
        return int(frames.gps_offsets[k])
    shift = int(np.median(frames.gps_logger_ms - gps.t_ms))
    written = int(group.t_ms[k]) + shift
    if not -(1 << 31) <= written < 1 << 31:
        return None
    stamp = struct.pack("<i", written)
    found = [at for op in (b"(G", b"(S", b"(M") if (at := data.find(op + stamp)) >= 0]
    return min(found) if found else None


def _logger(meta: dict[str, Any]) -> str:
    model = str(meta.get("Logger Model") or "").strip()
    if model:
        return f"AiM {model}"
    model_id = meta.get("Logger Model ID")
    return f"AiM (model id {model_id})" if model_id not in (None, "") else "AiM"


def _beacons(laps: Any, t0_ms: float, warnings: list[str]) -> list[float] | None:
    """The logger's laps as lap-boundary times (seconds on the recording's time base).

    Every lap's start is a boundary (the first one ends the out-lap); the last lap's end is
    one too unless libxrk calls it the in-lap, which ends where logging stopped.
    """
    if laps is None or laps.num_rows == 0:
        return None
    rows = [
        (int(a), int(b), str(k))
        for a, b, k in zip(*(laps.column(c).to_pylist() for c in ("start_time", "end_time", "lap_type")))
        if a is not None and b is not None
    ]
    if not rows:
        return None
    starts, ends, kinds = (list(col) for col in zip(*rows))
    marks = list(starts)
    if kinds[-1] != "in":
        marks.append(ends[-1])
    if any(b <= a for a, b in zip(starts, ends)):
        warnings.append("the logger's laps include one that ends before it starts: laps used as written")
    return [(m - t0_ms) / 1000.0 for m in sorted(set(marks))]
