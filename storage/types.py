"""The storage contract: channels, units and the in-memory shape of a session's telemetry.

Everything here is plain data (dataclasses and numpy arrays) so that any program can use
it without Qt or a database. ``SessionTelemetry`` is what goes into one Parquet file;
``SessionDraft`` is what :func:`storage.sessions.save_session` commits (metadata to the
database, telemetry to Parquet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: The standard channels, in Parquet column order. ``time`` and ``distance`` restart at 0
#: at each lap's start.
STANDARD_CHANNELS: tuple[str, ...] = (
    "time",
    "distance",
    "lat",
    "long",
    "speed",
    "rpm",
    "throttle",
    "brake",
    "gear",
    "steering",
    "glat",
    "glong",
)

#: The Parquet column that holds each sample's lap number.
LAP_COLUMN = "lap_number"
#: Names no auxiliary channel may have, compared ignoring case: the lap column and the
#: standard channels. The pipeline names channels around them before it saves (here, not in
#: the Parquet modules, so naming a channel does not import pyarrow).
RESERVED_NAMES: frozenset[str] = frozenset({LAP_COLUMN, *STANDARD_CHANNELS})

#: Canonical units of the standard channels. ``brake`` keeps its logged unit (``None``).
CANONICAL_UNITS: Mapping[str, str | None] = {
    "time": "s",
    "distance": "m",
    "lat": "deg",
    "long": "deg",
    "speed": "km/h",
    "rpm": "rpm",
    "throttle": "%",
    "brake": None,
    "gear": "",
    "steering": "deg",
    "glat": "g",
    "glong": "g",
}

SourceType = Literal["vbo", "bosch", "racechrono", "aim", "motec", "mdf", "merged"]
SOURCE_TYPES: tuple[str, ...] = ("vbo", "bosch", "racechrono", "aim", "motec", "mdf", "merged")

LapKind = Literal["out", "flying", "in", "partial", "pit"]
#: where the laps came from: the file's gates, beacons or lap counter, an automatic line,
#: lines an engineer set (``user``), lines a track remembered (``track``), or none
LapSource = Literal["gate", "beacon", "counter", "auto", "user", "track", "none"]

#: Progress callback: (done, total). Long jobs call it now and then; it may raise to cancel.
Progress = Callable[[int, int], None]

#: Observer of the save pipeline's named steps, given by the caller (docs/storage.md#checkpoints):
#: called with the step's name (``before_tx``, ``after_commit``, ``parquet``...) as each is
#: reached. The app passes none; the crash tests pass one that kills the process at a step.
Checkpoint = Callable[[str], None]


@dataclass
class LapTelemetry:
    """One lap's samples: one float64 array per channel, NaN meaning "no sample".

    ``channels`` always holds ``time`` and ``distance`` (both restarting at 0 at the lap's
    start); other standard and auxiliary channels are present when the session has them.
    All arrays have the same length.
    """

    lap_number: int
    start_offset: float  #: seconds from the session start to this lap's start
    channels: dict[str, FloatArray]

    def __len__(self) -> int:
        time = self.channels.get("time")
        return 0 if time is None else int(time.shape[0])

    def points(self) -> Iterator[TelemetryPoint]:
        """The lap as rows, for code that wants rows (slow: use the columns where you can)."""
        names = [n for n in self.channels if n not in ("time", "distance")]
        time = self.channels["time"]
        distance = self.channels["distance"]
        for i in range(len(self)):
            yield TelemetryPoint(
                lap_number=self.lap_number,
                time=float(time[i]),
                distance=float(distance[i]),
                values={n: float(self.channels[n][i]) for n in names},
            )


@dataclass(frozen=True)
class TelemetryPoint:
    """A row view of one sample. ``values`` maps every other channel to its value (NaN: none)."""

    lap_number: int
    time: float
    distance: float
    values: Mapping[str, float]


@dataclass
class SessionMetadata:
    """What the Parquet footer says about the session besides the lap index."""

    imported_at: datetime
    source_type: SourceType
    started_at: datetime | None = None
    #: free-form extras (logger model, per-source channel lists, merge offsets...) as text
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class SessionTelemetry:
    """A whole session's telemetry: what one Parquet file holds.

    ``units`` and ``source_names`` are keyed by channel name (standard and auxiliary).
    ``auxiliary_channels`` lists the non-standard channels in file order. ``labels`` names
    the text channels: their values are codes, ``labels[name][code]`` the text.
    """

    session_id: int
    laps: list[LapTelemetry]
    auxiliary_channels: list[str]
    units: dict[str, str]
    source_names: dict[str, str]
    metadata: SessionMetadata
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def channel_names(self) -> list[str]:
        """Every channel present in the session, standard ones first, in file order."""
        present: set[str] = set()
        for lap in self.laps:
            present.update(lap.channels)
        # a key listed as auxiliary is auxiliary even when spelled like a standard channel
        # (its unit may not be canonical): the Parquet writer stores it under a unique name
        aux = set(self.auxiliary_channels)
        std = [c for c in STANDARD_CHANNELS if c in ("time", "distance") or (c in present and c not in aux)]
        return std + list(self.auxiliary_channels)

    @property
    def channel_count(self) -> int:
        return len(self.channel_names)

    @property
    def total_points(self) -> int:
        return sum(len(lap) for lap in self.laps)


@runtime_checkable
class TelemetryStorage(Protocol):
    """Where sessions' telemetry lives. Session ids are positive integers."""

    def write(self, telemetry: SessionTelemetry, progress: Progress | None = None) -> Path:
        """Write the whole session atomically and return the file's path."""
        ...

    def read(self, session_id: int) -> SessionTelemetry | None:
        """The whole session, or None if it has no telemetry."""
        ...

    def read_lap(self, session_id: int, lap_number: int) -> LapTelemetry | None:
        """One lap only (reads only that lap's data), or None if the session or lap is absent."""
        ...

    def exists(self, session_id: int) -> bool: ...

    def delete(self, session_id: int) -> bool:
        """Remove the session's telemetry; True if something was removed."""
        ...


