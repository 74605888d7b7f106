"""The layout of a Laptrace telemetry Parquet file: column names, Arrow schema, footer JSON.

Columns, in order: ``lap_number`` (int32, not null), then all twelve standard channels
(``time distance lat long speed rpm throttle brake gear steering glat glong``, float64,
nullable), then every auxiliary channel (float64, nullable). Every file carries every
standard column, so all files share the same leading schema; a standard channel the session
does not have is an all-null column and is left out of the footer's ``standard_channels``
(reads do not return it). Each field's Arrow metadata carries ``unit`` and ``source_name``;
a text channel's field also carries ``labels``, a JSON list: its values are integer codes
(0, 1, ...; null where the file had no text) and code ``k`` stands for ``labels[k]``
(:func:`labels_of` gives them back). From ``format_version`` 2 on, a channel whose every
value round-trips through float32 (:mod:`storage.parquet_decimals`) is a float32 column
whose field also carries ``decimals``: the value is ``round(x, decimals)`` as float64
(:func:`decimals_of` gives them).

An auxiliary channel's column is named exactly as the caller named the channel: storage
never renames. The caller names channels around :data:`RESERVED_NAMES` (``lap_number`` and
the standard channels) and keeps them unique ignoring case (DuckDB resolves column names
case-insensitively); a telemetry that does not is refused with :class:`ChannelNameError`
before anything is written (docs/storage.md#channel-names).

The footer's key-value metadata holds one JSON object under the key ``laptrace``: see
:func:`encode_footer` for its fields. It is written after the data, so it is the last thing a
complete file gets.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from storage.errors import StorageError
from storage.parquet_decimals import DECIMALS_KEY, MAX_DECIMALS
from storage.types import (
    CANONICAL_UNITS,
    LAP_COLUMN,
    RESERVED_NAMES,
    SOURCE_TYPES,
    STANDARD_CHANNELS,
    SessionMetadata,
    SessionTelemetry,
    SourceType,
)

#: Bumped when the layout changes incompatibly; readers refuse files from the future.
#: 2: float32 columns with ``decimals`` field metadata (version 1 files are all float64).
FORMAT_VERSION = 2
#: The footer key-value metadata key holding the session JSON.
FOOTER_KEY = b"laptrace"
#: the field metadata key of a text channel's code-to-label table
LABELS_KEY = b"labels"
_INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class LapIndexEntry:
    """Where one lap lives in the file."""

    lap_number: int
    row_group: int  #: every lap is exactly one row group (an empty lap: a 0-row group)
    rows: int
    start_offset: float  #: seconds from the session start to the lap's start


@dataclass(frozen=True)
class TelemetryFooter:
    """Everything the footer says, readable without touching the samples."""

    format_version: int
    session_id: int
    metadata: SessionMetadata
    channel_count: int
    total_points: int
    standard_channels: tuple[str, ...]  #: the standard channels the session has
    auxiliary_channels: tuple[str, ...]  #: file column names, in file order
    units: dict[str, str]
    source_names: dict[str, str]
    laps: tuple[LapIndexEntry, ...]
    #: text channels (file column names): code -> label; written as field metadata
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: float32 columns (file column names): the decimals that restore their float64 values;
    #: written as field metadata
    decimals: dict[str, int] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        """The channels a read returns, in file order."""
        return [*self.standard_channels, *self.auxiliary_channels]

    def lap(self, lap_number: int) -> LapIndexEntry | None:
        for entry in self.laps:
            if entry.lap_number == lap_number:
                return entry
        return None


class ChannelNameError(StorageError, ValueError):
    """A channel name the file cannot hold as given: storage refuses it and renames nothing."""


def column_names(telemetry: SessionTelemetry) -> dict[str, str]:
    """Check the auxiliary channels' names and map each to its column: itself.

    Raises :class:`ChannelNameError` naming the channel for a name that is not a string,
    is blank, is one of :data:`RESERVED_NAMES` or repeats an earlier one (ignoring case).
    """
    seen: dict[str, str] = {}
    out: dict[str, str] = {}
    for i, name in enumerate(telemetry.auxiliary_channels):
        if not isinstance(name, str):
            raise ChannelNameError(f"auxiliary channel #{i + 1}: name {name!r} is not a string")
        if name in ("time", "distance"):
            # every lap's "time" and "distance" keys are the standard ones (LapTelemetry)
            raise ChannelNameError(f"{name!r} is a standard channel and cannot be listed as auxiliary")
        if not name.strip():
            raise ChannelNameError(f"auxiliary channel #{i + 1}: the name {name!r} is blank")
        if name.lower() in RESERVED_NAMES:
            raise ChannelNameError(
                f"auxiliary channel {name!r}: {name.lower()!r} is a column storage reserves "
                f"({', '.join(sorted(RESERVED_NAMES))}, ignoring case)"
            )
        if name in out:
            raise ChannelNameError(f"auxiliary channel {name!r} is listed twice in auxiliary_channels")
        if name.lower() in seen:
            raise ChannelNameError(
                f"auxiliary channels {seen[name.lower()]!r} and {name!r} are one column name ignoring case"
            )
        seen[name.lower()] = name
        out[name] = name
    return out


def _check_text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {type(value).__name__}")
    return value


def build_footer(telemetry: SessionTelemetry, lap_rows: list[int]) -> tuple[TelemetryFooter, dict[str, str]]:
    """The footer for ``telemetry`` (whose laps have ``lap_rows`` samples each) and the
    in-memory -> file name map of its auxiliary channels. Validates the metadata."""
    meta = telemetry.metadata
    if not isinstance(meta.imported_at, datetime):
        raise ValueError(f"metadata.imported_at must be a datetime, not {meta.imported_at!r}")
    if meta.started_at is not None and not isinstance(meta.started_at, datetime):
        raise ValueError(f"metadata.started_at must be a datetime or None, not {meta.started_at!r}")
    if meta.source_type not in SOURCE_TYPES:
        raise ValueError(f"metadata.source_type {meta.source_type!r} is not one of {', '.join(SOURCE_TYPES)}")
    for key, value in meta.extra.items():
        _check_text("metadata.extra keys", key)
        _check_text(f"metadata.extra[{key!r}]", value)

    names = column_names(telemetry)
    present = {c for lap in telemetry.laps for c in lap.channels}
    standard = tuple(c for c in STANDARD_CHANNELS if c in present or c in ("time", "distance"))
    standard = tuple(c for c in standard if c not in names)  # a listed auxiliary wins its key
    # Units and source names follow the channels to their file names; entries naming no
    # channel of the session are not kept.
    file_name = {**{c: c for c in STANDARD_CHANNELS if c not in names}, **names}
    units: dict[str, str] = {}
    for key, unit in telemetry.units.items():
        if key in file_name and unit is not None:  # None (brake's canonical "unit"): no unit
            units[file_name[key]] = _check_text(f"unit of {key!r}", unit)
    sources: dict[str, str] = {}
    for key, src in telemetry.source_names.items():
        if key in file_name:
            sources[file_name[key]] = _check_text(f"source name of {key!r}", src)
    labels: dict[str, tuple[str, ...]] = {}
    for key, table in telemetry.labels.items():
        if key in names:  # text channels are auxiliary
            labels[names[key]] = tuple(_check_text(f"label of {key!r}", t) for t in table)

    laps = tuple(
        LapIndexEntry(lap.lap_number, i, rows, float(lap.start_offset))
        for i, (lap, rows) in enumerate(zip(telemetry.laps, lap_rows, strict=True))
    )
    footer = TelemetryFooter(
        format_version=FORMAT_VERSION,
        session_id=telemetry.session_id,
        metadata=SessionMetadata(meta.imported_at, meta.source_type, meta.started_at, dict(meta.extra)),
        channel_count=len(standard) + len(names),
        total_points=sum(lap_rows),
        standard_channels=standard,
        auxiliary_channels=tuple(names.values()),
        units=units,
        source_names=sources,
        laps=laps,
        labels=labels,
    )
    return footer, names


def arrow_schema(footer: TelemetryFooter) -> pa.Schema:
    """The file's Arrow schema: lap_number, the twelve standard channels, the auxiliaries."""

    def field(name: str) -> pa.Field[pa.DataType]:
        meta: dict[bytes, bytes] = {}
        unit = footer.units.get(name, CANONICAL_UNITS.get(name))
        if unit is not None:
            meta[b"unit"] = unit.encode()
        source = footer.source_names.get(name)
        if source is not None:
            meta[b"source_name"] = source.encode()
        labels = footer.labels.get(name)
        if labels is not None:
            meta[LABELS_KEY] = json.dumps(list(labels), ensure_ascii=False).encode()
        decimals = footer.decimals.get(name)
        if decimals is not None:
            meta[DECIMALS_KEY] = str(decimals).encode()
        kind = pa.float64() if decimals is None else pa.float32()
        return pa.field(name, kind, nullable=True, metadata=meta or None)

    lap = pa.field(LAP_COLUMN, pa.int32(), nullable=False, metadata={b"unit": b""})
    return pa.schema([lap, *(field(c) for c in STANDARD_CHANNELS), *(field(c) for c in footer.auxiliary_channels)])


