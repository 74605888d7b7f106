"""The catalogue's tables as SQLAlchemy 2.0 typed models.

Telemetry samples never live here: a session row points at its Parquet file. Every
timestamp is stored and returned as a tz-aware UTC ``datetime`` on SQLite and PostgreSQL
alike (:class:`UTCDateTime`). Constraint names follow one naming convention so Alembic
migrations can address them on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: telemetry status of a session: the Parquet file is being written, is complete, or failed
STATUSES: tuple[str, ...] = ("writing", "ready", "failed")


class UTCDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC datetime on every backend.

    SQLite has no time zones, so values are stored as naive UTC and given ``UTC`` back on
    load; PostgreSQL stores ``timestamptz`` and values are converted to UTC on load. A
    naive datetime handed in is taken to be UTC already (loggers that log GPS time).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Driver(Base):
    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Track(Base):
    """A place laps are timed at, and the lines remembered for it.

    ``lines`` are dicts like ``TrackSession.timing_lines`` plus ``session_id``: the session
    each line came from (a file's gate the car crossed, or an engineer's line).
    """

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the start line's midpoint (degrees)
    ref_lat: Mapped[float] = mapped_column(Float)
    ref_lon: Mapped[float] = mapped_column(Float)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TrackSession(Base):
    """One saved session (a row of ``sessions``); its telemetry is ``file_path``."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("status IN ('writing', 'ready', 'failed')", name="status"),
        Index("ix_sessions_started_at", "started_at"),
        Index("ix_sessions_track", "track"),
        Index("ix_sessions_status", "status"),
        Index("ix_sessions_driver_id", "driver_id"),
        Index("ix_sessions_track_id", "track_id"),
        # SQLite would otherwise reuse the id of a deleted session, and with it the file name
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    track: Mapped[str | None] = mapped_column(String(200))
    vehicle: Mapped[str | None] = mapped_column(String(200))
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("drivers.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``started_at`` is a wall-clock time with no zone (AiM, MoTeC): stored as is, and
    #: handed back naive rather than passed off as UTC
    started_at_local: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    #: relative to the data directory, with forward slashes (``telemetry/12.parquet``)
    file_path: Mapped[str | None] = mapped_column(String(1000))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    #: rows of the Parquet file (the expected count while ``writing``)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    lap_source: Mapped[str] = mapped_column(String(16))
    source_type: Mapped[str] = mapped_column(String(16))
    #: the sum of the best sector times of the valid complete laps
    ideal_lap_s: Mapped[float | None] = mapped_column(Float)
    #: where the sector lines came from: file, user, track, auto or none
    sector_source: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    #: the lines the laps were timed at: [{"kind", "lat1", "lon1", "lat2", "lon2",
    #: "capture_m", "origin", "one_way", "name"}, ...]
    timing_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: raised by every re-split (by a random step, so concurrent ones never pick the same);
    #: the Parquet footer carries the revision its laps belong to
    laps_revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: the :class:`Track` the session was recorded at (no foreign key: see migration 0002)
    track_id: Mapped[int | None] = mapped_column(Integer)

    driver: Mapped[Driver | None] = relationship()
    sources: Mapped[list[TelemetrySource]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TelemetrySource.id",
    )
    laps: Mapped[list[Lap]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Lap.lap_number",
    )


class TelemetrySource(Base):
    """One logger file that went into a session."""

    __tablename__ = "telemetry_sources"
    __table_args__ = (
        Index("ix_telemetry_sources_sha256", "sha256"),
        Index("ix_telemetry_sources_session_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    source_type: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(1000))
    file_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    logger_model: Mapped[str | None] = mapped_column(String(200))
    sample_rate_hz: Mapped[float | None] = mapped_column(Float)
    #: [{"name", "source_name", "unit", "standard"}, ...] in file order
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    time_offset_s: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[TrackSession] = relationship(back_populates="sources")


class Lap(Base):
    """One lap's metadata; its samples are the lap's row group in the Parquet file."""

    __tablename__ = "laps"
    __table_args__ = (UniqueConstraint("session_id", "lap_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    lap_number: Mapped[int] = mapped_column(Integer)
    start_offset_s: Mapped[float] = mapped_column(Float)
    lap_time_s: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    #: where the lap's boundaries came from: gate, beacon, counter, auto or none
    source: Mapped[str] = mapped_column(String(16))
    proposed_valid: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    #: the user's decision; NULL means "go with the proposal"
    user_valid: Mapped[bool | None] = mapped_column(Boolean)
    sectors_s: Mapped[list[float]] = mapped_column(JSON)
    max_speed_kmh: Mapped[float | None] = mapped_column(Float)
    min_speed_kmh: Mapped[float | None] = mapped_column(Float)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)

    session: Mapped[TrackSession] = relationship(back_populates="laps")
