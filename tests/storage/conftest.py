"""Database fixtures: every catalogue test runs on SQLite and on PostgreSQL.

The PostgreSQL half needs ``LAPTRACE_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway
server and sets it). Without it the half is skipped, unless ``LAPTRACE_REQUIRE_POSTGRES=1``
(CI), where a missing server fails the test. Each test gets a fresh schema on the server
(``search_path`` in the URL, so subprocesses given the URL land in it too), dropped after.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

# the helpers beside this file (draft builder, subprocess worker) are importable by name
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgserver import postgres_base_url

from storage.db import make_engine, upgrade
from storage.parquet import ParquetTelemetryStorage

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _admin_engine(base: str) -> Engine:
    return create_engine(base, isolation_level="AUTOCOMMIT")


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty catalogue database of the test's backend."""
    backend: str = request.param if hasattr(request, "param") else "sqlite"
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'catalogue' / 'laptrace.sqlite3').as_posix()}"
        return
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine(base)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # every test that uses a database runs once per backend
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", BACKENDS, indirect=True)


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """An engine on the empty database (no tables)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """An engine on a catalogue migrated to head."""
    upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def telemetry(data_dir: Path) -> ParquetTelemetryStorage:
    """The real Parquet storage over a fresh data directory."""
    return ParquetTelemetryStorage(data_dir)
