"""The catalogue schema: migrations both ways, models == migrations, engine settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import current_revision, downgrade, head_revision, make_engine, upgrade
from storage.db.models import Base, Driver, Lap, TelemetrySource, TrackSession

TABLES = {"drivers", "sessions", "telemetry_sources", "laps", "tracks"}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_empty_to_head_to_base_to_head(bare_engine: Engine) -> None:
    assert current_revision(bare_engine) is None
    assert _tables(bare_engine) == set()
    upgrade(bare_engine)
    assert current_revision(bare_engine) == head_revision()
    assert _tables(bare_engine) == TABLES
    downgrade(bare_engine, "base")
    assert current_revision(bare_engine) is None
    assert _tables(bare_engine) == set()
    upgrade(bare_engine)
    assert _tables(bare_engine) == TABLES
    upgrade(bare_engine)  # already at head: a no-op, as at every app start
    assert current_revision(bare_engine) == head_revision()


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_foreign_keys_and_indexes(engine: Engine) -> None:
    insp = inspect(engine)
    for table in ("laps", "telemetry_sources"):
        (fk,) = insp.get_foreign_keys(table)
        assert fk["referred_table"] == "sessions"
        assert fk["options"].get("ondelete") == "CASCADE"
    indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("telemetry_sources")}
    assert ("sha256",) in indexed
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("laps")}
    assert ("session_id", "lap_number") in uniques


def _session(**kw: object) -> TrackSession:
    fields: dict[str, object] = dict(
        name="s",
        imported_at=datetime.now(UTC),
        notes="",
        status="writing",
        lap_source="gate",
        source_type="vbo",
    )
    fields.update(kw)
    return TrackSession(**fields)


def _lap(n: int) -> Lap:
    return Lap(
        lap_number=n,
        start_offset_s=0.0,
        samples=1,
        kind="flying",
        source="gate",
        proposed_valid=True,
        reason="",
        sectors_s=[],
        complete=True,
    )


def test_cascade_and_unique_lap_numbers(engine: Engine) -> None:
    with Session(engine) as db, db.begin():
        s = _session(
            laps=[_lap(0), _lap(1)],
            sources=[
                TelemetrySource(
                    source_type="vbo", file_name="a.vbo", file_size=1, sha256="ab" * 32, channels=[], time_offset_s=0.0
                )
            ],
        )
        db.add(s)
        db.flush()
        sid = s.id
    with pytest.raises(IntegrityError), Session(engine) as db, db.begin():
        duplicate = _lap(1)
        duplicate.session_id = sid
        db.add(duplicate)
    with pytest.raises(IntegrityError), Session(engine) as db, db.begin():
        db.add(_session(status="done"))  # not a status
    # delete in plain SQL: the database cascades, not the ORM
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM sessions WHERE id = :id"), {"id": sid})
    with Session(engine) as db:
        assert db.scalars(select(Lap)).all() == []
        assert db.scalars(select(TelemetrySource)).all() == []


def test_timestamps_round_trip_as_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2024, 7, 1, 14, 30, 15, 123456, tzinfo=paris)
    naive = datetime(2024, 7, 1, 9, 0)
    with Session(engine) as db, db.begin():
        db.add_all([_session(name="aware", started_at=local), _session(name="naive", started_at=naive)])
    with Session(engine) as db:
        got = {s.name: s.started_at for s in db.scalars(select(TrackSession))}
    assert got["aware"] == local and got["aware"].tzinfo == UTC
    assert got["aware"].hour == 12
    assert got["naive"] == naive.replace(tzinfo=UTC) and got["naive"].tzinfo == UTC


def test_driver_names_are_unique(engine: Engine) -> None:
    with Session(engine) as db, db.begin():
        db.add(Driver(name="Alain"))
    with pytest.raises(IntegrityError), Session(engine) as db, db.begin():
        db.add(Driver(name="Alain"))


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "cat.sqlite3"
    engine = make_engine(f"sqlite:///{path.as_posix()}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            busy_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert busy_ms is not None and busy_ms >= 5000
        assert path.parent.is_dir()
    finally:
        engine.dispose()