def labels_of(schema: pa.Schema) -> dict[str, tuple[str, ...]]:
    """The text channels of a file's schema: column name -> labels (code ``k`` is ``labels[k]``).

    Files without text channels (and every ``format_version`` 1 file) give ``{}``.
    """
    out: dict[str, tuple[str, ...]] = {}
    for f in schema:
        raw = (f.metadata or {}).get(LABELS_KEY)
        if raw is None:
            continue
        try:
            table = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"labels of column {f.name!r} are not valid JSON ({exc})") from None
        if not isinstance(table, list) or not all(isinstance(t, str) for t in table):
            raise ValueError(f"labels of column {f.name!r} must be a list of text")
        out[f.name] = tuple(table)
    return out


def decimals_of(schema: pa.Schema) -> dict[str, int]:
    """The float32 columns of a file's schema: column name -> the decimals that give back
    their float64 values (``round(x, decimals)``). ValueError for a float32 column without
    valid ``decimals`` or a ``decimals`` on any other column."""
    out: dict[str, int] = {}
    for f in schema:
        raw = (f.metadata or {}).get(DECIMALS_KEY)
        if raw is None and f.type != pa.float32():
            continue
        text = "" if raw is None else raw.decode("ascii", "replace")
        if f.type != pa.float32() or not text.isdigit() or int(text) > MAX_DECIMALS:
            raise ValueError(
                f"column {f.name!r} is {f.type} with decimals {text or 'missing'!r}: "
                f"expected float32 with decimals 0..{MAX_DECIMALS}"
            )
        out[f.name] = int(text)
    return out


