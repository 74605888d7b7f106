"""Injected failures: disk full and permission denied while writing Parquet, the database
connection failing or dropped mid-transaction. No partial rows, a clear error, and a retry
works once the fault is gone."""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest
from draftmaker import make_draft
from pgserver import postgres_base_url
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.db import make_engine, upgrade
from storage.db.catalog import list_sessions, load_session, reading
from storage.db.errors import CatalogError, SaveError
from storage.db.models import Lap, TelemetrySource, TrackSession
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import discard_session, recover, retry_telemetry, save_session


def _counts(engine: Engine) -> tuple[int, int, int]:
    with reading(engine) as db:
        return (
            db.scalar(select(func.count()).select_from(TrackSession)) or 0,
            db.scalar(select(func.count()).select_from(Lap)) or 0,
            db.scalar(select(func.count()).select_from(TelemetrySource)) or 0,
        )


def _no_files(storage: ParquetTelemetryStorage) -> None:
    assert storage.session_ids() == []
    assert storage.temp_files() == []


def _disk_full_on_lap(n: int) -> Callable[..., Any]:
    real = pq.ParquetWriter.write_table
    calls = {"n": 0}

    def write_table(self: pq.ParquetWriter, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == n:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(self, *args, **kwargs)

    return write_table


def test_disk_full_during_parquet_write_then_retry(
    engine: Engine, telemetry: ParquetTelemetryStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = make_draft("full", laps=4)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", _disk_full_on_lap(3))
    with pytest.raises(SaveError) as info:
        save_session(draft, engine, telemetry)
    err = info.value
    assert isinstance(err.cause, OSError) and err.cause.errno == errno.ENOSPC
    assert f"session {err.session_id}" in str(err) and "No space left" in str(err)
    (summary,) = list_sessions(engine)
    assert summary.id == err.session_id and summary.status == "failed"
    assert summary.error is not None and "No space left on device" in summary.error
    _no_files(telemetry)  # neither a partial file nor a temp file is left

    monkeypatch.undo()  # the disk has room again
    retry_telemetry(engine, telemetry, err.session_id, draft.telemetry)
    saved = load_session(engine, err.session_id)
    assert saved.summary.status == "ready" and saved.summary.error is None
    assert pq.ParquetFile(telemetry.path_for(err.session_id)).metadata.num_rows == 200
    assert recover(engine, telemetry).failed == []


def test_permission_denied_then_discard(
    engine: Engine, telemetry: ParquetTelemetryStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*_a: Any, **_k: Any) -> Any:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(telemetry.folder))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    draft = make_draft("denied")
    with pytest.raises(SaveError) as info:
        save_session(draft, engine, telemetry)
    assert isinstance(info.value.cause, PermissionError)
    assert "Permission denied" in (load_session(engine, info.value.session_id).summary.error or "")
    with pytest.raises(SaveError):  # still denied: the retry fails the same clear way
        retry_telemetry(engine, telemetry, info.value.session_id, draft.telemetry)
    monkeypatch.undo()
    discard_session(engine, telemetry, info.value.session_id)
    assert _counts(engine) == (0, 0, 0)
    _no_files(telemetry)
    # discarded: the same file can be saved again
    assert load_session(engine, save_session(draft, engine, telemetry)).summary.status == "ready"


def test_failing_flush_leaves_no_rows_then_retry(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    def broken(stage: str) -> None:
        if stage == "before_commit":
            raise OperationalError("INSERT INTO laps", {}, sqlite3.OperationalError("disk I/O error"))

    draft = make_draft("flush")
    with pytest.raises(CatalogError, match="disk I/O error"):
        save_session(draft, engine, telemetry, checkpoint=broken)
    assert _counts(engine) == (0, 0, 0)
    _no_files(telemetry)
    sid = save_session(draft, engine, telemetry)
    assert load_session(engine, sid).summary.status == "ready"


@pytest.fixture
def pg_victim() -> Iterator[tuple[Engine, Callable[[], int]]]:
    """A catalogue engine on PostgreSQL whose connections carry a unique application_name,
    and a function that terminates them all from another connection (how many)."""
    base = postgres_base_url()
    name = f"victim_{uuid.uuid4().hex[:12]}"
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}", "application_name": name})
    engine = make_engine(url.render_as_string(hide_password=False))

    def terminate() -> int:
        with admin.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name"
                    ),
                    {"name": name},
                ).scalar_one()
            )

    try:
        upgrade(engine)
        yield engine, terminate
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_backend_killed_mid_transaction(
    pg_victim: tuple[Engine, Callable[[], int]],
    telemetry: ParquetTelemetryStorage,
) -> None:
    engine, terminate = pg_victim
    terminated: list[int] = []

    def kill_backend(stage: str) -> None:
        # the session, its source and its laps are flushed, not yet committed
        if stage == "before_commit" and not terminated:
            terminated.append(terminate())

    draft = make_draft("dropped")
    with pytest.raises(CatalogError, match="could not be written") as info:
        save_session(draft, engine, telemetry, checkpoint=kill_backend)
    assert terminated == [1]
    assert "terminat" in str(info.value)  # the server's own words reach the user
    assert _counts(engine) == (0, 0, 0)  # the pool reconnects; nothing was committed
    _no_files(telemetry)
    sid = save_session(draft, engine, telemetry)
    assert load_session(engine, sid).summary.status == "ready"


