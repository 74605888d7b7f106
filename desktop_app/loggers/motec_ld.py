"""MoTeC native logs (``.ld``), with the ``.ldx`` sidecar when one lies beside it.

The layout (little-endian, fixed offsets, found by the community parsers and checked on
MoTeC's demo log) is written down in docs/formats.md#motec-native-logs-ldldx. In short: a
header at byte 0 (marker 0x40, pointers to the channel list and the event block, device,
date, time, driver, vehicle, venue, session, comment), a linked list of 124-byte channel
blocks (name, unit, rate, type, scaling, a pointer to the samples), and each channel's
samples as one contiguous little-endian block.

Every channel keeps its own rate: sample ``k`` of a channel at ``r`` Hz is at ``k / r`` s,
and all channels go on the sorted union of those instants, NaN where a channel has no
sample (nothing resampled). Values are decoded with numpy straight into their column.

Every pointer and count is checked against the file before anything is allocated: a
damaged file raises :class:`LoggerFileError` naming the byte offset of the field at fault.
Laps come from the ``.ldx`` when there is one, else from the file's own lap channels
(:mod:`.motec_laps`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from storage.types import FloatArray

from . import motec_laps, motec_ldx
from .channels import SourceChannel, build_channels
from .csvmeta import local_start
from .motec import logger_name
from .recording import LoggerFileError, Recording
from .timebase import IntArray, relative_seconds

MARKER = 0x40
#: the header fields read end here (the short comment)
HEADER_BYTES = 1636
CHANNEL_BLOCK_BYTES = 124
#: a union of sample instants larger than this many times the longest channel means rates
#: that do not belong to one log (damage): refused before the columns are allocated
MAX_UNION_FACTOR = 4
#: the float64 columns of one recording may not exceed this (a file this big is damaged)
MAX_COLUMN_BYTES = 16 * 1024**3
_EVENT_BYTES = 1154  # name, session, comment, venue pointer
_VENUE_BYTES = 1100  # name, ..., vehicle pointer
_VEHICLE_BYTES = 260  # id, description, ..., weight, type, comment
#: (type code, size) -> sample dtype; codes 0 (beacon channels), 3 and 5 are integers
_DTYPES: dict[tuple[int, int], np.dtype[np.generic]] = {
    (0, 2): np.dtype("<i2"),
    (3, 2): np.dtype("<i2"),
    (5, 2): np.dtype("<i2"),
    (0, 4): np.dtype("<i4"),
    (3, 4): np.dtype("<i4"),
    (5, 4): np.dtype("<i4"),
    (7, 2): np.dtype("<f2"),
    (7, 4): np.dtype("<f4"),
}
_CHANNEL = struct.Struct("<IIIIHHHHhhhh32s8s12s")


@dataclass(frozen=True)
class ChannelBlock:
    """One channel block as the file gives it (``offset``: where the block starts)."""

    offset: int
    name: str
    short_name: str
    unit: str
    type_code: int
    size: int
    rate: int
    count: int
    data_at: int
    shift: int
    mul: int
    scale: int
    dec: int

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return _DTYPES[(self.type_code, self.size)]

    @property
    def nbytes(self) -> int:
        return self.count * self.size

    @property
    def duration(self) -> float:
        return self.count / self.rate if self.rate else 0.0

    def factors(self) -> tuple[int, int, float]:
        """(numerator, denominator, offset): ``value = raw * num / den + offset``.

        Scaled as ``(raw / scale * 10**-dec + shift) * mul``, kept as an integer fraction
        so that ``dec`` decimal places come out as the decimals they are (199 -> 19.9).
        """
        num = self.mul * 10 ** max(-self.dec, 0)
        den = self.scale * 10 ** max(self.dec, 0)
        return num, den, float(self.shift * self.mul)


@dataclass
class Layout:
    """Where everything is: header fields (as metadata) and the channel blocks."""

    metadata: dict[str, str]
    channels: list[ChannelBlock]
    warnings: list[str]


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _text(raw: bytes) -> str:
    # Windows software: fixed-size, NUL-padded fields in the ANSI code page
    return raw.split(b"\0", 1)[0].decode("cp1252", errors="replace").strip()


def _field(data: bytes, at: int, size: int) -> str:
    return _text(data[at : at + size])


def _block(path: Path, data: bytes, pointer_at: int, size: int, what: str) -> int:
    """The block a pointer field points at (0: none), checked to lie inside the file."""
    ptr = _u32(data, pointer_at) if what == "event" else _u16(data, pointer_at)
    if ptr and (ptr < MARKER or ptr + size > len(data)):
        raise LoggerFileError(
            path,
            f"the {what} block pointer {ptr} is outside the file ({len(data)} bytes, the block takes {size})",
            offset=pointer_at,
        )
    return ptr


def read_layout(path: Path, data: bytes) -> Layout:
    """The header fields and the checked channel blocks of an ``.ld`` held in ``data``."""
    if len(data) < 4 or _u32(data, 0) != MARKER:
        raise LoggerFileError(
            path,
            f"not a MoTeC .ld: the file does not start with the marker 0x40 ({data[:4].hex() or 'empty'})",
            offset=0,
        )
    if len(data) < HEADER_BYTES:
        raise LoggerFileError(
            path, f"the file ends inside the header ({len(data)} of {HEADER_BYTES} bytes)", offset=len(data)
        )
    warnings: list[str] = []
    meta: dict[str, str] = {}

    def put(key: str, value: str) -> None:
        if value:
            meta[key] = value

    put("Log Date", _field(data, 94, 16))
    put("Log Time", _field(data, 126, 16))
    put("Driver", _field(data, 158, 64))
    put("Vehicle", _field(data, 222, 64))
    put("Venue", _field(data, 350, 64))
    put("Session", _field(data, 1508, 64))
    put("Comment", _field(data, 1572, 64))
    put("Device", _field(data, 74, 8))
    serial = _u32(data, 70)
    put("Device Serial", str(serial) if serial else "")
    version = _u16(data, 82)
    put("Device Version", f"{version / 100:.2f}" if version else "")

    event = _block(path, data, 36, _EVENT_BYTES, "event")
    if event:
        put("Event", _field(data, event, 64))
        meta.setdefault("Session", _field(data, event + 64, 64))
        put("Long Comment", _field(data, event + 128, 1024))
        venue = _block(path, data, event + 1152, _VENUE_BYTES, "venue")
        if venue:
            meta.setdefault("Venue", _field(data, venue, 64))
            vehicle = _block(path, data, venue + 1098, _VEHICLE_BYTES, "vehicle")
            if vehicle:
                meta.setdefault("Vehicle", _field(data, vehicle, 64))
                put("Vehicle Desc", _field(data, vehicle + 64, 64))
                weight = _u32(data, vehicle + 192)
                put("Vehicle Weight", str(weight) if weight else "")
                put("Vehicle Type", _field(data, vehicle + 196, 32))
                put("Vehicle Comment", _field(data, vehicle + 228, 32))
    meta = {k: v for k, v in meta.items() if v}
    return Layout(meta, _channel_blocks(path, data, warnings), warnings)


def _channel_blocks(path: Path, data: bytes, warnings: list[str]) -> list[ChannelBlock]:
    size = len(data)
    declared = _u16(data, 86)
    first = _u32(data, 8)
    if first == 0:
        raise LoggerFileError(path, "the header points at no channel list: nothing to import", offset=8)
    # every block takes 124 bytes of the file, so no honest list is longer than this
    limit = size // CHANNEL_BLOCK_BYTES
    blocks: list[ChannelBlock] = []
    seen: set[int] = set()
    ptr, pointer_at = first, 8
    while ptr:
        if ptr < MARKER or ptr + CHANNEL_BLOCK_BYTES > size:
            raise LoggerFileError(
                path, f"channel block pointer {ptr} is outside the file ({size} bytes)", offset=pointer_at
            )
        if ptr in seen:
            raise LoggerFileError(path, f"the channel list loops back to byte {ptr}", offset=pointer_at)
        if len(blocks) >= limit:
            raise LoggerFileError(path, f"more than {limit} channel blocks in a {size}-byte file", offset=pointer_at)
        seen.add(ptr)
        blocks.append(_channel(path, data, ptr))
        ptr, pointer_at = _u32(data, ptr + 4), ptr + 4
    if declared != len(blocks):
        warnings.append(f"the header counts {declared} channels, the channel list holds {len(blocks)}")
    _check_data_blocks(path, blocks, size)
    return blocks


def _channel(path: Path, data: bytes, at: int) -> ChannelBlock:
    (_, _, data_at, count, _, type_code, size, rate, shift, mul, scale, dec, name, short, unit) = _CHANNEL.unpack_from(
        data, at
    )
    blk = ChannelBlock(
        at, _text(name), _text(short), _text(unit), type_code, size, rate, count, data_at, shift, mul, scale, dec
    )
    label = f"channel {blk.name!r} (block at byte {at})"
    if count == 0:
        return blk
    if (type_code, size) not in _DTYPES:
        raise LoggerFileError(
            path,
            f"{label}: sample type {type_code}/size {size} is not int16, int32, float16 or float32",
            offset=at + 18,
        )
    if rate == 0:
        raise LoggerFileError(path, f"{label}: sample rate 0 Hz with {count} samples", offset=at + 22)
    if scale == 0 or mul == 0:
        raise LoggerFileError(path, f"{label}: scaling multiplier {mul} / scale {scale} is void", offset=at + 26)
    if abs(dec) > 12:
        raise LoggerFileError(path, f"{label}: {dec} decimal places is not a scaling", offset=at + 30)
    return blk


def _check_data_blocks(path: Path, blocks: list[ChannelBlock], size: int) -> None:
    """Every sample block inside the file and no two overlapping (which bounds all counts)."""
    for blk in blocks:
        if blk.count and blk.data_at + blk.nbytes > size:
            raise LoggerFileError(
                path,
                f"channel {blk.name!r}: {blk.count} samples of {blk.size} bytes at byte {blk.data_at} "
                f"run past the end of the file ({size} bytes)",
                offset=blk.offset + 8,
            )
    spans = sorted((b.data_at, b.data_at + b.nbytes, b) for b in blocks if b.count)
    for (_, end, left), (start, _, right) in zip(spans, spans[1:]):
        if start < end:
            raise LoggerFileError(
                path,
                f"channel {right.name!r}'s samples (from byte {start}) overlap channel {left.name!r}'s "
                f"(up to byte {end})",
                offset=right.offset + 8,
            )


@dataclass
class _Placement:
    """How one (rate, count) group of channels sits on the union: a slice or indices."""

    where: slice | IntArray


def _union(path: Path, blocks: list[ChannelBlock]) -> tuple[IntArray, float, dict[tuple[int, int], _Placement]]:
    """The union of every channel's sample instants (µs), the fastest rate, and each group's place."""
    groups = sorted({(b.rate, b.count) for b in blocks if b.count})
    top = max(r for r, _ in groups)
    longest = max(n for _, n in groups)
    if all(top % r == 0 for r, _ in groups):
        # every instant is on the fastest channel's grid: integer ticks of 1/top s
        ends = {(r, n): (n - 1) * (top // r) + 1 for r, n in groups}
        span = max(ends.values())
        if any(r == top and n == span for r, n in groups):  # one channel covers the whole grid
            ticks = np.arange(span, dtype=np.int64)
            places: dict[tuple[int, int], _Placement] = {
                (r, n): _Placement(slice(0, ends[(r, n)], top // r)) for r, n in groups
            }
            return np.rint(ticks * (1e6 / top)).astype(np.int64), float(top), places
        stamps = {(r, n): np.arange(n, dtype=np.int64) * (top // r) for r, n in groups}
        to_us = 1e6 / top
    else:
        stamps = {(r, n): np.rint(np.arange(n) * (1e6 / r)).astype(np.int64) for r, n in groups}
        to_us = 1.0
    union = np.unique(np.concatenate(list(stamps.values())))
    if union.shape[0] > MAX_UNION_FACTOR * longest:
        odd = max((b for b in blocks if b.count and top % b.rate), key=lambda b: b.count, default=blocks[0])
        raise LoggerFileError(
            path,
            f"the channels' rates give {union.shape[0]} distinct sample instants, over {MAX_UNION_FACTOR}x the "
            f"longest channel's {longest}: rates that do not belong to one log ({odd.name!r}: {odd.rate} Hz)",
            offset=odd.offset + 22,
        )
    places = {g: _Placement(np.searchsorted(union, s)) for g, s in stamps.items()}
    us = union if to_us == 1.0 else np.rint(union * to_us).astype(np.int64)
    return us, float(top), places


def _decode(data: bytes, blk: ChannelBlock, out: npt.NDArray[np.float64]) -> None:
    """Scale a channel's samples into ``out`` (float64, one slot per sample)."""
    raw = np.frombuffer(data, blk.dtype, blk.count, blk.data_at)
    num, den, add = blk.factors()
    with np.errstate(over="ignore", invalid="ignore"):
        if num == 1 and den == 1:
            np.copyto(out, raw, casting="safe")
        elif num == 1:
            np.divide(raw, den, out=out, dtype=np.float64)
        elif den == 1:
            np.multiply(raw, num, out=out, dtype=np.float64)
        else:
            np.multiply(raw, num, out=out, dtype=np.float64)
            np.divide(out, den, out=out)
        if add:
            out += add


