"""Re-splitting a saved session: new laps in the catalogue and the file, samples untouched."""

from __future__ import annotations

import dataclasses
import tempfile

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from resplitcase import check_agree, line_sets, raw_rows, recording, save, saved_case, track
from sqlalchemy import Engine, text

from desktop_app.importing import draft_from_recording, recording_from_telemetry, resplit_draft
from desktop_app.laps.resplit import LineError, user_lines
from desktop_app.resplitting import resplit_session
from storage.db import make_engine, upgrade
from storage.db.catalog import NewLaps, known_tracks, load_session, replace_laps
from storage.db.errors import CatalogError
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_resplit import commit_resplit, file_revision, pending_files, pending_path, write_pending
from storage.sessions import recover


def test_resplit_replaces_laps_in_catalogue_and_file(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    t = track()
    sid = save(engine, telemetry)
    before = telemetry.read(sid)
    assert before is not None
    rows = raw_rows(before)
    assert check_agree(engine, telemetry, sid, rows) == 0
    start, splits = line_sets(t)[0]
    result = resplit_session(engine, telemetry, sid, user_lines(start, splits))
    assert result.revision > 0
    assert check_agree(engine, telemetry, sid, rows) == result.revision
    saved = load_session(engine, sid)
    assert saved.lap_source == "user" and saved.sector_source == "user"
    # the new laps start where the car crosses the new line (150 m up the first straight)
    truth = t.passes(0.0, 150.0)
    assert [lap.start_offset_s for lap in saved.laps[1:]] == pytest.approx(truth, abs=2e-3)
    flying = [lap for lap in saved.laps if lap.kind == "flying"]
    assert len(flying) == len(truth) - 1 >= 3
    for lap in flying:
        assert lap.lap_time_s == pytest.approx(t.lap_time, abs=1e-3)
        assert len(lap.sectors_s) == 2 and sum(lap.sectors_s) == pytest.approx(lap.lap_time_s, abs=1e-9)
    assert saved.ideal_lap_s == pytest.approx(t.lap_time, abs=2e-3)
    assert [x.origin for x in saved.lines] == ["user", "user"]
    # the lines are kept for the track, and a second re-split works from the new file
    (kept,) = known_tracks(engine)
    assert [x.kind for x in kept.lines] == ["start", "split"] and saved.track_id == kept.id
    start, splits = line_sets(t)[1]
    second = resplit_session(engine, telemetry, sid, user_lines(start, splits)).revision
    assert second > result.revision
    assert check_agree(engine, telemetry, sid, rows) == second
    assert len(known_tracks(engine)) == 1  # the same track, its lines replaced
    assert pending_files(telemetry) == [] and telemetry.temp_files() == []


def test_line_nowhere_near_changes_nothing(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    sid = save(engine, telemetry)
    path = telemetry.path_for(sid)
    data = path.read_bytes()
    laps = load_session(engine, sid).laps
    t = track()
    far = t.across(0.0, 150.0, 8.0)
    far = (far[0] + 0.05, far[1], far[2] + 0.05, far[3])  # 5.5 km north
    with pytest.raises(LineError, match="nowhere near the driven line"):
        resplit_session(engine, telemetry, sid, user_lines(far))
    with pytest.raises(LineError, match=r"split line 1 .* nowhere near"):
        resplit_session(engine, telemetry, sid, user_lines(t.across(0.0, 150.0, 8.0), [far]))
    assert path.read_bytes() == data and load_session(engine, sid).laps == laps
    assert load_session(engine, sid).laps_revision == 0
    assert telemetry.temp_files() == [] and pending_files(telemetry) == []


def test_recover_finishes_a_committed_resplit(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    """The catalogue committed, the process died before the swap: recover puts the new
    file in place; a pending file the catalogue never committed is left and reported."""
    case = saved_case(engine, telemetry)
    sid, rows = case.session_id, case.rows
    new = case.resplit(0)
    # steps 1 and 2 of commit_resplit, then the process "dies" before the swap
    write_pending(telemetry, sid, new.telemetry, 7)
    replace_laps(engine, sid, 0, NewLaps(new.laps, new.lap_source, new.ideal_lap_s, new.sector_source, new.lines), 7)
    assert load_session(engine, sid).laps_revision == 7
    footer = telemetry.read_footer(sid)
    assert footer is not None and file_revision(footer.metadata) == 0  # the two disagree until recover
    with pytest.raises(CatalogError, match="run laptrace recover"):  # and nothing re-splits over that
        resplit_session(engine, telemetry, sid, user_lines(*line_sets()[1]))
    report = recover(engine, telemetry)
    assert report.resplit_finished == [sid] and report.resplit_leftovers == []
    assert check_agree(engine, telemetry, sid, rows) == 7
    # pending files of re-splits that never committed (or lost to a concurrent one): left
    # alone, reported, no harm
    write_pending(telemetry, sid, new.telemetry, 9)
    write_pending(telemetry, sid, new.telemetry, 12)
    report = recover(engine, telemetry)
    assert report.resplit_finished == []
    assert report.resplit_leftovers == [pending_path(telemetry, sid, 9), pending_path(telemetry, sid, 12)]
    assert check_agree(engine, telemetry, sid, rows) == 7
    # and a re-split after them still goes through
    start, splits = line_sets()[1]
    assert resplit_session(engine, telemetry, sid, user_lines(start, splits)).revision > 7
    check_agree(engine, telemetry, sid, rows)


def test_two_resplits_from_the_same_revision_only_one_wins(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    """Two re-splits (the window and the command line) read the same laps; the second to
    commit is refused, and its new file never replaces the winner's."""
    case = saved_case(engine, telemetry)
    sid, rows = case.session_id, case.rows
    drafts = [case.resplit(k) for k in range(len(line_sets()))]
    new = [NewLaps(d.laps, d.lap_source, d.ideal_lap_s, d.sector_source, d.lines) for d in drafts]
    won = commit_resplit(engine, telemetry, sid, 0, drafts[0].telemetry, new[0])
    with pytest.raises(CatalogError, match="changed meanwhile"):
        commit_resplit(engine, telemetry, sid, 0, drafts[1].telemetry, new[1])
    assert check_agree(engine, telemetry, sid, rows) == won
    assert [lap.start_offset_s for lap in load_session(engine, sid).laps] == [
        lap.start_offset_s for lap in drafts[0].laps
    ]
    assert pending_files(telemetry) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.floats(0.0, 1.0),
    splits=st.lists(st.floats(0.02, 0.98), max_size=3),
    half=st.floats(4.0, 12.0),
    rate=st.sampled_from([5.0, 10.0, 25.0]),
)
def test_resplitting_keeps_every_sample_once_in_order(at: float, splits: list[float], half: float, rate: float) -> None:
    t = track()
    t.rate_hz = rate
    rec = recording(t)
    draft = draft_from_recording(rec, sha256="0" * 64, file_size=1)
    rows = raw_rows(draft.telemetry)

    def across(frac: float) -> tuple[float, float, float, float]:
        e, n = t.at(t.length * frac)
        return t.across(float(e), float(n), half)

    lines = user_lines(across(at), [across((at + f) % 1.0) for f in splits])
    with tempfile.TemporaryDirectory() as tmp:
        # through the Parquet file both ways, as a saved session goes
        store = ParquetTelemetryStorage(tmp)
        store.write(dataclasses.replace(draft.telemetry, session_id=1))
        saved = store.read(1)
        assert saved is not None
        try:
            new = resplit_draft(recording_from_telemetry(saved), draft, lines)
        except LineError:
            # a line on a hairpin's apex can be passed without being crossed: refused whole
            assume(False)
            return
        path = store.write(dataclasses.replace(new.telemetry, session_id=1))
        tel = store.read(1)
        assert tel is not None
        assert pq.ParquetFile(path).metadata.num_row_groups == len(new.laps)
    got = raw_rows(tel)
    for name, values in rows.items():
        if name == "session time":
            assert np.allclose(got[name], values, rtol=0, atol=1e-9)
        else:
            assert np.array_equal(got[name], values, equal_nan=True)
    assert sum(len(lap) for lap in tel.laps) == rec.sample_count == sum(lap.samples for lap in new.laps)
    assert [lap.lap_number for lap in tel.laps] == [lap.lap_number for lap in new.laps]
    numbers = [lap.lap_number for lap in new.laps]
    assert numbers == list(range(len(numbers))) and all(len(lap) > 0 for lap in tel.laps)
    for lap in new.laps:
        if lap.sectors_s:
            assert sum(lap.sectors_s) == pytest.approx(lap.lap_time_s, abs=1e-9)


def test_migration_keeps_sessions_laps_and_ids(tmp_path: object) -> None:
    """0001 -> 0002 on a catalogue with data: nothing lost, deleted ids not handed out again."""
    from pathlib import Path

    url = f"sqlite:///{Path(str(tmp_path)) / 'old.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as db:
        for sid in (1, 2, 3):
            db.execute(
                text(
                    "INSERT INTO sessions (id, name, started_at_local, imported_at, notes, status, lap_source, "
                    "source_type) VALUES (:id, 'x', 0, '2026-01-01 00:00:00', '', 'ready', 'gate', 'vbo')"
                ),
                {"id": sid},
            )
            db.execute(
                text(
                    "INSERT INTO laps (session_id, lap_number, start_offset_s, samples, kind, source, "
                    "proposed_valid, reason, sectors_s, complete) VALUES (:id, 0, 0, 5, 'out', 'gate', 0, '', '[]', 1)"
                ),
                {"id": sid},
            )
        db.execute(text("DELETE FROM sessions WHERE id = 3"))
    upgrade(engine)
    with engine.begin() as db:
        assert db.execute(text("SELECT count(*) FROM laps")).scalar() == 2
        assert db.execute(text("SELECT laps_revision, sector_source FROM sessions WHERE id = 1")).one() == (0, "none")
        db.execute(
            text(
                "INSERT INTO sessions (name, started_at_local, imported_at, notes, status, lap_source, source_type) "
                "VALUES ('y', 0, '2026-01-01 00:00:00', '', 'ready', 'gate', 'vbo')"
            )
        )
        assert db.execute(text("SELECT max(id) FROM sessions")).scalar() == 4
    engine.dispose()