@pytest.mark.postgres
def test_postgres_connection_dropped_before_status_update(
    pg_victim: tuple[Engine, Callable[[], int]],
    telemetry: ParquetTelemetryStorage,
) -> None:
    """The file is written, then the server drops every connection: the status update
    reconnects (pre-ping) and the session ends up ready."""
    engine, terminate = pg_victim

    def kill_backend(stage: str) -> None:
        if stage == "before_ready":
            assert terminate() >= 1

    sid = save_session(make_draft("late"), engine, telemetry, checkpoint=kill_backend)
    assert load_session(engine, sid).summary.status == "ready"


@pytest.mark.postgres
def test_postgres_connections_lost_while_idle_are_replaced_without_a_restart(
    pg_victim: tuple[Engine, Callable[[], int]], telemetry: ParquetTelemetryStorage
) -> None:
    # the window keeps one engine for hours; a server restart or an idle timeout in between
    # kills its pooled connections, and the next save or listing must simply reconnect
    engine, terminate = pg_victim
    first = save_session(make_draft("before"), engine, telemetry)
    assert [s.id for s in list_sessions(engine)] == [first]
    assert terminate() >= 1  # the pooled, idle connection is gone on the server side
    second = save_session(make_draft("after"), engine, telemetry)
    assert load_session(engine, second).summary.status == "ready"
    assert sorted(s.id for s in list_sessions(engine)) == sorted([first, second])


@pytest.mark.postgres
def test_a_session_deleted_while_it_is_loaded_is_never_seen_without_its_laps(
    pg_victim: tuple[Engine, Callable[[], int]], telemetry: ParquetTelemetryStorage
) -> None:
    # the row, the laps and the sources are separate statements: a delete committed from
    # another connection between them must not give a session without laps
    from sqlalchemy import event

    engine, _ = pg_victim
    sid = save_session(make_draft("raced"), engine, telemetry)
    other = make_engine(engine.url.render_as_string(hide_password=False))
    deleted: list[int] = []
    statements: list[str] = []

    def delete_between(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)
        if not deleted and len(statements) == 2:  # after the session's row, before its laps
            with other.begin() as db:
                db.execute(text("DELETE FROM laps WHERE session_id = :s"), {"s": sid})
                db.execute(text("DELETE FROM telemetry_sources WHERE session_id = :s"), {"s": sid})
                db.execute(text("DELETE FROM sessions WHERE id = :s"), {"s": sid})
            deleted.append(sid)

    event.listen(engine, "before_cursor_execute", delete_between)
    try:
        saved = load_session(engine, sid)
    finally:
        event.remove(engine, "before_cursor_execute", delete_between)
        other.dispose()
    assert deleted == [sid] and "laps" in statements[1]
    assert saved.laps and saved.sources  # the snapshot from before the delete, whole