def encode_footer(footer: TelemetryFooter) -> bytes:
    """The footer JSON (ASCII, so any tool prints it)."""
    meta = footer.metadata
    doc = {
        "format_version": footer.format_version,
        "session_id": footer.session_id,
        "imported_at": meta.imported_at.isoformat(),
        "started_at": None if meta.started_at is None else meta.started_at.isoformat(),
        "source_type": meta.source_type,
        "channel_count": footer.channel_count,
        "total_points": footer.total_points,
        "standard_channels": list(footer.standard_channels),
        "auxiliary_channels": list(footer.auxiliary_channels),
        "units": footer.units,
        "source_names": footer.source_names,
        "extra": meta.extra,
        "laps": [
            {"lap_number": e.lap_number, "row_group": e.row_group, "rows": e.rows, "start_offset": e.start_offset}
            for e in footer.laps
        ],
    }
    return json.dumps(doc, allow_nan=False).encode("ascii")


def _get(doc: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ValueError(f"footer field {key!r} is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _str_dict(doc: dict[str, Any], key: str) -> dict[str, str]:
    value = _get(doc, key, dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"footer field {key!r} must map text to text")
    return dict(value)


def _str_list(doc: dict[str, Any], key: str) -> tuple[str, ...]:
    value = _get(doc, key, list)
    if not all(isinstance(v, str) for v in value):
        raise ValueError(f"footer field {key!r} must be a list of text")
    return tuple(value)


def _lap_entry(i: int, raw: object) -> LapIndexEntry:
    if not isinstance(raw, dict):
        raise ValueError(f"footer lap index entry #{i} is not an object")
    try:
        entry = LapIndexEntry(
            lap_number=_get(raw, "lap_number", int),
            row_group=_get(raw, "row_group", int),
            rows=_get(raw, "rows", int),
            start_offset=float(_get(raw, "start_offset", (int, float))),
        )
    except ValueError as exc:
        raise ValueError(f"footer lap index entry #{i}: {exc}") from None
    if entry.rows < 0 or entry.row_group < 0:
        raise ValueError(f"footer lap index entry #{i}: negative rows or row group")
    return entry


def decode_footer(raw: bytes) -> TelemetryFooter:
    """Parse and check the footer JSON; ValueError says what is wrong."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"footer metadata is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError("footer metadata is not a JSON object")
    version = _get(doc, "format_version", int)
    if version > FORMAT_VERSION or version < 1:
        raise ValueError(f"format version {version} is not readable by this Laptrace (reads 1..{FORMAT_VERSION})")
    source_type: SourceType = _get(doc, "source_type", str)
    if source_type not in SOURCE_TYPES:
        raise ValueError(f"footer source_type {source_type!r} is unknown")
    try:
        imported_at = datetime.fromisoformat(_get(doc, "imported_at", str))
        started_raw = doc.get("started_at")
        started_at = None if started_raw is None else datetime.fromisoformat(_get(doc, "started_at", str))
    except ValueError as exc:
        raise ValueError(f"footer date: {exc}") from None
    laps = tuple(_lap_entry(i, e) for i, e in enumerate(_get(doc, "laps", list)))
    if len({e.lap_number for e in laps}) != len(laps):
        raise ValueError("footer lap index lists a lap number twice")
    if not all(math.isfinite(e.start_offset) for e in laps):
        raise ValueError("footer lap index has a non-finite start offset")
    standard = _str_list(doc, "standard_channels")
    if any(c not in STANDARD_CHANNELS for c in standard):
        raise ValueError(f"footer standard_channels {list(standard)} names an unknown channel")
    return TelemetryFooter(
        format_version=version,
        session_id=_get(doc, "session_id", int),
        metadata=SessionMetadata(imported_at, source_type, started_at, _str_dict(doc, "extra")),
        channel_count=_get(doc, "channel_count", int),
        total_points=_get(doc, "total_points", int),
        standard_channels=standard,
        auxiliary_channels=_str_list(doc, "auxiliary_channels"),
        units=_str_dict(doc, "units"),
        source_names=_str_dict(doc, "source_names"),
        laps=laps,
    )


def check_lap_number(lap_number: object, where: str) -> int:
    """A lap number must be an int (not a bool) that fits the int32 column."""
    if isinstance(lap_number, bool) or not isinstance(lap_number, int):
        raise ValueError(f"{where}: lap number {lap_number!r} is not an integer")
    if not _INT32[0] <= lap_number <= _INT32[1]:
        raise ValueError(f"{where}: lap number {lap_number} does not fit in int32")
    return lap_number