def _columns(
    path: Path, data: bytes, blocks: list[ChannelBlock]
) -> tuple[IntArray, float | None, list[FloatArray], dict[int, FloatArray]]:
    """The union time base, the fastest rate, every channel's column, and each channel's own samples."""
    timed = [b for b in blocks if b.count]
    if not timed:
        raise LoggerFileError(path, "no channel holds samples: nothing to import", offset=8)
    union, top, places = _union(path, timed)
    n = union.shape[0]
    if n * len(blocks) * 8 > MAX_COLUMN_BYTES:
        raise LoggerFileError(path, f"{len(blocks)} channels x {n} samples is too large to read into memory", offset=8)
    columns: list[FloatArray] = []
    own: dict[int, FloatArray] = {}
    for i, blk in enumerate(blocks):
        if not blk.count:
            columns.append(np.full(n, np.nan))
            continue
        where = places[(blk.rate, blk.count)].where
        if isinstance(where, slice) and where.step == 1 and blk.count == n:
            col = np.empty(n)
            _decode(data, blk, col)
            own[i] = col
        elif isinstance(where, slice):
            col = np.full(n, np.nan)
            _decode(data, blk, col[where])
            own[i] = col[where]
        else:
            col = np.full(n, np.nan)
            values = np.empty(blk.count)
            _decode(data, blk, values)
            col[where] = values
            own[i] = values
        columns.append(col)
    return union, top, columns, own


