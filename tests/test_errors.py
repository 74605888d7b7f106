"""One exception family: every error Laptrace raises on purpose is a ``LaptraceError``.

The command line and the window catch that one family and show each error's own message
(docs/architecture.md#errors); these tests keep new error classes inside it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from realfiles import logger_file

import desktop_app
import storage
from desktop_app.cli import main
from desktop_app.commands import exitcodes
from desktop_app.loggers import LoggerFileError, UnsupportedFormatError, read_recording
from desktop_app.merging import MergeError
from storage.db.errors import CatalogError, DuplicateImportError, SaveError, SessionNotFoundError
from storage.errors import LaptraceError, StorageError
from storage.parquet import ParquetTelemetryStorage, TelemetryFileError

#: exception classes that are signals inside one module, never raised to a caller
INTERNAL_SIGNALS = {
    # textblock catches it at once and transcodes the block
    "desktop_app.loggers.textsource.NotUtf8",
}


def _modules() -> list[str]:
    """Every module below the GUI (the top layer catches the families, it adds none)."""
    names: list[str] = []
    for package in (storage, desktop_app):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            # migrations run Alembic and __main__ runs the app when imported; the GUI and its
            # tools are the top layer
            if ".migrations" in info.name or info.name.endswith("__main__") or info.name.startswith("desktop_app.gui"):
                continue
            names.append(info.name)
    return names


def _error_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == name
                and not attr.startswith("_")
            ):
                found[f"{name}.{attr}"] = obj
    return found


def test_every_public_error_class_is_under_the_root() -> None:
    classes = _error_classes()
    # the walk finds the families it must (a walk that found nothing would pass vacuously)
    for cls in (LoggerFileError, UnsupportedFormatError, MergeError, CatalogError, TelemetryFileError, SaveError):
        assert f"{cls.__module__}.{cls.__name__}" in classes
    outside = sorted(name for name, cls in classes.items() if not issubclass(cls, LaptraceError))
    assert outside == sorted(INTERNAL_SIGNALS)


def test_storage_errors_share_the_storage_root() -> None:
    storage_errors = {n: c for n, c in _error_classes().items() if n.startswith("storage.") and c is not LaptraceError}
    assert len(storage_errors) >= 5
    assert all(issubclass(c, StorageError) for c in storage_errors.values()), storage_errors
    # a missing session is still a LookupError for callers that catch that
    assert issubclass(SessionNotFoundError, LookupError)


def test_real_failures_map_to_their_exit_codes(tmp_path: Path) -> None:
    """Errors raised by real reads keep their messages and get the exit code they had."""
    cut = tmp_path / "cut.vbo"
    data = logger_file("vbo/Example_File.VBO").read_bytes()
    cut.write_bytes(data[: data.index(b"[data]")])  # the header without its data section
    with pytest.raises(LaptraceError) as read_error:
        read_recording(cut)
    assert isinstance(read_error.value, LoggerFileError)
    assert str(read_error.value).startswith(f"{cut}") and "[data]" in str(read_error.value)
    assert exitcodes.for_error(read_error.value) == exitcodes.BAD_INPUT

    storage_root = tmp_path / "data"
    store = ParquetTelemetryStorage(storage_root)
    store.path_for(3).parent.mkdir(parents=True)
    store.path_for(3).write_bytes(b"PAR1 this is not a Parquet file PAR1")
    with pytest.raises(LaptraceError) as file_error:
        store.read_footer(3)
    assert isinstance(file_error.value, TelemetryFileError)
    assert str(file_error.value).startswith(str(store.path_for(3)))
    assert exitcodes.for_error(file_error.value) == exitcodes.STORAGE_FAILURE

    duplicate = DuplicateImportError("ab" * 32, "x.vbo", 4, "Monza FP1")
    assert exitcodes.for_error(duplicate) == exitcodes.DUPLICATE
    refused = MergeError(Path("gps.vbo"), Path("ecu.csv"), "they do not overlap in time")
    assert str(refused) == "cannot merge gps.vbo with ecu.csv: they do not overlap in time"
    assert exitcodes.for_error(refused) == exitcodes.MERGE_REFUSED


def test_merge_with_an_unreadable_file_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "ecu.csv"
    junk.write_text("not a logger file\n", encoding="utf-8")
    gps = logger_file("vbo/session_20230326_141947_test.vbo")
    code = main(["import", str(gps), str(junk), "--merge", "--data-dir", str(tmp_path / "data")])
    out, err = capsys.readouterr()
    assert code == exitcodes.BAD_INPUT
    assert out == "" and "Traceback" not in err
    assert err.startswith(f"laptrace import: {junk}") and "not a logger format Laptrace reads" in err
    assert not (tmp_path / "data" / "telemetry").exists()  # nothing was saved