# --- What save_session commits ------------------------------------------------------------


@dataclass(frozen=True)
class ChannelInfo:
    """A channel as the catalogue lists it."""

    name: str  #: the name in the Parquet file
    source_name: str  #: the name in the logger file
    unit: str
    standard: bool


@dataclass
class SourceRecord:
    """One logger file that went into a session (a row of ``telemetry_sources``)."""

    source_type: SourceType
    file_name: str
    file_size: int
    sha256: str
    logger_model: str | None
    sample_rate_hz: float | None
    channels: list[ChannelInfo]
    started_at: datetime | None = None
    #: seconds added to this source's clock to put it on the session's time base (merges)
    time_offset_s: float = 0.0


@dataclass
class LapRecord:
    """One lap's metadata (a row of ``laps``)."""

    lap_number: int
    kind: LapKind
    start_offset_s: float
    lap_time_s: float | None  #: None for laps that are not timed (out-lap before a gate...)
    distance_m: float | None
    samples: int
    max_speed_kmh: float | None
    min_speed_kmh: float | None
    sectors_s: list[float]
    proposed_valid: bool
    reason: str
    complete: bool = True
    user_valid: bool | None = None  #: the user's decision, kept apart from the proposal

    @property
    def valid(self) -> bool:
        return self.proposed_valid if self.user_valid is None else self.user_valid


@dataclass(frozen=True)
class TrackLine:
    """A start/finish, finish or split line as the catalogue keeps it (degrees, north and
    east positive): two points across the track, ``capture_m`` how far from their midpoint a
    crossing counts, ``one_way`` when only crossings along the normal of point 1 -> point 2
    (turned left) count, else the direction most crossings take. ``origin``: ``file``,
    ``user``, ``track`` or ``auto``."""

    kind: Literal["start", "finish", "split"]
    lat1: float
    lon1: float
    lat2: float
    lon2: float
    capture_m: float
    origin: str
    one_way: bool = False
    name: str = ""


@dataclass(frozen=True)
class KnownTrack:
    """A track in the catalogue and the lines remembered for it."""

    id: int
    name: str
    ref_lat: float  #: the start line's midpoint (degrees)
    ref_lon: float
    lines: list[TrackLine]


@dataclass
class SessionDraft:
    """An imported, split, not yet saved session: what the GUI previews and Save commits."""

    name: str
    driver: str | None
    track: str | None
    vehicle: str | None
    started_at: datetime | None
    notes: str
    lap_source: LapSource
    sources: list[SourceRecord]
    laps: list[LapRecord]
    telemetry: SessionTelemetry  #: session_id is 0 until saved
    warnings: list[str] = field(default_factory=list)
    #: the sum of the best sector times of the valid complete laps (None without sectors)
    ideal_lap_s: float | None = None
    #: the lines the laps and sectors were timed at
    lines: list[TrackLine] = field(default_factory=list)
    #: where the sector lines came from: ``file``, ``user``, ``track``, ``auto`` or ``none``
    sector_source: str = "none"
