"""Small, deterministic SessionDrafts for the catalogue tests (and their subprocesses)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np

from storage.types import (
    ChannelInfo,
    LapRecord,
    LapTelemetry,
    SessionDraft,
    SessionMetadata,
    SessionTelemetry,
    SourceRecord,
)


def sha_of(tag: str) -> str:
    return hashlib.sha256(tag.encode("utf-8")).hexdigest()


def make_draft(
    tag: str,
    *,
    laps: int = 4,
    points: int = 50,
    driver: str | None = "Ayrton",
    track: str | None = "Interlagos",
    vehicle: str | None = "MP4/4",
    file_name: str | None = None,
    started_at: datetime | None = None,
    aux: int = 2,
) -> SessionDraft:
    """A session of ``laps`` laps of ``points`` samples (lap 0 the out-lap), values from
    ``tag`` so that two tags give different telemetry and different source SHA-256s."""
    rng = np.random.default_rng(int(sha_of(tag)[:8], 16))
    start = started_at or datetime(2024, 5, 1, 12, 0, tzinfo=UTC) + timedelta(
        minutes=int(sha_of(tag)[8:12], 16) % 10_000
    )
    aux_names = [f"aux_{i}" for i in range(aux)]
    lap_tel: list[LapTelemetry] = []
    lap_recs: list[LapRecord] = []
    offset = 0.0
    for n in range(laps):
        t = np.arange(points, dtype=np.float64) * 0.1
        speed = 100 + 50 * rng.random(points)
        channels = {
            "time": t,
            "distance": np.cumsum(speed / 36.0),
            "speed": speed,
            "rpm": 5000 + 3000 * rng.random(points),
        }
        for name in aux_names:
            channels[name] = rng.random(points)
        channels["rpm"][points // 2] = np.nan  # a missing sample stays missing
        lap_tel.append(LapTelemetry(lap_number=n, start_offset=offset, channels=channels))
        kind = "out" if n == 0 else ("in" if n == laps - 1 and laps > 2 else "flying")
        lap_time = float(points * 0.1) + (0.37 * n if n else 0.0)
        lap_recs.append(
            LapRecord(
                lap_number=n,
                kind=kind,  # type: ignore[arg-type]
                start_offset_s=offset,
                lap_time_s=None if n == 0 else lap_time,
                distance_m=float(channels["distance"][-1]),
                samples=points,
                max_speed_kmh=float(speed.max()),
                min_speed_kmh=float(speed.min()),
                sectors_s=[lap_time / 3] * 3 if n else [],
                proposed_valid=kind == "flying",
                reason="" if kind == "flying" else f"{kind} lap",
            )
        )
        offset += points * 0.1
    units = {"time": "s", "distance": "m", "speed": "km/h", "rpm": "rpm"}
    units.update({name: "V" for name in aux_names})
    source_names = {name: name.upper() for name in units}
    name = file_name or f"{tag}.vbo"
    telemetry = SessionTelemetry(
        session_id=0,
        laps=lap_tel,
        auxiliary_channels=aux_names,
        units=units,
        source_names=source_names,
        metadata=SessionMetadata(imported_at=start, source_type="vbo", started_at=start),
    )
    source = SourceRecord(
        source_type="vbo",
        file_name=name,
        file_size=1234 + len(tag),
        sha256=sha_of(tag),
        logger_model="VBOX 3i",
        sample_rate_hz=10.0,
        channels=[ChannelInfo(c, source_names[c], u, c in ("speed", "rpm")) for c, u in units.items()],
        started_at=start,
    )
    return SessionDraft(
        name=f"session {tag}",
        driver=driver,
        track=track,
        vehicle=vehicle,
        started_at=start,
        notes=f"notes for {tag}",
        lap_source="gate",
        sources=[source],
        laps=lap_recs,
        telemetry=telemetry,
    )
