"""The save pipeline and the catalogue queries, on SQLite and PostgreSQL, with real Parquet."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pyarrow.parquet as pq
import pytest
from draftmaker import make_draft
from sqlalchemy import Engine, func, select, update

from storage.db.catalog import (
    find_duplicates,
    list_drivers,
    list_sessions,
    list_tracks,
    load_session,
    reading,
    run_write,
    set_lap_validity,
    update_session,
)
from storage.db.errors import DuplicateImportError, SessionNotFoundError
from storage.db.models import Driver, Lap, TelemetrySource, TrackSession
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_schema import ChannelNameError
from storage.sessions import delete_session, recover, save_session


def test_save_then_load(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    draft = make_draft("alpha", laps=4, points=30)
    seen: list[tuple[int, int]] = []
    sid = save_session(draft, engine, telemetry, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert draft.telemetry.session_id == 0  # the draft is left as it was, for a retry

    saved = load_session(engine, sid)
    s = saved.summary
    assert (s.id, s.name, s.driver, s.track, s.vehicle) == (sid, "session alpha", "Ayrton", "Interlagos", "MP4/4")
    assert s.status == "ready" and s.error is None
    assert s.started_at == draft.started_at and s.started_at is not None and s.started_at.tzinfo == UTC
    assert s.file_path == f"telemetry/{sid}.parquet"
    assert s.row_count == 120 and s.lap_count == 4
    assert s.source_type == "vbo" and saved.lap_source == "gate"
    assert saved.notes == "notes for alpha"
    assert saved.laps == draft.laps
    assert saved.sources == [replace(draft.sources[0])]
    # the best lap is the fastest valid, complete, timed one (lap 1; lap 0 is the out-lap)
    assert s.best_lap_s == pytest.approx(draft.laps[1].lap_time_s)

    path = telemetry.root / s.file_path
    assert pq.ParquetFile(path).metadata.num_rows == 120
    with reading(engine) as db:
        row = db.get(TrackSession, sid)
        assert row is not None and row.file_size == path.stat().st_size
    lap2 = telemetry.read_lap(sid, 2)
    assert lap2 is not None
    np.testing.assert_array_equal(lap2.channels["speed"], draft.telemetry.laps[2].channels["speed"])
    assert np.isnan(lap2.channels["rpm"][15])


def test_duplicate_source_is_refused_before_anything_is_written(
    engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    first = save_session(make_draft("dup"), engine, telemetry)
    again = make_draft("dup")
    again.name = "second try"
    with pytest.raises(DuplicateImportError) as info:
        save_session(again, engine, telemetry)
    err = info.value
    assert (err.session_id, err.session_name, err.file_name) == (first, "session dup", "dup.vbo")
    assert err.sha256 == again.sources[0].sha256
    assert "dup.vbo" in str(err) and f"session {first}" in str(err)
    assert [s.id for s in list_sessions(engine)] == [first]
    assert find_duplicates(engine, [again.sources[0].sha256.upper(), "0" * 64]) == {again.sources[0].sha256: first}
    forced = save_session(again, engine, telemetry, force=True)
    assert forced != first and load_session(engine, forced).summary.status == "ready"


def test_list_filters_and_order(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    t0 = datetime(2024, 6, 1, 10, tzinfo=UTC)
    a = save_session(make_draft("a", driver="Ann", track="Spa", started_at=t0), engine, telemetry)
    b = save_session(make_draft("b", driver="Bob", track="Spa", started_at=t0 + timedelta(days=1)), engine, telemetry)
    c = save_session(make_draft("c", driver="Ann", track="Monza", started_at=t0 + timedelta(days=2)), engine, telemetry)
    assert [s.id for s in list_sessions(engine)] == [c, b, a]
    assert [s.id for s in list_sessions(engine, driver="Ann")] == [c, a]
    assert [s.id for s in list_sessions(engine, track="Spa")] == [b, a]
    assert [s.id for s in list_sessions(engine, since=t0 + timedelta(hours=1))] == [c, b]
    local = timezone_plus(2)
    # the same instant in another zone selects the same sessions
    assert [s.id for s in list_sessions(engine, until=(t0 + timedelta(days=1)).astimezone(local))] == [b, a]
    assert list_sessions(engine, driver="Nobody") == []
    assert list_drivers(engine) == ["Ann", "Bob"]
    assert list_tracks(engine) == ["Monza", "Spa"]


def timezone_plus(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


def test_lap_validity_and_session_edits(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    sid = save_session(make_draft("edit", laps=4), engine, telemetry)
    best_before = load_session(engine, sid).summary.best_lap_s
    set_lap_validity(engine, sid, 1, False)  # the fastest lap is thrown out by the user
    saved = load_session(engine, sid)
    assert saved.laps[1].user_valid is False and saved.laps[1].proposed_valid is True
    assert saved.summary.best_lap_s == pytest.approx(saved.laps[2].lap_time_s)
    set_lap_validity(engine, sid, 1, None)
    assert load_session(engine, sid).summary.best_lap_s == best_before
    with pytest.raises(SessionNotFoundError):
        set_lap_validity(engine, sid, 99, True)

    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    update_session(engine, sid, name="renamed", driver="Nelson", track=None, started_at=when, notes="wet")
    s = load_session(engine, sid)
    assert (s.summary.name, s.summary.driver, s.summary.track, s.summary.vehicle) == (
        "renamed",
        "Nelson",
        None,
        "MP4/4",
    )
    assert s.summary.started_at == when and s.notes == "wet"
    update_session(engine, sid, driver=None)
    assert load_session(engine, sid).summary.driver is None
    assert "Nelson" in list_drivers(engine)  # drivers outlive their sessions
    with pytest.raises(SessionNotFoundError):
        update_session(engine, 12345, name="x")
    with pytest.raises(SessionNotFoundError):
        load_session(engine, 12345)


def test_delete_removes_rows_then_file(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    keep = save_session(make_draft("keep"), engine, telemetry)
    gone = save_session(make_draft("gone"), engine, telemetry)
    delete_session(engine, telemetry, gone)
    assert not telemetry.exists(gone) and telemetry.exists(keep)
    with reading(engine) as db:
        assert db.scalar(select(func.count()).select_from(Lap).where(Lap.session_id == gone)) == 0
        assert db.scalar(select(func.count()).select_from(TelemetrySource)) == 1
    assert [s.id for s in list_sessions(engine)] == [keep]
    with pytest.raises(SessionNotFoundError):
        delete_session(engine, telemetry, gone)
    # the source may be imported again once its session is gone
    assert save_session(make_draft("gone"), engine, telemetry) not in (keep, gone)


def test_recover_settles_writing_sessions_and_lists_orphans(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    complete = save_session(make_draft("complete"), engine, telemetry)
    missing = save_session(make_draft("missing"), engine, telemetry)
    short = save_session(make_draft("short"), engine, telemetry)
    telemetry.delete(missing)
    # what a process killed between its commit and its status update leaves behind
    run_write(
        engine,
        lambda db: db.execute(
            update(TrackSession)
            .where(TrackSession.id.in_([complete, missing, short]))
            .values(status="writing", file_size=None)
        ),
    )
    run_write(engine, lambda db: db.execute(update(TrackSession).where(TrackSession.id == short).values(row_count=999)))
    orphan_draft = make_draft("orphan")
    orphan_path = telemetry.write(replace(orphan_draft.telemetry, session_id=777))

    report = recover(engine, telemetry)
    assert report.ready == [complete]
    assert sorted(report.failed) == sorted([missing, short])
    assert report.orphans == [orphan_path] and orphan_path.exists()
    by_id = {s.id: s for s in list_sessions(engine)}
    assert by_id[complete].status == "ready"
    with reading(engine) as db:
        row = db.get(TrackSession, complete)
        assert row is not None and row.file_size == telemetry.path_for(complete).stat().st_size
    assert "not completed" in (by_id[missing].error or "")
    assert "999" in (by_id[short].error or "")
    # a second run finds nothing more to do
    again = recover(engine, telemetry)
    assert (again.ready, again.failed) == ([], [])


INJECTIONS = [
    "Robert'); DROP TABLE sessions;--",
    "x' OR '1'='1",
    '"; DELETE FROM laps; --',
    "名前 ümlaut \\ %_ ' \" ; -- /* */",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_sql_injection_is_stored_verbatim(engine: Engine, telemetry: ParquetTelemetryStorage, evil: str) -> None:
    other = save_session(make_draft("bystander"), engine, telemetry)
    draft = make_draft(evil, driver=evil, track=evil, vehicle=evil, file_name=evil + ".vbo")
    draft.name = evil
    draft.notes = evil
    draft.laps[1].reason = evil
    sid = save_session(draft, engine, telemetry)
    saved = load_session(engine, sid)
    s = saved.summary
    assert (s.name, s.driver, s.track, s.vehicle, saved.notes) == (evil,) * 5
    assert saved.sources[0].file_name == evil + ".vbo"
    assert saved.laps[1].reason == evil
    assert [x.id for x in list_sessions(engine, driver=evil, track=evil)] == [sid]
    update_session(engine, sid, name=evil + "2", driver=evil + "2")
    assert load_session(engine, sid).summary.driver == evil + "2"
    # nothing else was touched
    assert load_session(engine, other).summary.status == "ready"
    assert len(load_session(engine, other).laps) == 4
    assert len(list_sessions(engine)) == 2
    with reading(engine) as db:
        assert set(db.scalars(select(Driver.name))) == {"Ayrton", evil, evil + "2"}


def test_a_local_start_time_stays_local_and_laps_record_their_source(
    engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    """AiM and MoTeC give a wall-clock start with no zone: it must not come back as UTC."""
    local = datetime(2022, 6, 19, 15, 42)
    draft = replace(make_draft("local", laps=2, points=5), started_at=local, lap_source="beacon")
    sid = save_session(draft, engine, telemetry)
    assert load_session(engine, sid).summary.started_at == local  # naive, same wall clock
    assert [s.started_at for s in list_sessions(engine) if s.id == sid] == [local]
    with reading(engine) as db:
        assert db.scalars(select(Lap.source).where(Lap.session_id == sid)).all() == ["beacon"] * 2
    # the user gives the zone: from then on it is a UTC time
    aware = datetime(2022, 6, 19, 13, 42, tzinfo=UTC)
    update_session(engine, sid, started_at=aware)
    assert load_session(engine, sid).summary.started_at == aware
    update_session(engine, sid, started_at=local)
    assert load_session(engine, sid).summary.started_at == local


@pytest.mark.parametrize(
    ("names", "match"),
    [
        (["Oil Temp", "OIL TEMP"], "'Oil Temp' and 'OIL TEMP' are one column name ignoring case"),
        (["aux_0", "Lap_Number"], "'Lap_Number': 'lap_number' is a column storage reserves"),
    ],
)
def test_a_draft_with_names_storage_would_have_to_change_is_refused_before_anything_is_saved(
    engine: Engine, telemetry: ParquetTelemetryStorage, names: list[str], match: str
) -> None:
    draft = make_draft("names")
    tel = draft.telemetry
    renamed = dict(zip(tel.auxiliary_channels, names, strict=True))
    for lap in tel.laps:
        lap.channels = {renamed.get(k, k): v for k, v in lap.channels.items()}
    tel.auxiliary_channels = names
    tel.units = {renamed.get(k, k): v for k, v in tel.units.items()}
    tel.source_names = {renamed.get(k, k): v for k, v in tel.source_names.items()}
    with pytest.raises(ChannelNameError, match=match):
        save_session(draft, engine, telemetry)
    assert list_sessions(engine) == []
    assert telemetry.session_ids() == [] and telemetry.temp_files() == []
