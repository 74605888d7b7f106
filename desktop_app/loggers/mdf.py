"""ASAM MDF (4.x, and 3.x through asammdf) reader (docs/formats.md#asam-mdf).

Every channel group has its own master (found by channel type, not name) and rate; all
groups go on the sorted union of their real timestamps (integer microseconds), a channel
being NaN where its group has no sample (:func:`.timebase.union_time_base`). The header's
absolute start (with its zone) becomes ``started_at`` in UTC. Plain numeric channels are
copied straight out of the records into float64, the others come from asammdf's ``select`` a
few at a time (docs/formats.md#mdf-reading).

Raw bus logs (``CAN_DataFrame``... and no decoded signal) are decoded with the DBC files
lying next to the MF4 (``extract_bus_logging``); with no DBC there, they are rejected with
:class:`UnsupportedFormatError` asking for one. ``UnFinMF`` (unfinalised) files are read
with a warning.
"""

from __future__ import annotations

import mmap
import re
import struct
import warnings as pywarnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from storage.types import FloatArray

from . import timebase
from .aliases import name_key
from .channels import SourceChannel, build_channels, checked_lap_counter, normalise_unit
from .recording import Channel, LoggerFileError, Recording, UnsupportedFormatError

#: ASAM bus-logging frame channels: a group holding one of these carries raw frames
_RAW_FRAMES = {
    "CAN_DataFrame", "CAN_ErrorFrame", "CAN_RemoteFrame", "CAN_OverloadFrame",
    "LIN_Frame", "LIN_ChecksumError", "LIN_ReceiveError", "LIN_SyncError",
    "LIN_TransmissionError", "LIN_WakeUp", "LIN_Spike", "LIN_LongDom",
    "FLX_Frame", "FLX_NullFrame", "FLX_StartCycle", "ETH_Frame", "MOST_Packet",
}  # fmt: skip
_MASTER_TYPES = (2, 3)  # master, virtual master
_WRITERS = {"TGT": "Vector CANape", "CE": "CSS Electronics CANedge"}
_LAP_COUNTERS = ("lapctr", "lap number", "lap_number", "lapnumber")
#: MDF 3 HD block: the common part; longer blocks (3.20+) add the time stamp and zone
_MDF3_HEADER_COMMON_SIZE = 164
_EPOCH = datetime(1970, 1, 1)


#: deflate cannot expand data more than about 1032 times: a block claiming more is damaged
_DEFLATE_MAX_RATIO = 1100
_ADDRESS = re.compile(r"(?:@ ?|\bat |address |offset )(0x[0-9a-fA-F]+|\d{2,})")


def _address(message: str, size: int) -> int | None:
    """A byte offset named in an asammdf error message (``@0x11c860``), if it is inside the file.

    An address past the end means the file ends too early: its end is the place.
    """
    m = _ADDRESS.search(message)
    if m is None:
        return None
    value = int(m.group(1), 0)
    return value if 0 <= value <= size else size


_BLOCK_HEADER = struct.Struct("<4s4xQQ")
#: blocks walked at most when looking for a broken link (the walk is a diagnosis only)
_WALK_MAX_BLOCKS = 200_000


