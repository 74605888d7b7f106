"""Opening the catalogue: the one function the GUI, the CLI commands and the self-test share."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from desktop_app import catalogue as catalogue_module
from desktop_app.catalogue import open_catalogue, open_failure
from desktop_app.cli import main
from desktop_app.commands import exitcodes
from desktop_app.config import Config, Settings, resolve
from storage.db import current_revision
from storage.db.catalog import list_sessions

UNREACHABLE = "postgresql+psycopg://team:s3cret-pw@127.0.0.1:1/laptrace?connect_timeout=2"


def test_a_new_catalogue_is_migrated_and_rooted_at_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    cat = open_catalogue(Config(data_dir=data, database_url=f"sqlite:///{(data / 'x.sqlite3').as_posix()}"))
    try:
        assert current_revision(cat.engine) is not None
        assert list_sessions(cat.engine) == []
        assert cat.storage.root == data
        assert cat.storage.path_for(7).is_relative_to(data / "telemetry")
    finally:
        cat.close()


def test_the_data_folder_comes_from_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # flag > environment > settings: storage is handed the folder the configuration chose
    monkeypatch.setenv("LAPTRACE_DATA_DIR", str(tmp_path / "env-data"))
    monkeypatch.delenv("LAPTRACE_DATABASE_URL", raising=False)
    chosen = {
        "env": resolve(settings=Settings(data_dir=str(tmp_path / "settings-data"))),
        "flag": resolve(data_dir=tmp_path / "flag-data", settings=Settings()),
    }
    for which, folder in (("env", tmp_path / "env-data"), ("flag", tmp_path / "flag-data")):
        cat = open_catalogue(chosen[which])
        try:
            assert cat.storage.root == folder, which
            assert cat.storage.path_for(9) == folder / "telemetry" / "9.parquet"
        finally:
            cat.close()
    assert not (tmp_path / "settings-data").exists()


def test_a_failed_migration_disposes_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disposed: list[Engine] = []
    real_dispose = Engine.dispose

    def spy(self: Engine, close: bool = True) -> None:
        disposed.append(self)
        real_dispose(self, close)

    def broken_upgrade(engine: Engine) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Engine, "dispose", spy)
    monkeypatch.setattr(catalogue_module, "upgrade", broken_upgrade)
    url = f"sqlite:///{(tmp_path / 'x.sqlite3').as_posix()}"
    with pytest.raises(OSError, match="No space left") as caught:
        open_catalogue(Config(data_dir=tmp_path, database_url=url))
    assert len(disposed) == 1
    assert open_failure(url, caught.value) == f"cannot open the catalogue {url}: [Errno 28] No space left on device"


def test_the_failure_names_the_database_without_its_password_and_by_the_drivers_reason(tmp_path: Path) -> None:
    with pytest.raises(Exception) as caught:
        open_catalogue(Config(data_dir=tmp_path, database_url=UNREACHABLE))
    text = open_failure(UNREACHABLE, caught.value)
    assert text.startswith("cannot open the catalogue postgresql+psycopg://team:***@127.0.0.1:1/laptrace")
    assert "s3cret-pw" not in text and "sqlalche.me" not in text


def test_resplit_says_so_like_the_other_commands_when_the_catalogue_cannot_be_opened(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["resplit", "1", "--start", "1,2,3,4", "--db", UNREACHABLE, "--data-dir", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == exitcodes.STORAGE_FAILURE
    assert "cannot open the catalogue" in err and "127.0.0.1" in err and "s3cret-pw" not in err
    assert "sqlalche.me" not in err
