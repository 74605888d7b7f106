"""``laptrace selftest`` and ``laptrace --self-test``: does this build work on this machine?

Every installer build runs it right after building, and an engineer can run it to check an
installation. In a temporary folder, never the user's data, it:

1. opens the main window with its icon (offscreen when there is no display),
2. imports the bundled sample logger file through the same pipeline as a drop,
3. creates an SQLite catalogue and migrates it to the newest schema,
4. saves the session (metadata transaction, then the Parquet file),
5. reads it back and checks the lap and row counts against what was imported,
6. loads the PostgreSQL driver and the MDF4 reader (what a frozen build most easily lacks).

It prints one line per step and exits 0, or names the failed step and exits non-zero:
2 if the sample could not be read, 4 if the catalogue or the Parquet file failed, 1 for
anything else (the window, a missing driver).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from desktop_app.commands import exitcodes
from storage.errors import LaptraceError

if TYPE_CHECKING:  # the heavy imports wait until the steps that need them run
    from sqlalchemy import Engine

    from storage.parquet import ParquetTelemetryStorage
    from storage.types import SessionDraft

#: the demo file shipped in every build (see data/samples/NOTICE.md)
SAMPLE_NAME = "session_20251231_111318_tianma_lap9_v3.csv"
#: exit code for a failed step that is neither bad input nor storage
FAILED = 1

_STARTED = time.monotonic()


class SelfTestError(LaptraceError):
    """A step failed; ``code`` is the process exit code."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code