def _broken_link(path: Path) -> int | None:
    """The byte offset of the first MDF 4 link that points outside the file or at no block.

    Used only to locate the damage after asammdf refused a file without naming a place:
    every block starts with ``##XX``, its length and link count, then the links; the walk
    follows all links from the header block at byte 64.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    size = len(data)
    if size < 64 + 24 or not data.startswith((b"MDF     4", b"UnFinMF 4")):
        return None
    seen: set[int] = set()
    todo = [(64, 0)]  # (block address, offset of the link that points at it)
    while todo and len(seen) < _WALK_MAX_BLOCKS:
        address, via = todo.pop()
        if address in seen:
            continue
        seen.add(address)
        if address + 24 > size:
            return via
        ident, length, links = _BLOCK_HEADER.unpack_from(data, address)
        if not ident.startswith(b"##") or length < 24 + 8 * links or address + length > size:
            return via or address
        for i in range(links):
            at = address + 24 + 8 * i
            (link,) = struct.unpack_from("<Q", data, at)
            if link:
                todo.append((link, at))
    return None


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _check_sizes(path: Path, mdf: Any) -> None:
    """Refuse record counts and block sizes the file cannot hold, before anything is decoded.

    A damaged channel group record count (or a compressed block's claimed size) makes
    asammdf allocate arrays for data that is not there: gigabytes from a small file. Every
    group's records must fit in its data blocks, and no compressed block may claim to
    expand beyond what deflate can (docs/formats.md#mdf-bounded-memory).
    """
    inner = getattr(mdf, "_mdf", mdf)
    for gi, group in enumerate(getattr(inner, "groups", [])):
        cg = group.channel_group
        record = int(getattr(cg, "samples_byte_nr", 0) or 0) + int(getattr(cg, "invalidation_bytes_nr", 0) or 0)
        cycles = int(getattr(cg, "cycles_nr", 0) or 0)
        where = int(getattr(cg, "address", 0) or 0) or None
        if cycles <= 0 or record <= 0:
            continue
        _check_layout(path, gi, group, where)
        try:
            blocks = list(group.get_data_blocks())
        except Exception:  # noqa: BLE001 - asammdf raises many types on damaged files
            continue
        held = 0
        for block in blocks:
            original = int(getattr(block, "original_size", 0) or 0)
            compressed = int(getattr(block, "compressed_size", 0) or original)
            if getattr(block, "block_type", 0) != 0 and original > _DEFLATE_MAX_RATIO * max(compressed, 1):
                raise LoggerFileError(
                    path,
                    f"channel group {gi}: a compressed data block of {compressed:,} bytes claims to expand to "
                    f"{original:,} bytes, more than compression can: the file is damaged",
                    offset=where,
                )
            held += original
        if cycles * record > held + record:
            raise LoggerFileError(
                path,
                f"channel group {gi} (its block at this offset) claims {cycles:,} records of {record} bytes, "
                f"but its data blocks hold {held:,} bytes: the file is damaged",
                offset=where,
            )


#: MDF 4 channel types without bytes in the record (virtual master, virtual data)
_VIRTUAL_TYPES = (3, 6)


def _check_layout(path: Path, gi: int, group: Any, where: int | None) -> None:
    """Every channel's bytes must lie inside its group's record.

    asammdf's C extractor copies ``byte_offset .. byte_offset + size`` out of every record
    without checking it against the record size: a damaged offset or bit count reads out of
    bounds and kills the process (found by the fuzz run).
    """
    record = int(getattr(group.channel_group, "samples_byte_nr", 0) or 0)
    for ch in group.channels:
        if not hasattr(ch, "byte_offset") or getattr(ch, "channel_type", 0) in _VIRTUAL_TYPES:
            continue
        offset = int(ch.byte_offset or 0)
        size = (int(getattr(ch, "bit_offset", 0) or 0) + int(getattr(ch, "bit_count", 0) or 0) + 7) // 8
        if offset < 0 or offset + size > record:
            raise LoggerFileError(
                path,
                f"channel group {gi}: channel {str(getattr(ch, 'name', '?'))[:60]!r} lies at bytes "
                f"{offset}..{offset + size} of a {record}-byte record: the file is damaged",
                offset=int(getattr(ch, "address", 0) or 0) or where,
            )


def _open(path: Path) -> Any:
    from asammdf import MDF  # heavy import, only when an MDF file is read

    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            return MDF(path)
    except MemoryError as exc:
        _disarm(exc)
        raise LoggerFileError(path, "too large to read into memory") from None
    except Exception as exc:  # noqa: BLE001 - asammdf raises many types on damaged files
        _disarm(exc)
        where = _address(str(exc), _file_size(path))
        if where is None:
            where = _broken_link(path)
        raise LoggerFileError(path, f"damaged or unreadable MDF: {exc}", offset=where) from None


def _disarm(exc: BaseException) -> None:
    """Close the half-built MDF object a failed constructor leaves in the traceback.

    Otherwise its ``__del__`` later fails on missing attributes ("Exception ignored in
    MDF4.__del__"), and the open file handle leaks until then.
    """
    tb = exc.__traceback__
    while tb is not None:
        obj = tb.tb_frame.f_locals.get("self")
        if obj is not None and type(obj).__name__.startswith("MDF"):
            for attr in ("_file", "_tempfile", "_mapped_file"):
                handle = getattr(obj, attr, None)
                if handle is not None and hasattr(handle, "close"):
                    try:
                        handle.close()
                    except Exception:  # noqa: BLE001 - asammdf raises many types on damaged files
                        pass
            try:
                object.__setattr__(obj, "_closed", True)  # makes close()/__del__ a no-op
            except Exception:  # noqa: BLE001 - asammdf raises many types on damaged files
                pass
        tb = tb.tb_next


def _is_raw_group(group: Any) -> bool:
    return any(ch.name.split(".", 1)[0] in _RAW_FRAMES for ch in group.channels)


def _decode_bus(path: Path, mdf: Any, warnings: list[str]) -> Any:
    """Decode raw CAN frames with the DBC files beside the MDF, or reject the file."""
    dbcs = sorted(p for p in path.parent.iterdir() if p.suffix.lower() == ".dbc" and p.is_file())
    if not dbcs:
        raise UnsupportedFormatError(
            path,
            "holds raw bus frames (CAN/LIN) and no decoded channels: put the DBC file that "
            "decodes it next to the MF4 (or export decoded signals from the logger's tools)",
        )
    for group in getattr(getattr(mdf, "_mdf", mdf), "groups", []):
        try:
            _check_vlsd_group(path, mdf, group)
        except LoggerFileError as exc:
            raise _located(path, exc, group) from None
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            decoded = mdf.extract_bus_logging({"CAN": [(str(d), 0) for d in dbcs]})
    except Exception as exc:  # noqa: BLE001 - asammdf raises many types on damaged files
        raise LoggerFileError(
            path, f"decoding the CAN frames with {dbcs[0].name} failed: {exc}", offset=_raw_at(mdf)
        ) from None
    if not any(g.channel_group.cycles_nr for g in decoded.groups):
        raise UnsupportedFormatError(
            path,
            f"holds raw CAN frames (their channel group's block at this offset) that "
            f"{', '.join(d.name for d in dbcs)} does not decode: attach the DBC that matches this logger",
            offset=_raw_at(mdf),
        )
    warnings.append(f"raw CAN frames decoded with {', '.join(d.name for d in dbcs)}")
    return decoded


#: payload bytes a bus frame can hold: CAN FD 64, LIN 8, Ethernet (jumbo) 9,216, FlexRay 254
_FRAME_MAX_BYTES = {"CAN_DataFrame": 64, "CAN_RemoteFrame": 64, "LIN_Frame": 8, "ETH_Frame": 9216, "FLX_Frame": 254}
#: decoded variable-length frames (frames x the longest) may be this many times the frame data
_VLSD_GROWTH = 16


def _raw_at(mdf: Any) -> int | None:
    """The byte offset of the first raw bus-frame channel group's block."""
    for group in getattr(mdf, "groups", []):
        if _is_raw_group(group) and group.channel_group.cycles_nr:
            return int(getattr(group.channel_group, "address", 0) or 0) or None
    return None


def _check_vlsd_group(path: Path, mdf: Any, only: Any) -> None:
    """Check the variable-length frame data (``DataBytes``) before asammdf decodes it.

    asammdf's C extractor trusts the record offsets and length prefixes: on a damaged
    file it reads out of bounds and the process dies (found by the fuzz tests). This does
    the same walk in numpy first: every offset must point at a length prefix whose record
    ends inside the data, records in order without overlap. It uses the two private
    methods asammdf's own ``determine_max_vlsd_sample_size`` uses (asammdf is pinned <9).
    """
    inner = getattr(mdf, "_mdf", mdf)  # the MDF4 object behind asammdf's MDF facade
    for gi, group in enumerate(inner.groups):
        if group is not only:
            continue
        if not _is_raw_group(group) or not group.channel_group.cycles_nr:
            continue
        for ci, ch in enumerate(group.channels):
            if ch.channel_type != 1:  # VLSD
                continue
            try:
                with pywarnings.catch_warnings():
                    pywarnings.simplefilter("ignore")
                    offsets, *_ = inner._get_scalar(
                        ch, group, gi, ci, group.channel_dependencies[ci], raster=None, data=None,
                        ignore_invalidation_bits=True, record_offset=0, record_count=None,
                        master_is_required=False, skip_vlsd=True,
                    )  # fmt: skip
                    data = inner._load_signal_data(group, ci)
            except Exception as exc:  # noqa: BLE001 - asammdf raises many types on damaged files
                raise LoggerFileError(path, f"damaged bus-frame data in channel group {gi}: {exc}") from None
            offs = np.asarray(offsets).astype(np.int64, copy=False)
            if offs.ndim != 1 or offs.shape[0] == 0:
                continue
            buf = np.frombuffer(data, np.uint8)
            n = buf.shape[0]
            ok = bool(np.all((offs >= 0) & (offs + 4 <= n)))
            if ok:
                b = buf.astype(np.int64)
                sizes = b[offs] | (b[offs + 1] << 8) | (b[offs + 2] << 16) | (b[offs + 3] << 24)
                ends = offs + 4 + sizes
                ok = bool(np.all(ends <= n)) and bool(np.all(offs[1:] >= ends[:-1]))
            if not ok:
                raise LoggerFileError(
                    path,
                    f"damaged bus-frame data in channel group {gi} ({ch.name}): record offsets point outside the data",
                )
            # asammdf decodes variable-length frames into one row per frame as wide as the
            # longest: a single damaged length prefix makes that frames x megabytes
            largest = int(sizes.max())
            limit = _FRAME_MAX_BYTES.get(ch.name.split(".", 1)[0])
            if (limit is not None and largest > limit) or largest * offs.shape[0] > _VLSD_GROWTH * n + (1 << 20):
                at = int(np.argmax(sizes))
                raise LoggerFileError(
                    path,
                    f"damaged bus-frame data in channel group {gi} ({ch.name}): frame {at + 1:,} of "
                    f"{offs.shape[0]:,} claims {largest:,} data bytes"
                    + (f", more than a {ch.name.split('_', 1)[0]} frame holds ({limit})" if limit else ""),
                )


def _numeric(mdf: Any, sig: Any, gi: int, ci: int, warnings: list[str]) -> tuple[FloatArray, str] | None:
    """A signal's samples as float64 and its unit; value-to-text channels give their raw numbers."""

    def raw() -> Any:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            return mdf.get(group=gi, index=ci, raw=True).samples

    return _as_float(str(sig.name), sig.samples, str(sig.unit or ""), raw, warnings)


def _as_float(
    name: str, samples: Any, unit: str, raw: Callable[[], Any], warnings: list[str]
) -> tuple[FloatArray, str] | None:
    """Converted samples as float64 and their unit; text samples give the raw numbers ``raw()``."""
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.dtype.names is not None:
        warnings.append(f"channel {name!r} is an array or structure: not imported")
        return None
    if samples.dtype.kind in "biuf":
        return samples.astype(np.float64, copy=False), unit
    try:
        raw_values = np.asarray(raw())
    except Exception as exc:  # noqa: BLE001 - asammdf raises many types on damaged files
        warnings.append(f"channel {name!r} holds text whose raw values cannot be read ({exc}): not imported")
        return None
    if raw_values.ndim == 1 and raw_values.dtype.kind in "biuf":
        example = bytes(samples[0]).decode("latin-1") if samples.shape[0] and samples.dtype.kind == "S" else ""
        warnings.append(f"channel {name!r} is text ({example!r}...): kept as its raw numbers")
        # the unit of a value-to-text conversion is not the raw value's unit
        return raw_values.astype(np.float64), ""
    warnings.append(f"channel {name!r} holds text, not numbers: not imported")
    return None


def _header_start(mdf: Any, warnings: list[str]) -> datetime | None:
    """The header's start time: UTC where the header gives a zone, else naive local.

    MDF 3.x (docs/formats.md#mdf-start-times) stores *local* time: a time stamp in
    nanoseconds since 1970 counted in local time plus the UTC offset in hours (3.20 and
    later), or only the local date and time strings (older files). asammdf reads the
    stamp as if it were UTC, so for 3.x the fields are read here.
    """
    header = mdf.header
    if str(getattr(mdf, "version", "4")).startswith(("2", "3")):
        stamp = int(getattr(header, "abs_time", 0) or 0)
        offset_h = getattr(header, "tz_offset", None)
        has_stamp = getattr(header, "block_len", 0) > _MDF3_HEADER_COMMON_SIZE and stamp > 0
        if has_stamp and isinstance(offset_h, int) and -24 <= offset_h <= 24:
            local = _EPOCH + timedelta(microseconds=stamp // 1000)
            return (local - timedelta(hours=offset_h)).replace(tzinfo=UTC)
        try:
            text = f"{header.date.decode('ascii')} {header.time.decode('ascii')}"
            return datetime.strptime(text.strip("\x00 "), "%d:%m:%Y %H:%M:%S")
        except (AttributeError, UnicodeDecodeError, ValueError):
            return None
    try:
        start = header.start_time
    except Exception:  # noqa: BLE001 - asammdf raises many types on damaged headers
        return None
    return start if isinstance(start, datetime) else None


def _started_at(mdf: Any, first_s: float, warnings: list[str]) -> datetime | None:
    start = _header_start(mdf, warnings)
    if start is None:
        return None
    try:
        start = start + timedelta(seconds=first_s)
    except OverflowError:
        warnings.append("the MDF header start time is out of range: session start unknown")
        return None
    if start.tzinfo is None:
        warnings.append("the MDF header start time has no zone: kept as local time")
        return start
    return start.astimezone(UTC)


#: names of a GNSS time channel (seconds since 1970, UTC) in a decoded bus log
_GNSS_TIME_NAMES = ("epoch", "gnss time", "gnss epoch", "gps time utc", "utc time", "unix time", "unixtime")
#: validity flags beside it: a sample counts only where the flag is set
_GNSS_TIME_VALID = ("timevalid", "time valid", "gnss time valid")
#: plausible GNSS epochs: 2000-01-01 to 2100-01-01
_EPOCH_RANGE = (946684800.0, 4102444800.0)


def _gnss_start(
    channels: dict[str, Channel],
    time: FloatArray,
    logger_start: datetime | None,
    metadata: dict[str, str],
    warnings: list[str],
) -> datetime | None:
    """The start from a GNSS time channel, and the logger clock's offset from it.

    A logger's own clock (the MDF header) can be seconds or more off; a GNSS receiver's time
    is UTC. Each valid GNSS time sample minus its recording time is an estimate of the
    recording's start; their median is used (the GNSS time is whole seconds in CAN
    messages such as CANmod.gps ``Epoch``, so the start is right to about a second).
    """
    by_key = {name_key(c.source_name): c for c in channels.values()}
    ch = next((by_key[k] for k in _GNSS_TIME_NAMES if k in by_key), None)
    if ch is None or normalise_unit(ch.unit).lower() not in ("s", "sec", "seconds", ""):
        return None
    ok = np.isfinite(ch.values) & (ch.values > _EPOCH_RANGE[0]) & (ch.values < _EPOCH_RANGE[1])
    valid = next((by_key[k] for k in _GNSS_TIME_VALID if k in by_key), None)
    if valid is not None:
        ok &= np.nan_to_num(valid.values, nan=0.0) != 0
    if int(ok.sum()) < 3:
        return None
    start_s = float(np.median(ch.values[ok] - time[ok]))
    start = _EPOCH + timedelta(seconds=start_s)
    start = start.replace(tzinfo=UTC)
    metadata["start from"] = f"GNSS time channel {ch.source_name!r}"
    if logger_start is not None and logger_start.tzinfo is not None:
        off = (logger_start - start).total_seconds()
        metadata["logger clock offset s"] = f"{off:+.1f}"
        if abs(off) >= 1.0:
            warnings.append(
                f"start taken from the GNSS time ({ch.source_name!r}); the logger's clock was "
                f"{abs(off):.1f} s {'ahead' if off > 0 else 'behind'}"
            )
    return start


def _comment(mdf: Any) -> str:
    try:
        text = str(getattr(mdf.header, "comment", "") or "")
    except Exception:  # noqa: BLE001 - asammdf re-parses the comment as XML (ExpatError on damage)
        text = str(getattr(mdf.header, "description", "") or "")
    return " ".join(text.split())[:500]


def read(path: Path) -> Recording:
    """Read an MDF file (see the module docstring)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            ident = fh.read(24)
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    warnings: list[str] = []
    if ident[:8] == b"UnFinMF ":
        warnings.append("unfinalised MDF (UnFinMF: logger switched off while writing?): read as is")
    mdf = _open(path)
    opened = [mdf]
    try:
        _check_sizes(path, mdf)
        groups = [(gi, g) for gi, g in enumerate(mdf.groups) if g.channel_group.cycles_nr]
        source = mdf
        if groups and all(_is_raw_group(g) for _, g in groups):
            source = _decode_bus(path, mdf, warnings)
            opened.append(source)
            groups = [(gi, g) for gi, g in enumerate(source.groups) if g.channel_group.cycles_nr]
        return _read(path, mdf, source, groups, ident, warnings)
    finally:
        for m in opened:
            m.close()


def _located(path: Path, exc: LoggerFileError, group: Any) -> LoggerFileError:
    """``exc`` with the byte offset of its channel group's block, unless it names a place already."""
    if exc.line is not None or exc.offset is not None:
        return exc
    where = int(getattr(group.channel_group, "address", 0) or 0) or None
    return type(exc)(path, exc.message, offset=where, field_name=exc.field_name)


#: bytes of records asammdf hands over per step on the direct path: bounds the memory
#: of a step and how long one numpy call (one channel of one step) runs
_FRAGMENT_BYTES = 4 << 20
#: channels per ``MDF.select`` call where asammdf decodes them: one call holds the GIL
#: from start to end (docs/formats.md#mdf-reading)
SELECT_CHUNK = 16


def _plain(group: Any, record: list[Any], ci: int) -> bool:
    """A channel whose samples are whole numbers of a numpy type at a byte offset of the record."""
    ch = group.channels[ci]
    info = record[ci]
    if info is None or group.signal_data[ci] or group.channel_dependencies[ci]:
        return False
    dtype, size, _, bit_offset = info
    return (
        ch.channel_type in (0, 2)  # fixed length, master
        and dtype.kind in "iuf"
        and dtype.shape == ()
        and not bit_offset
        and size == dtype.itemsize
        and int(ch.bit_count) == 8 * dtype.itemsize
        and bool(getattr(ch, "standard_C_size", False))
    )


def _bit_field(group: Any, record: list[Any], ci: int) -> bool:
    """An integer channel of fewer bits than its numpy type, or at a bit offset, whose
    containing bytes lie inside the record (a CAN signal stored as logged)."""
    ch = group.channels[ci]
    info = record[ci]
    if info is None or group.signal_data[ci] or group.channel_dependencies[ci] or ch.channel_type != 0:
        return False
    dtype, size, byte_offset, bit_offset = info
    record_size = int(group.channel_group.samples_byte_nr)
    return (
        dtype.kind in "iu"
        and dtype.shape == ()
        and size == dtype.itemsize
        and 0 < int(ch.bit_count) <= 8 * size - int(bit_offset)
        and int(byte_offset) + size <= record_size
    )


def _unpack_bits(ch: Any, info: tuple[Any, int, int, int], raw: Any) -> Any:
    """A bit field's values from its containing bytes (read as unsigned, in the channel's byte
    order): shifted, masked and sign-extended as asammdf's ``select`` does."""
    from asammdf.blocks import v4_constants as v4c
    from asammdf.blocks.utils import as_non_byte_sized_signed_int

    _, size, _, bit_offset = info
    vals = raw
    if bit_offset:
        vals >>= np.uint8(bit_offset)
    bits = int(ch.bit_count)
    if ch.data_type in v4c.SIGNED_INT:
        if bits != 8 * size:
            return as_non_byte_sized_signed_int(vals, bits)
        return vals.view(np.dtype(f"{vals.dtype.byteorder}i{size}"))
    if bits != 8 * size:
        vals &= vals.dtype.type((1 << bits) - 1)
    return vals


def _unsigned_view(ch: Any, dtype: Any) -> Any:
    """The unsigned type a bit field's containing bytes are read as (asammdf's choice)."""
    from asammdf.blocks import v4_constants as v4c

    if dtype.byteorder == "=" and ch.data_type in (v4c.DATA_TYPE_SIGNED_MOTOROLA, v4c.DATA_TYPE_UNSIGNED_MOTOROLA):
        return np.dtype(f">u{dtype.itemsize}")
    return np.dtype(f"{dtype.byteorder}u{dtype.itemsize}")


def _direct_plan(source: Any, gi: int, group: Any, wanted: list[int]) -> tuple[Any, int, list[int]] | None:
    """(the MDF 4 object, the master's index, the channels of ``wanted`` read directly), or None.

    Direct reading applies to a sorted group in the file (not column-oriented) whose master
    is a plain number in the record; other channels of such a group go through ``select``.
    """
    from asammdf.blocks import v4_constants as v4c
    from asammdf.blocks.mdf_v4 import MDF4

    inner = getattr(source, "_mdf", source)
    if not isinstance(inner, MDF4) or getattr(group, "uses_ld", False):
        return None
    # asammdf's private record helpers (docs/formats.md#mdf-reading): an asammdf without
    # them reads every channel through ``select``, slower but the same samples
    if not (hasattr(inner, "_prepare_record") and hasattr(inner, "_load_data")):
        return None
    if group.data_location != v4c.LOCATION_ORIGINAL_FILE or int(group.data_group.record_id_len or 0):
        return None
    master = inner.masters_db.get(gi)
    record = inner._prepare_record(group)
    if master is None or not _plain(group, record, master):
        return None
    return inner, master, [ci for ci in wanted if _plain(group, record, ci) or _bit_field(group, record, ci)]


def _direct(inner: Any, group: Any, indexes: list[int], as_float: list[bool]) -> list[Any]:
    """The samples of plain channels copied out of the records in one pass, fragment by
    fragment: float64 where ``as_float``, else the channel's own numpy type. No per-sample
    Python loop, and the group's records are never held all at once."""
    cg = group.channel_group
    size = int(cg.samples_byte_nr) + int(cg.invalidation_bytes_nr)
    record = inner._prepare_record(group)
    n = int(cg.cycles_nr)
    items = [
        (
            record[ci][0] if _plain(group, record, ci) else _unsigned_view(group.channels[ci], record[ci][0]),
            int(record[ci][2]),
        )
        for ci in indexes
    ]
    # the float64 columns are rows of one block: one allocation, backed by huge pages when large
    block = np.empty((sum(as_float), n), np.float64)
    rows = iter(block)
    cols = [next(rows) if f else np.empty(n, dtype) for (dtype, _), f in zip(items, as_float, strict=True)]
    pos = 0
    mapped = _MappedBlocks(inner, group)
    for fragment in inner._load_data(group):
        data = fragment.data
        k = min(len(data) // size, n - pos)
        if k <= 0:
            continue
        for (dtype, offset), col in zip(items, cols, strict=True):
            col[pos : pos + k] = np.ndarray((k,), dtype, buffer=data, offset=offset, strides=(size,))
        pos += k
        mapped.release_before(pos * size)
    return cols if pos == n else [c[:pos] for c in cols]


class _MappedBlocks:
    """Drops the pages of a group's data blocks from the process once asammdf has copied them.

    asammdf reads the file through a memory map: every page it touched would otherwise stay
    in the process's memory (its RSS) until the file is closed, half again the decoded
    float64 columns of a float32 file. The pages stay in the page cache.
    """

    def __init__(self, inner: Any, group: Any) -> None:
        self.file: Any = getattr(inner, "_file", None)
        self.blocks = list(group.data_blocks) if isinstance(self.file, mmap.mmap) else []
        self.done = 0  #: blocks released so far
        self.start = 0  #: where the next block starts in the group's record bytes

    def release_before(self, consumed: int) -> None:
        """Release every block that starts before ``consumed`` bytes of records: ``_load_data``
        copies a whole block out of the map when it reaches it."""
        while self.done < len(self.blocks) and self.start < consumed:
            block = self.blocks[self.done]
            self.start += int(block.original_size)
            self.done += 1
            address = int(block.address)
            first = address - address % mmap.PAGESIZE
            try:
                self.file.madvise(mmap.MADV_DONTNEED, first, address + int(block.compressed_size) - first)
            except (AttributeError, OSError, ValueError, OverflowError):
                self.blocks = []  # no madvise here (or not this map): memory is only not saved
                return


#: records converted per call of an asammdf conversion (a value-to-text one holds the GIL)
_CONVERT_CHUNK = 1 << 16


def _converted(name: str, conversion: Any, raw: Any, unit: str, warnings: list[str]) -> tuple[FloatArray, str] | None:
    """``conversion`` applied to ``raw`` as asammdf's ``select`` applies it, a bounded chunk of
    records per call; text results give the raw numbers (as :func:`_as_float`)."""
    n = raw.shape[0]
    out = np.empty(n, np.float64)
    for start in range(0, max(n, 1), _CONVERT_CHUNK):
        part = np.asarray(conversion.convert(raw[start : start + _CONVERT_CHUNK]))
        if (
            part.ndim != 1
            or part.dtype.names is not None
            or part.dtype.kind not in "biuf"
            or part.shape[0] != min(_CONVERT_CHUNK, n - start)
        ):
            return _as_float(name, part, unit, lambda: raw, warnings)
        out[start : start + part.shape[0]] = part
    return out, unit


def _group_columns(
    path: Path, source: Any, gi: int, group: Any, warnings: list[str]
) -> tuple[FloatArray, list[tuple[str, str, FloatArray]]] | None:
    """A channel group's timestamps (s) and its numeric channels (name, unit, float64), in
    channel order; None when it has no channel with samples.

    Plain channels are copied straight out of the records (docs/formats.md#mdf-reading); the
    others are decoded by asammdf's ``select``, at most :data:`SELECT_CHUNK` per call.
    """
    wanted = [ci for ci, ch in enumerate(group.channels) if ch.channel_type not in _MASTER_TYPES]
    if not wanted:
        return None
    got: dict[int, tuple[str, str, FloatArray]] = {}
    stamps: FloatArray | None = None
    plan = _direct_plan(source, gi, group, wanted)
    selected = wanted
    if plan is not None:
        inner, master, direct = plan
        selected = [ci for ci in wanted if ci not in set(direct)]
        channels = group.channels
        record = inner._prepare_record(group)
        plain = {ci for ci in direct if _plain(group, record, ci)}
        # a bit field is read as its containing bytes and unpacked before anything else
        converted = [ci for ci in direct if channels[ci].conversion is not None or ci not in plain]
        bare = [ci for ci in direct if channels[ci].conversion is None and ci in plain]
        order = [master, *converted, *bare]
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            # small fragments here only: asammdf's own select makes one call per channel and
            # fragment, and keeps its default (large) fragments
            previous = int(inner._read_fragment_size)
            source.configure(read_fragment_size=_FRAGMENT_BYTES)
            try:
                cols = _direct(inner, group, order, [False] * (1 + len(converted)) + [True] * len(bare))
            finally:
                source.configure(read_fragment_size=previous)
            conversion = channels[master].conversion
            stamps = np.asarray(conversion.convert(cols[0]) if conversion else cols[0], np.float64)
            for i, ci in enumerate(order[1:], start=1):
                ch, values = channels[ci], cols[i]
                cols[i] = None  # the raw samples are released once converted
                if ci not in plain:
                    values = _unpack_bits(ch, record[ci], values)
                if ch.conversion is None:
                    got[ci] = (str(ch.name), str(ch.unit or ""), values.astype(np.float64, copy=False))
                    continue
                unit = str(ch.conversion.unit or ch.unit or "")
                value = _converted(str(ch.name), ch.conversion, values, unit, warnings)
                if value is not None:
                    got[ci] = (str(ch.name), value[1], value[0])
    for start in range(0, len(selected), SELECT_CHUNK):
        chunk = selected[start : start + SELECT_CHUNK]
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            signals = source.select([(None, gi, ci) for ci in chunk])
        if stamps is None and signals:
            stamps = np.asarray(signals[0].timestamps, np.float64)
        for ci, sig in zip(chunk, signals, strict=True):
            value = _numeric(source, sig, gi, ci, warnings)
            if value is not None:
                got[ci] = (str(sig.name), value[1], value[0])
        del signals
    if stamps is None or stamps.shape[0] == 0:
        return None
    n = stamps.shape[0]
    return stamps, [got[ci] for ci in wanted if ci in got and got[ci][2].shape[0] == n]


def _read_group(
    path: Path,
    source: Any,
    gi: int,
    group: Any,
    timed: list[tuple[timebase.IntArray, list[FloatArray]]],
    sources: list[SourceChannel],
    warnings: list[str],
    first_s: float,
) -> float:
    """Read one channel group into ``timed``/``sources``; returns the earliest first stamp so far."""
    try:
        read = _group_columns(path, source, gi, group, warnings)
    except LoggerFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - asammdf raises many types on damaged files
        raise LoggerFileError(path, f"channel group {gi} cannot be read: {exc}") from None
    if read is None or not read[1]:
        return first_s
    stamps, named = read
    cols = [values for _, _, values in named]
    t_us = timebase.checked_microseconds(stamps, path, what=f"channel group {gi} time")
    group_warnings: list[str] = []
    timebase.check_backward_steps(t_us, path, group_warnings)
    t_us, cols = timebase.merge_repeated(t_us, cols, group_warnings)
    warnings.extend(f"channel group {gi}: {w}" for w in group_warnings)
    first_s = min(first_s, float(stamps[0]))
    timed.append((t_us, cols))
    sources.extend(SourceChannel(name, unit, np.empty(0)) for name, unit, _ in named)
    return first_s


#: time steps a group's typical step is the median of (evenly spread over the group)
_STEP_SAMPLE = 1 << 16


def _typical_step(time_us: timebase.IntArray) -> float:
    """The median time step of a group (µs), over at most :data:`_STEP_SAMPLE` steps spread
    evenly over it: a median of millions of steps holds the GIL for a noticeable time and
    says the same about a logger's rate."""
    if time_us.shape[0] < 2:
        return 0.0
    steps = np.diff(time_us)
    return float(np.median(steps[:: max(1, steps.shape[0] // _STEP_SAMPLE)]))


def _read(
    path: Path, mdf: Any, source: Any, groups: list[tuple[int, Any]], ident: bytes, warnings: list[str]
) -> Recording:
    timed: list[tuple[timebase.IntArray, list[FloatArray]]] = []
    sources: list[SourceChannel] = []
    first_s = np.inf
    for gi, group in groups:
        if _is_raw_group(group):
            continue
        try:
            first_s = _read_group(path, source, gi, group, timed, sources, warnings, first_s)
        except LoggerFileError as exc:
            raise _located(path, exc, group) from None
    if not timed:
        # point at the first channel group (or the header block at byte 64, where the list of
        # data groups starts): that is where a reader would look for the missing records
        where = next((int(getattr(g.channel_group, "address", 0) or 0) for _, g in groups), 0) or 64
        raise UnsupportedFormatError(path, "has no channel with samples: nothing to import", offset=where)
    union = timebase.union_times([t for t, _ in timed])
    k = 0
    for t, cols in timed:
        timebase.place_group(union, timebase.union_positions(union, t), cols)  # frees each group column
        for values in cols:
            sources[k].values = values
            k += 1
    with np.errstate(over="ignore", invalid="ignore"):  # damaged cells may overflow to inf
        channels = build_channels("mdf", sources, warnings)
    time = timebase.relative_seconds(union)
    steps = [_typical_step(t) for t, _ in timed]
    rates = [1e6 / step for step in steps if step > 0]
    writer = ident[16:24].decode("latin-1").strip(" \x00")
    logger = next((f"{name} ({writer})" for key, name in _WRITERS.items() if writer.startswith(key)), writer or None)
    lap_counter = next((n for n in channels if n.lower() in _LAP_COUNTERS), None)
    metadata = {"mdf version": str(mdf.version), "comment": _comment(mdf), "groups": str(len(timed))}
    started_at = _started_at(mdf, first_s, warnings)
    gnss = _gnss_start(channels, time, started_at, metadata, warnings)
    rec = Recording(
        path=path,
        format="mdf",
        time=time,
        channels=channels,
        logger=logger,
        started_at=gnss or started_at,
        sample_rate_hz=round(max(rates), 3) if rates else None,  # the fastest group's rate
        lap_counter=checked_lap_counter(channels, lap_counter, warnings),
        metadata=metadata,
        warnings=warnings,
    )
    rec.check()
    return rec
