"""What SQLite accepts, PostgreSQL accepts: text from a file (NUL bytes, names that are not
UTF-8, over-long labels) is stored cleaned, the same on both backends, never a storage error."""

from __future__ import annotations

from dataclasses import replace

from draftmaker import make_draft
from sqlalchemy import Engine

from storage.db.catalog import clean_draft, load_session, update_session
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import save_session


def test_hostile_text_from_a_file_is_stored_cleaned(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    draft = make_draft("text", driver="Dr\x00iver" + "x" * 250, track="T" * 201, vehicle="car\x00")
    src = replace(draft.sources[0], file_name="caf\udce9\x00.vbo", logger_model="M\x00" * 150)
    draft = replace(
        draft,
        name="name\x00" * 120,
        notes="a\x00b",
        sources=[src],
        laps=[replace(draft.laps[0], reason="bad\x00lap"), *draft.laps[1:]],
    )
    cleaned, warnings = clean_draft(draft)
    assert any(w.startswith("driver: NUL characters removed; cut from") for w in warnings)
    assert "source file name: NUL characters removed; bytes that are not UTF-8 replaced by U+FFFD" in warnings
    assert draft.track == "T" * 201  # the draft given is not modified
    sid = save_session(draft, engine, telemetry)
    saved = load_session(engine, sid)
    s = saved.summary
    assert (s.driver, s.track, s.vehicle, s.status) == (("Driver" + "x" * 250)[:200], "T" * 200, "car", "ready")
    assert s.name == ("name" * 120)[:500] and saved.notes == "ab"
    assert saved.sources[0].file_name == "caf\ufffd.vbo"
    assert saved.sources[0].logger_model == "M" * 150
    assert saved.laps[0].reason == "badlap" and saved.laps[1:] == cleaned.laps[1:]
    update_session(engine, sid, name="n\x00" * 600, track="\x00" + "t" * 300, notes="x\x00")
    s2 = load_session(engine, sid)
    assert (s2.summary.name, s2.summary.track, s2.notes) == ("n" * 500, "t" * 200, "x")