def register(subparsers: Any) -> None:
    """Add ``laptrace selftest``."""
    parser = subparsers.add_parser(
        "selftest",
        help="check that this installation works (window, import, save, read back)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--sample",
        type=Path,
        default=None,
        help="logger file to import instead of the bundled sample",
    )
    parser.add_argument(
        "--no-window",
        action="store_true",
        help="skip the window (to check the pipeline on a machine without a display stack)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_selftest(sample=args.sample, window=not args.no_window)


def bundle_root() -> Path:
    """Where the app's data files are: the PyInstaller bundle, or the source checkout."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen is not None:
        return Path(frozen)
    return Path(__file__).resolve().parents[2]


def sample_file() -> Path:
    """The bundled sample logger file (``data/samples`` in the checkout and in the bundle)."""
    return bundle_root() / "data" / "samples" / SAMPLE_NAME


def process_age() -> tuple[float, str]:
    """Seconds since this process started, and what the number is measured from.

    Linux: from the kernel's process start time (so the frozen app's unpacking and the
    interpreter's start-up count). Elsewhere: from the import of this module.
    """
    try:
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        uptime = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
        # field 22 (starttime, in clock ticks after boot); the name in field 2 may hold spaces
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK")), "process start"
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _STARTED, "self-test start"


@dataclass
class _Report:
    out: TextIO
    failed: str | None = None

    def step(self, name: str, work: Callable[[], str]) -> None:
        """Run one step and print its line; raise SelfTestError on failure."""
        started = time.monotonic()
        try:
            detail = work()
        except SelfTestError as exc:
            self._fail(name, str(exc))
            raise
        except Exception as exc:
            self._fail(name, f"{type(exc).__name__}: {exc}")
            traceback.print_exc(file=self.out)
            raise SelfTestError(f"{name}: {type(exc).__name__}: {exc}") from exc
        self.out.write(f"  ok    {name:<12} {time.monotonic() - started:6.2f} s  {detail}\n")
        self.out.flush()

    def _fail(self, name: str, message: str) -> None:
        self.failed = name
        self.out.write(f"  FAIL  {name:<12} {message}\n")
        self.out.flush()


@contextmanager
def _private_dirs(root: Path) -> Iterator[None]:
    """Point the data and settings folders at ``root`` so the user's are never touched."""
    names = ("LAPTRACE_DATA_DIR", "LAPTRACE_CONFIG_DIR", "LAPTRACE_DATABASE_URL")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["LAPTRACE_DATA_DIR"] = str(root / "data")
    os.environ["LAPTRACE_CONFIG_DIR"] = str(root / "config")
    os.environ.pop("LAPTRACE_DATABASE_URL", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_selftest(sample: Path | None = None, *, window: bool = True, out: TextIO | None = None) -> int:
    """Run every step; print the report to ``out`` (stdout); return the exit code."""
    stream = out if out is not None else sys.stdout
    from desktop_app import __version__

    frozen = "frozen" if getattr(sys, "frozen", False) else "source"
    stream.write(f"laptrace {__version__} self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})\n")
    report = _Report(stream)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="laptrace-selftest-") as tmp, _private_dirs(Path(tmp)):
            _steps(report, Path(tmp), sample if sample is not None else sample_file(), window)
    except SelfTestError as exc:
        stream.write(f"self-test FAILED at '{report.failed}': {exc}\n")
        stream.flush()
        return exc.code
    stream.write(f"self-test passed in {time.monotonic() - started:.1f} s\n")
    stream.flush()
    return exitcodes.OK


@dataclass
class _State:
    """What one step hands to the next."""

    tmp: Path
    sample: Path
    draft: SessionDraft | None = None
    engine: Engine | None = None
    storage: ParquetTelemetryStorage | None = None
    session_id: int | None = None


def _steps(report: _Report, tmp: Path, sample: Path, window: bool) -> None:
    state = _State(tmp=tmp, sample=sample)
    closers: list[Callable[[], None]] = []
    try:
        if window:
            report.step("window", lambda: _open_window(closers))
        report.step("import", lambda: _import_sample(state))
        report.step("catalogue", lambda: _open_catalogue(state, closers))
        report.step("save", lambda: _save(state))
        report.step("read back", lambda: _read_back(state))
        report.step("drivers", _check_drivers)
    finally:
        for close in reversed(closers):
            close()


def _open_window(closers: list[Callable[[], None]]) -> str:
    """Build and show the main window the way ``laptrace`` does; time it."""
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ):
        # No display: Qt would abort the process. Offscreen still builds every widget.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # The GUI is imported only here, as in cli.py: the rest of the self-test needs no Qt.
    gui_app = importlib.import_module("desktop_app.gui.app")
    main_window = importlib.import_module("desktop_app.gui.main_window")
    from desktop_app.config import load_settings

    app = gui_app.application(["laptrace"])
    window = main_window.MainWindow(load_settings())

    def close() -> None:
        window.workers.cancel_all()
        window.workers.wait()
        window.hide()
        window.deleteLater()
        app.processEvents()

    closers.append(close)
    window.show()
    app.processEvents()
    if not window.isVisible():
        raise SelfTestError("the main window did not become visible")
    # Rendering the SVG icon needs the bundled resources and Qt's SVG plugins.
    if app.windowIcon().pixmap(32, 32).isNull():
        raise SelfTestError(
            "the application icon did not render (resources/laptrace.svg or Qt's SVG plugins missing from this build?)"
        )
    age, since = process_age()
    return f"{app.platformName()} platform, icon ok, window shown {age:.2f} s after {since}"


def _import_sample(state: _State) -> str:
    from desktop_app.importing import import_file
    from desktop_app.loggers.recording import LoggerFileError

    if not state.sample.is_file():
        raise SelfTestError(f"sample logger file not found: {state.sample}", exitcodes.BAD_INPUT)
    try:
        draft = import_file(state.sample).draft
    except LoggerFileError as exc:
        raise SelfTestError(f"{state.sample}: {exc}", exitcodes.BAD_INPUT) from exc
    telemetry = draft.telemetry
    if not draft.laps or telemetry.total_points == 0:
        raise SelfTestError(f"{state.sample.name}: the import gave no laps or no samples", exitcodes.BAD_INPUT)
    if len(telemetry.laps) != len(draft.laps):
        raise SelfTestError(f"{len(draft.laps)} laps in the draft but {len(telemetry.laps)} in its telemetry")
    state.draft = draft
    return (
        f"{state.sample.name}: {len(draft.laps)} laps, {telemetry.total_points} samples, "
        f"{telemetry.channel_count} channels"
    )


