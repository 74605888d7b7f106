"""What a reader returns: a file's samples on one time base, with units and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np

from storage.errors import LaptraceError
from storage.types import FloatArray, SourceType


class LoggerFileError(LaptraceError):
    """A logger file that cannot be read. The message names the file, where, and what."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        offset: int | None = None,
        field_name: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.message = message
        self.line = line
        self.offset = offset
        self.field_name = field_name
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f", line {self.line}"
        elif self.offset is not None:
            where += f", byte {self.offset}"
        if self.field_name is not None:
            where += f", field {self.field_name!r}"
        return f"{where}: {self.message}"


class UnsupportedFormatError(LoggerFileError):
    """A file we recognise (or not) but do not read; the message says what to export instead."""


class UnknownFormatError(UnsupportedFormatError):
    """A file that looks like no logger format at all (a drop of a folder skips these)."""


@dataclass
class Channel:
    """One channel of a recording.

    ``name`` is the key in :attr:`Recording.channels`: the standard channel name
    (``speed``...) when ``standard`` is true, else the source name, made unique.
    Standard channels are already in canonical units (see ``storage.types``).
    """

    name: str
    source_name: str
    unit: str
    standard: bool
    values: FloatArray  #: float64, NaN where the channel has no sample at that time
    #: a text channel: its values are codes, ``labels[code]`` the text (None: a numeric channel)
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Gate:
    """A timing line from the file (VBO ``[laptiming]``), in degrees (north, east positive).

    The two points are as the file gives them; see docs/formats.md#vbo-gates on their geometry.
    """

    kind: Literal["start", "finish", "split"]
    lat1: float
    long1: float
    lat2: float
    long2: float
    name: str = ""


@dataclass
class Recording:
    """A logger file read into memory.

    ``time`` is seconds since the first sample (``time[0] == 0``), float64, non-decreasing
    after the reader's repairs. Every channel array has the same length as ``time``.
    ``beacons`` are lap-boundary times on the same time base. ``lap_counter`` names the
    channel (a key of ``channels``) holding a logged lap number, if any.
    """

    path: Path
    format: SourceType
    time: FloatArray
    channels: dict[str, Channel]
    logger: str | None = None
    #: UTC (tz-aware) where the file proves it; naive local time where the format has no zone
    started_at: datetime | None = None
    sample_rate_hz: float | None = None
    gates: list[Gate] = field(default_factory=list)
    beacons: list[float] | None = None  #: None: the file has no beacon field; []: it is empty
    lap_counter: str | None = None
    track: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def sample_count(self) -> int:
        return int(self.time.shape[0])

    def standard(self, name: str) -> FloatArray | None:
        """The values of a standard channel, or None if the file does not have it."""
        ch = self.channels.get(name)
        return ch.values if ch is not None and ch.standard else None

    def check(self) -> None:
        """Assert the invariants every reader promises (used by readers and tests)."""
        n = self.sample_count
        assert self.time.dtype == np.float64
        for ch in self.channels.values():
            assert ch.values.shape == (n,), ch.name
            assert ch.values.dtype == np.float64, ch.name