#: lap channels by their MoTeC names (lower case), in the roles :mod:`.motec_laps` takes
_LAP_CHANNELS = {
    "beacon": ("beacon",),
    "running": ("running lap time",),
    "lap_time": ("lap time",),
    "counter": ("lap number", "laps"),
}


def _laps(
    blocks: list[ChannelBlock], own: dict[int, FloatArray], end_s: float
) -> tuple[motec_laps.LapTiming, str | None]:
    by_name: dict[str, int] = {}
    for i, blk in enumerate(blocks):
        if i in own:
            by_name.setdefault(blk.name.lower(), i)
    found: dict[str, motec_laps.LapChannel] = {}
    for role, names in _LAP_CHANNELS.items():
        for name in names:
            if name in by_name:
                i = by_name[name]
                blk = blocks[i]
                values = own[i]
                found[role] = motec_laps.LapChannel(blk.name, np.arange(values.shape[0]) / blk.rate, values)
                break
    with np.errstate(invalid="ignore", over="ignore"):  # damaged float samples may be inf or NaN
        timing = motec_laps.lap_timing(end_s, **found)
    counter = found["counter"].name if "counter" in found else None
    return timing, counter


def read(path: Path) -> Recording:
    """Read a MoTeC ``.ld`` log (and the ``.ldx`` beside it) into a :class:`Recording`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    layout = read_layout(path, data)
    warnings = layout.warnings
    blocks = layout.channels
    try:
        union, top, columns, own = _columns(path, data, blocks)
    except MemoryError:
        raise LoggerFileError(path, "too large to read into memory") from None
    time = relative_seconds(union)
    end_s = float(time[-1]) if time.shape[0] else 0.0
    _check_durations(blocks, warnings)
    empty = [b.name for b in blocks if not b.count]
    if empty:
        warnings.append(f"{len(empty)} channel(s) hold no samples (kept empty): {', '.join(empty[:5])}")

    meta = layout.metadata
    beacons: list[float] | None
    lap_counter_source: str | None = None
    ldx_path = motec_ldx.sidecar(path)
    ldx: motec_ldx.Ldx | None = None
    if ldx_path is not None:
        try:
            ldx = motec_ldx.read(ldx_path)
        except LoggerFileError as exc:
            warnings.append(f"{exc}: laps from the log's own lap channels instead")
    if ldx is not None:
        beacons = ldx.beacons
        warnings.extend(ldx.warnings)
        meta.update({f"ldx {k}": v for k, v in ldx.details.items()})
        meta["Lap Source"] = f"{ldx.path.name} beacons"
    else:
        timing, counter = _laps(blocks, own, end_s)
        beacons = timing.beacons
        warnings.extend(timing.notes)
        if timing.use_counter:
            lap_counter_source = counter
        if timing.summary:
            meta["Lap Source"] = timing.summary
        if timing.logged_lap_times:
            meta["Logged Lap Times"] = " ".join(f"{t:.3f}" for t in timing.logged_lap_times)
    del own

    sources = [
        SourceChannel(b.name or f"channel {i + 1}", b.unit, col) for i, (b, col) in enumerate(zip(blocks, columns))
    ]
    del columns
    with np.errstate(over="ignore", invalid="ignore"):
        channels = build_channels("motec", sources, warnings)
    lap_counter = None
    if lap_counter_source is not None:
        lap_counter = next((k for k, c in channels.items() if c.source_name == lap_counter_source), None)
    device = meta.get("Device", "")
    rec = Recording(
        path=path,
        format="motec",
        time=time,
        channels=channels,
        logger=logger_name(device),
        started_at=local_start(meta.get("Log Date"), meta.get("Log Time"), month_first=False, warnings=warnings),
        sample_rate_hz=top,
        beacons=beacons,
        lap_counter=lap_counter,
        track=meta.get("Venue") or None,
        metadata=meta,
        warnings=warnings,
    )
    rec.check()
    return rec


def _check_durations(blocks: list[ChannelBlock], warnings: list[str]) -> None:
    """A channel much shorter or longer than the log is worth a word (a mislabelled rate?)."""
    timed = [b for b in blocks if b.count]
    longest = max(b.duration for b in timed)
    off = [b for b in timed if longest - b.duration > max(1.0, 0.01 * longest)]
    if off:
        listed = ", ".join(f"{b.name!r} {b.duration:.1f} s" for b in off[:5])
        warnings.append(f"{len(off)} channel(s) end before the log's {longest:.1f} s: {listed}")