def _open_catalogue(state: _State, closers: list[Callable[[], None]]) -> str:
    from desktop_app.catalogue import open_catalogue
    from desktop_app.config import Config
    from storage.db import current_revision

    folder = state.tmp / "catalogue"
    url = f"sqlite:///{(folder / 'laptrace.sqlite3').as_posix()}"
    try:
        catalogue = open_catalogue(Config(data_dir=folder, database_url=url))
        closers.append(catalogue.close)
        revision = current_revision(catalogue.engine)
    except Exception as exc:
        raise SelfTestError(f"migrating a new SQLite catalogue failed: {exc}", exitcodes.STORAGE_FAILURE) from exc
    if revision is None:
        raise SelfTestError("the catalogue has no schema revision after the upgrade", exitcodes.STORAGE_FAILURE)
    state.engine = catalogue.engine
    state.storage = catalogue.storage
    return f"SQLite catalogue at schema revision {revision}"


def _save(state: _State) -> str:
    from storage.sessions import save_session

    assert state.draft is not None and state.engine is not None and state.storage is not None
    try:
        state.session_id = save_session(state.draft, state.engine, state.storage)
    except Exception as exc:
        raise SelfTestError(f"saving the session failed: {exc}", exitcodes.STORAGE_FAILURE) from exc
    path = state.storage.path_for(state.session_id)
    return f"session {state.session_id}, {path.name} ({path.stat().st_size / 1024:.0f} KiB)"


def _read_back(state: _State) -> str:
    """The catalogue and the Parquet file must give back what was imported."""
    from storage.db.catalog import load_session

    assert state.draft is not None and state.engine is not None and state.storage is not None
    assert state.session_id is not None
    draft, sid = state.draft, state.session_id
    saved = load_session(state.engine, sid)
    telemetry = state.storage.read(sid)
    problems: list[str] = []
    if saved.summary.status != "ready":
        problems.append(f"status is {saved.summary.status!r} ({saved.summary.error})")
    if len(saved.laps) != len(draft.laps):
        problems.append(f"catalogue has {len(saved.laps)} laps, imported {len(draft.laps)}")
    if telemetry is None:
        problems.append("the Parquet file could not be read back")
    else:
        expected = draft.telemetry
        if len(telemetry.laps) != len(expected.laps):
            problems.append(f"Parquet has {len(telemetry.laps)} laps, imported {len(expected.laps)}")
        if telemetry.total_points != expected.total_points:
            problems.append(f"Parquet has {telemetry.total_points} rows, imported {expected.total_points}")
        if saved.summary.row_count != expected.total_points:
            problems.append(f"catalogue says {saved.summary.row_count} rows, imported {expected.total_points}")
        # the import named the channels; storage keeps those names (docs/storage.md#channel-names)
        wanted = set(expected.channel_names)
        got = set(telemetry.channel_names)
        if got != wanted:
            problems.append(f"channels differ: missing {sorted(wanted - got)}, unexpected {sorted(got - wanted)}")
        longest = max(expected.laps, key=len)
        lap = state.storage.read_lap(sid, longest.lap_number)
        if lap is None or len(lap) != len(longest):
            problems.append(f"lap {longest.lap_number} read alone does not have {len(longest)} rows")
    if problems:
        raise SelfTestError("; ".join(problems), exitcodes.STORAGE_FAILURE)
    assert telemetry is not None
    return f"{len(saved.laps)} laps and {telemetry.total_points} rows match"


def _check_drivers() -> str:
    """Load what a frozen build is most likely to miss: the PostgreSQL driver, MDF4 support."""
    import psycopg
    from sqlalchemy import create_engine

    # Building an engine loads the dialect and its DBAPI module; nothing connects.
    engine = create_engine("postgresql+psycopg://laptrace@localhost/laptrace")
    engine.dispose()
    libpq = psycopg.pq.__impl__
    asammdf = importlib.import_module("asammdf")
    return f"psycopg {psycopg.__version__} ({libpq} libpq), asammdf {asammdf.__version__}"
