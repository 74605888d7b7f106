"""A saved session on a synthetic track, and the checks every re-split must pass."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from polytrack import PolyTrack, paperclip

from desktop_app.importing import draft_from_recording, recording_from_telemetry, resplit_draft
from desktop_app.laps.resplit import LinePoints, user_lines
from desktop_app.loggers.recording import Recording
from storage.db.catalog import load_session
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_resplit import file_revision
from storage.sessions import save_session
from storage.types import LapRecord, SessionDraft, SessionTelemetry


def track() -> PolyTrack:
    """850 m paperclip, 4.4 laps at 20 m/s, 10 Hz: about 1900 rows."""
    return PolyTrack(paperclip(width=16.0), laps=4.4, start_m=30.0)


def recording(t: PolyTrack | None = None) -> Recording:
    t = t or track()
    return t.recording(gates=[t.gate_along(0.0, 0.0, name="S/F")])


def save(engine: Engine, storage: ParquetTelemetryStorage, tag: str = "run") -> int:
    draft = draft_from_recording(recording(), sha256=f"{tag:0>64}"[:64], file_size=1)
    draft.name = f"session {tag}"
    return save_session(draft, engine, storage, force=True)


#: two line sets a re-split alternates between: (start, splits), points across the track
def line_sets(t: PolyTrack | None = None) -> list[tuple[LinePoints, list[LinePoints]]]:
    t = t or track()
    return [
        (t.across(0.0, 150.0, 8.0), [t.across(16.0, 0.0, 8.0)]),
        (t.across(16.0, -120.0, 8.0), [t.across(0.0, 60.0, 8.0), t.across(16.0, 180.0, 8.0)]),
    ]


@dataclass
class SavedCase:
    """A session saved by :func:`save` and read back: what a re-split starts from."""

    session_id: int
    telemetry: SessionTelemetry
    rows: dict[str, np.ndarray]  #: :func:`raw_rows` of the file as saved
    laps: list[LapRecord]  #: the catalogue's laps as saved
    base: SessionDraft  #: the saved session as a draft a re-split replaces the laps of

    def resplit(self, line_set: int) -> SessionDraft:
        """The draft a re-split at ``line_sets()[line_set]`` makes."""
        start, splits = line_sets()[line_set]
        return resplit_draft(recording_from_telemetry(self.telemetry), self.base, user_lines(start, splits))


def saved_case(engine: Engine, storage: ParquetTelemetryStorage) -> SavedCase:
    sid = save(engine, storage)
    telemetry = storage.read(sid)
    assert telemetry is not None
    saved = load_session(engine, sid)
    base = SessionDraft(
        saved.summary.name, None, None, None, None, "", saved.lap_source, saved.sources, saved.laps, telemetry
    )
    return SavedCase(sid, telemetry, raw_rows(telemetry), saved.laps, base)


def raw_rows(telemetry: SessionTelemetry) -> dict[str, np.ndarray]:
    """Every channel the file keeps as it was logged (not the derived time and distance),
    the laps joined in order, plus the session time of every row."""
    out = {
        name: np.concatenate([lap.channels[name] for lap in telemetry.laps])
        for name in telemetry.channel_names
        if name not in ("time", "distance")
    }
    out["session time"] = np.concatenate([lap.start_offset + lap.channels["time"] for lap in telemetry.laps])
    return out


def check_agree(engine: Engine, storage: ParquetTelemetryStorage, session_id: int, rows: dict[str, np.ndarray]) -> int:
    """The catalogue and the file hold the same laps, the file one row group per lap, and
    the samples are exactly ``rows``, in order. Returns the revision."""
    saved = load_session(engine, session_id)
    assert saved.summary.status == "ready"
    footer = storage.read_footer(session_id)
    assert footer is not None
    assert file_revision(footer.metadata) == saved.laps_revision
    assert [e.lap_number for e in footer.laps] == [lap.lap_number for lap in saved.laps]
    assert [e.rows for e in footer.laps] == [lap.samples for lap in saved.laps]
    assert [e.start_offset for e in footer.laps] == [lap.start_offset_s for lap in saved.laps]
    meta = pq.ParquetFile(storage.path_for(session_id)).metadata
    assert meta.num_row_groups == len(saved.laps)
    assert sum(lap.samples for lap in saved.laps) == saved.summary.row_count == meta.num_rows
    telemetry = storage.read(session_id)
    assert telemetry is not None
    got = raw_rows(telemetry)
    assert set(got) == set(rows)
    for name, values in rows.items():
        if name == "session time":
            assert np.allclose(got[name], values, rtol=0, atol=1e-9)
        else:
            assert np.array_equal(got[name], values, equal_nan=True), name
    for lap in telemetry.laps:
        assert lap.channels["time"][0] >= -1e-9 and np.all(np.diff(lap.channels["time"]) > 0)
    return saved.laps_revision
