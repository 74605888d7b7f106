"""ASAM MDF (4.x, and 3.x through asammdf) reader (docs/formats.md#asam-mdf).

Every channel group has its own master (found by channel type, not name) and rate; all
groups go on the sorted union of their real timestamps (integer microseconds), a channel
being NaN where its group has no sample (:func:`.timebase.union_time_base`). The header's
absolute start (with its zone) becomes ``started_at`` in UTC.

Raw bus logs (``CAN_DataFrame``... and no decoded signal) are decoded with the DBC files
lying next to the MF4 (``extract_bus_logging``); with no DBC there, they are rejected with
:class:`UnsupportedFormatError` asking for one. ``UnFinMF`` (unfinalised) files are read
with a warning.
"""

from __future__ import annotations

import warnings as pywarnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from storage.types import FloatArray

from . import timebase
from .channels import SourceChannel, build_channels
from .recording import LoggerFileError, Recording, UnsupportedFormatError

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
        raise LoggerFileError(path, f"damaged or unreadable MDF: {exc}") from None


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
    _check_vlsd(path, mdf)
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            decoded = mdf.extract_bus_logging({"CAN": [(str(d), 0) for d in dbcs]})
    except Exception as exc:  # noqa: BLE001 - asammdf raises many types on damaged files
        raise LoggerFileError(path, f"decoding the CAN frames with {dbcs[0].name} failed: {exc}") from None
    if not any(g.channel_group.cycles_nr for g in decoded.groups):
        raise UnsupportedFormatError(
            path,
            f"holds raw CAN frames that {', '.join(d.name for d in dbcs)} does not decode: "
            "attach the DBC that matches this logger",
        )
    warnings.append(f"raw CAN frames decoded with {', '.join(d.name for d in dbcs)}")
    return decoded


def _check_vlsd(path: Path, mdf: Any) -> None:
    """Check the variable-length frame data (``DataBytes``) before asammdf decodes it.

    asammdf's C extractor trusts the record offsets and length prefixes: on a damaged
    file it reads out of bounds and the process dies (found by the fuzz tests). This does
    the same walk in numpy first: every offset must point at a length prefix whose record
    ends inside the data, records in order without overlap. It uses the two private
    methods asammdf's own ``determine_max_vlsd_sample_size`` uses (asammdf is pinned <9).
    """
    inner = getattr(mdf, "_mdf", mdf)  # the MDF4 object behind asammdf's MDF facade
    for gi, group in enumerate(inner.groups):
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


def _numeric(mdf: Any, sig: Any, gi: int, ci: int, warnings: list[str]) -> tuple[FloatArray, str] | None:
    """A signal's samples as float64 and its unit; value-to-text channels give their raw numbers."""
    samples = np.asarray(sig.samples)
    if samples.ndim != 1 or samples.dtype.names is not None:
        warnings.append(f"channel {sig.name!r} is an array or structure: not imported")
        return None
    if samples.dtype.kind in "biuf":
        return samples.astype(np.float64), str(sig.unit or "")
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        raw_sig = mdf.get(group=gi, index=ci, raw=True)
    raw = np.asarray(raw_sig.samples)
    if raw.ndim == 1 and raw.dtype.kind in "biuf":
        example = bytes(samples[0]).decode("latin-1") if samples.shape[0] and samples.dtype.kind == "S" else ""
        warnings.append(f"channel {sig.name!r} is text ({example!r}...): kept as its raw numbers")
        # the unit of a value-to-text conversion is not the raw value's unit
        return raw.astype(np.float64), ""
    warnings.append(f"channel {sig.name!r} holds text, not numbers: not imported")
    return None


def _started_at(mdf: Any, first_s: float, warnings: list[str]) -> datetime | None:
    start = getattr(mdf.header, "start_time", None)
    if not isinstance(start, datetime):
        return None
    start = start + timedelta(seconds=first_s)
    if start.tzinfo is None:
        warnings.append("the MDF header start time has no zone: kept as local time")
        return start
    return start.astimezone(UTC)


def _comment(mdf: Any) -> str:
    text = str(getattr(mdf.header, "comment", "") or "")
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


def _read(
    path: Path, mdf: Any, source: Any, groups: list[tuple[int, Any]], ident: bytes, warnings: list[str]
) -> Recording:
    timed: list[tuple[timebase.IntArray, list[FloatArray]]] = []
    sources: list[SourceChannel] = []
    first_s = np.inf
    for gi, group in groups:
        if _is_raw_group(group):
            continue
        wanted = [ci for ci, ch in enumerate(group.channels) if ch.channel_type not in _MASTER_TYPES]
        if not wanted:
            continue
        try:
            with pywarnings.catch_warnings():
                pywarnings.simplefilter("ignore")
                signals = source.select([(None, gi, ci) for ci in wanted])
        except Exception as exc:  # noqa: BLE001 - asammdf raises many types on damaged files
            raise LoggerFileError(path, f"channel group {gi} cannot be read: {exc}") from None
        if not signals:
            continue
        stamps = np.asarray(signals[0].timestamps, np.float64)
        if stamps.shape[0] == 0:
            continue

        cols: list[FloatArray] = []
        names: list[tuple[str, str]] = []
        for ci, sig in zip(wanted, signals, strict=True):
            got = _numeric(source, sig, gi, ci, warnings)
            if got is None or got[0].shape[0] != stamps.shape[0]:
                continue
            cols.append(got[0])
            names.append((str(sig.name), got[1]))
        if not cols:
            continue
        t_us = timebase.checked_microseconds(stamps, path, what=f"channel group {gi} time")
        group_warnings: list[str] = []
        timebase.check_backward_steps(t_us, path, group_warnings)
        t_us, cols = timebase.merge_repeated(t_us, cols, group_warnings)
        warnings.extend(f"channel group {gi}: {w}" for w in group_warnings)
        first_s = min(first_s, float(stamps[0]))
        timed.append((t_us, cols))
        sources.extend(SourceChannel(n, u, np.empty(0)) for n, u in names)
    if not timed:
        raise UnsupportedFormatError(path, "has no channel with samples: nothing to import")
    union, placed = timebase.union_time_base(timed)
    flat = [v for cols in placed for v in cols]
    for src, values in zip(sources, flat, strict=True):
        src.values = values
    with np.errstate(over="ignore", invalid="ignore"):  # damaged cells may overflow to inf
        channels = build_channels("mdf", sources, warnings)
    time = timebase.relative_seconds(union)
    rates = [1e6 / float(np.median(np.diff(t))) for t, _ in timed if t.shape[0] > 1 and np.median(np.diff(t)) > 0]
    writer = ident[16:24].decode("latin-1").strip(" \x00")
    logger = next((f"{name} ({writer})" for key, name in _WRITERS.items() if writer.startswith(key)), writer or None)
    lap_counter = next((n for n in channels if n.lower() in _LAP_COUNTERS), None)
    rec = Recording(
        path=path,
        format="mdf",
        time=time,
        channels=channels,
        logger=logger,
        started_at=_started_at(mdf, first_s, warnings),
        sample_rate_hz=round(max(rates), 3) if rates else None,  # the fastest group's rate
        lap_counter=lap_counter,
        metadata={"mdf version": str(mdf.version), "comment": _comment(mdf), "groups": str(len(timed))},
        warnings=warnings,
    )
    rec.check()
    return rec
