"""``laptrace import|sessions|recover``: the catalogue from the command line.

``import FILE...`` reads, splits and saves each file as one session, printing the session
id, the Parquet path and the laps; ``--json`` prints one JSON object per file and line:
``{"path", "session_id", "session_name", "parquet_path", "status", "error", "laps"}`` with
the laps as ``laptrace inspect --json`` prints them. ``import A B --merge`` merges two
files of one run (a GPS logger and an ECU logger) into one session instead; its JSON
object also has ``paths`` and ``merge`` (offset, drift, confidence, method, warnings), and
a merge that is refused exits with ``MERGE_REFUSED``. ``sessions`` lists the catalogue,
``recover`` settles sessions a stopped process left half-saved (as the app does at start).

Every command migrates the catalogue to the newest schema first. Errors go to stderr,
never as a traceback; the exit code tells bad input, a duplicate file and a storage
failure apart (:mod:`desktop_app.commands.exitcodes`), the most serious one winning.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app import config
from desktop_app.analysis.formatting import TEXT_MISSING, format_lap_time
from desktop_app.commands import exitcodes
from desktop_app.commands.guard import display_name, is_utf8_name, not_a_file, shorten, stdout_to_stderr, utf8_path
from desktop_app.commands.inspect_cmd import iso_utc
from desktop_app.commands.options import add_catalogue_options, add_files_argument
from desktop_app.commands.report import print_laps, saved_json
from desktop_app.importing import MergedImport, import_file, merge_files, retry_from_source
from storage.db.errors import DuplicateImportError, SaveError
from storage.errors import LaptraceError

if TYPE_CHECKING:  # the database stack loads only when one of these commands runs
    from sqlalchemy import Engine

    from storage.db.catalog import SessionSummary
    from storage.parquet import ParquetTelemetryStorage
    from storage.sessions import RecoveryReport
    from storage.types import SessionDraft


def register(subparsers: Any) -> None:
    """Add ``import``, ``sessions``, ``recover``, ``delete`` and ``discard``."""
    _register_import(subparsers)
    p = subparsers.add_parser(
        "sessions", help="list the saved sessions", description="List the sessions in the catalogue, newest first."
    )
    p.add_argument("--driver", metavar="NAME", help="only this driver's sessions")
    p.add_argument("--track", metavar="NAME", help="only sessions at this track")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    add_catalogue_options(p)
    p.set_defaults(func=run_sessions)

    p = subparsers.add_parser(
        "recover",
        help="settle sessions left half-saved by a stopped process",
        description="Mark sessions left 'writing' ready (file complete) or failed, and list "
        "telemetry files that no session owns (they are left alone).",
    )
    p.add_argument(
        "--retry",
        action="store_true",
        help="also finish failed saves by reading their source files again (when still there and unchanged)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON object")
    add_catalogue_options(p)
    p.set_defaults(func=run_recover)

    _register_on_session(
        subparsers,
        "delete",
        help="delete a saved session (rows and telemetry file)",
        description="Delete a session: its telemetry file is set aside, its rows deleted, then the file removed.",
        id_help="the session's id (see laptrace sessions)",
        func=run_delete,
    )
    _register_on_session(
        subparsers,
        "discard",
        help="give up on a failed save",
        description="Remove a session whose telemetry could not be written (status failed).",
        id_help="the failed session's id (see laptrace sessions)",
        func=run_discard,
    )


def _register_import(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "import",
        help="read logger files and save them to the catalogue",
        description="Read, split and save each logger file as a session.",
    )
    add_files_argument(p)
    p.add_argument("--driver", metavar="NAME", help="the driver (created if new)")
    p.add_argument("--track", metavar="NAME", help="the track (default: from the file)")
    p.add_argument("--vehicle", metavar="NAME", help="the vehicle")
    p.add_argument("--session-name", metavar="NAME", help="the session's name (default: the file's)")
    p.add_argument("--force", action="store_true", help="save a file even if the catalogue already holds it")
    p.add_argument("--json", action="store_true", help="one JSON object per file and line")
    p.add_argument(
        "--merge",
        action="store_true",
        help="merge two files of one run (GPS logger first, ECU logger second) into one session",
    )
    p.add_argument(
        "--merge-offset",
        type=float,
        metavar="SECONDS",
        help="with --merge: seconds added to the second file's clock, instead of the offset the merge finds",
    )
    add_catalogue_options(p)
    p.set_defaults(func=run_import)


def _register_on_session(subparsers: Any, name: str, *, help: str, description: str, id_help: str, func: Any) -> None:
    """A command that takes one session's id and works on the catalogue."""
    p = subparsers.add_parser(name, help=help, description=description)
    p.add_argument("session_id", metavar="SESSION_ID", help=id_help)
    add_catalogue_options(p)
    p.set_defaults(func=func)


class _Failure(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Catalogue:
    engine: Engine
    storage: ParquetTelemetryStorage
    #: the id of the session the last save created (None if it created none)
    saved_id: int | None = None


def _check_locations(args: argparse.Namespace) -> None:
    """``--db`` and ``--data-dir`` given empty are a mistake, not "use the default"."""
    for flag, value in (("--db", args.database_url), ("--data-dir", args.data_dir)):
        if value is not None and not value.strip():
            raise _Failure(f"{flag} is empty", exitcodes.BAD_INPUT)
        if value is not None and "\x00" in value:
            raise _Failure(f"{flag} contains a NUL character", exitcodes.BAD_INPUT)
    if args.data_dir is not None and not is_utf8_name(args.data_dir):
        # the Parquet library opens paths as UTF-8 only
        raise _Failure(
            f"--data-dir {display_name(args.data_dir)!r}: a folder name that is not UTF-8 cannot hold telemetry",
            exitcodes.BAD_INPUT,
        )


def _no_catalogue_yet(args: argparse.Namespace) -> bool:
    """True if the catalogue is the default SQLite file and it does not exist: commands that
    only read or remove then report an empty catalogue instead of creating one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    _check_locations(args)
    cfg = config.resolve(args.data_dir, args.database_url)
    try:
        u = make_url(cfg.database_url)
    except (ArgumentError, ValueError):
        return False
    if not u.drivername.startswith("sqlite") or not u.database or u.database == ":memory:":
        return False
    try:
        return not Path(u.database).expanduser().exists()
    except (OSError, ValueError):
        return False


@contextmanager
def _catalogue(args: argparse.Namespace) -> Iterator[_Catalogue]:
    from sqlalchemy.exc import SQLAlchemyError

    from desktop_app.catalogue import open_catalogue, open_failure

    _check_locations(args)
    cfg = config.resolve(args.data_dir, args.database_url)
    try:
        opened = open_catalogue(cfg)
    except (SQLAlchemyError, ValueError, ImportError, OSError) as exc:
        raise _Failure(open_failure(cfg.database_url, exc), exitcodes.STORAGE_FAILURE) from exc
    try:
        yield _Catalogue(opened.engine, opened.storage)
    finally:
        opened.close()


def _fail(command: str, message: str) -> None:
    # a driver's message can quote the connection string: never print a password
    print(f"laptrace {command}: {shorten(config.scrub(message))}", file=sys.stderr, flush=True)


def _guarded(command: str, body: Any, args: argparse.Namespace) -> int:
    try:
        result: int = body(args)
        return result
    except _Failure as exc:
        _fail(command, str(exc))
        return exc.code
    except LaptraceError as exc:
        _fail(command, str(exc))
        return exitcodes.for_error(exc)
    except BrokenPipeError:
        raise  # stdout's reader went away: the CLI's entry point ends quietly
    except Exception as exc:  # noqa: BLE001 - a bug must not become a traceback for the user
        _fail(command, f"unexpected error: {type(exc).__name__}: {exc}")
        return exitcodes.STORAGE_FAILURE


# --- import --------------------------------------------------------------------------------


def run_import(args: argparse.Namespace) -> int:
    return _guarded("import", _import, args)


def _import_args_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the command line of ``import``, before any file is read."""
    if args.session_name is not None and not args.session_name.strip():
        return "--session-name is empty"
    if args.merge_offset is not None and not (math.isfinite(args.merge_offset) and abs(args.merge_offset) <= 1e7):
        return f"--merge-offset must be a finite number of seconds (at most 1e7), not {args.merge_offset}"
    for name in args.files:
        if not name.strip() or "\x00" in name:
            return f"{name!r} is not a file name"
    if args.merge_offset is not None and not args.merge:
        return "--merge-offset needs --merge"
    if args.merge and len(args.files) != 2:
        return f"--merge takes two files (GPS logger, then ECU logger), not {len(args.files)}"
    return None


def _import(args: argparse.Namespace) -> int:
    _check_locations(args)
    wrong = _import_args_error(args)
    if wrong is not None:
        _fail("import", wrong)
        return exitcodes.BAD_INPUT
    if args.merge:
        return _import_merged(args)
    code = exitcodes.OK
    with _catalogue(args) as cat:
        for name in args.files:
            result = _import_one(args, cat, name)
            code = max(code, result)
    return code


def _import_merged(args: argparse.Namespace) -> int:
    for name in args.files:
        refused = not_a_file(name)
        if refused is not None:
            _fail("import", refused)
            return exitcodes.BAD_INPUT
    try:
        with _quiet(args), ExitStack() as stack:
            readable = [stack.enter_context(utf8_path(n)) for n in args.files]
            merged = merge_files(readable, offset_s=args.merge_offset)
        merged.paths = [Path(n) for n in args.files]
        _rename_sources(merged.draft, list(args.files))
    except Exception as exc:  # noqa: BLE001 - a reader bug: say which files, not a traceback
        return _read_failed(exc, " + ".join(args.files), getattr(exc, "filename", None))
    with _catalogue(args) as cat:
        return _save_and_report(args, cat, " + ".join(args.files), merged.draft, merged)


def _merge_json(merged: MergedImport) -> dict[str, Any]:
    a = merged.result.alignment
    return {
        "offset_s": round(a.offset_s, 6),
        "drift_ppm": round(a.drift_ppm, 3),
        "confidence": round(a.confidence, 4),
        "margin": round(a.margin, 4),
        "method": a.method,
        "channel": a.channel,
        "warnings": list(a.warnings),
        "sources": [
            {"path": str(p), "time_offset_s": round(s.time_offset_s, 6), "channels": sorted(s.channels)}
            for p, s in zip(merged.paths, merged.result.sources, strict=True)
        ],
    }


def _rename_sources(draft: SessionDraft, names: list[str]) -> None:
    """After reading through a stand-in path (:func:`utf8_path`), put the real file names
    back (as text: bytes that are not UTF-8 shown as U+FFFD)."""
    for src, name in zip(draft.sources, names, strict=False):
        real = display_name(Path(name).name)
        if src.file_name != real:
            stem = Path(src.file_name).stem
            if stem and stem in draft.name:
                draft.name = draft.name.replace(stem, Path(real).stem)
            src.file_name = real


def _read_failed(exc: Exception, label: str, filename: str | None = None) -> int:
    """One stderr line and the exit code for files that could not be read: our own errors
    as they are, a system error under ``filename`` (the file it names) or ``label``,
    anything else as a reader bug under ``label``, never a traceback."""
    if isinstance(exc, LaptraceError):
        _fail("import", str(exc))
        return exitcodes.for_error(exc)
    if isinstance(exc, OSError):
        _fail("import", f"{filename or label}: {exc.strerror or exc}")
    else:
        _fail("import", f"{label}: could not be read ({type(exc).__name__}: {exc})")
    return exitcodes.BAD_INPUT


def _quiet(args: argparse.Namespace) -> AbstractContextManager[None]:
    """With ``--json``, what libraries print goes to stderr, not into the JSON."""
    return stdout_to_stderr() if args.json else nullcontext()


def _import_one(args: argparse.Namespace, cat: _Catalogue, name: str) -> int:
    from desktop_app.resplitting import remember_import
    from storage.db.catalog import known_tracks

    refused = not_a_file(name)
    if refused is not None:
        _fail("import", refused)
        return exitcodes.BAD_INPUT
    tracks = known_tracks(cat.engine)
    try:
        with _quiet(args), utf8_path(name) as readable:
            imported = import_file(readable, tracks=tracks)
            draft = imported.draft
        if not is_utf8_name(name):
            _rename_sources(draft, [name])
    except Exception as exc:  # noqa: BLE001 - a reader bug: say which file, not a traceback
        return _read_failed(exc, name)
    code = _save_and_report(args, cat, name, draft, None)
    if cat.saved_id is not None:
        remember_import(cat.engine, cat.saved_id, imported.recording, draft, tracks)
    return code


@dataclass
class _Saved:
    """How a save ended, for the report: ``status`` ``ready``, ``writing`` or ``failed``."""

    session_id: int
    status: str
    error: str | None
    code: int


def _apply_overrides(args: argparse.Namespace, name: str, draft: SessionDraft) -> SessionDraft:
    """The command line's driver, track, vehicle and name over the file's; then cleaned."""
    from storage.db.catalog import clean_draft

    for field in ("driver", "track", "vehicle"):
        if getattr(args, field) is not None:
            setattr(draft, field, getattr(args, field))
    if args.session_name is not None:
        draft.name = args.session_name
    draft, cleaned = clean_draft(draft)
    for warning in cleaned:
        _fail("import", f"{name}: warning: {warning}")
    return draft


def _save(
    args: argparse.Namespace, cat: _Catalogue, name: str, draft: SessionDraft, merged: MergedImport | None
) -> _Saved | int:
    """Save the draft; an exit code instead if nothing was saved (said on stderr)."""
    from storage.sessions import save_session

    cat.saved_id = None
    try:
        paths = list(merged.paths) if merged is not None else [Path(name)]
        with _quiet(args):
            session_id = save_session(draft, cat.engine, cat.storage, force=args.force, source_paths=paths)
        cat.saved_id = session_id
    except DuplicateImportError as exc:
        _fail(
            "import",
            f"{name}: already imported as session {exc.session_id} "
            f"({exc.session_name!r}); use --force to import it again",
        )
        return exitcodes.DUPLICATE
    except SaveError as exc:
        if exc.file_complete:
            status, hint = "writing", ""
        else:
            status = "failed"
            hint = (
                f"; once that is fixed, 'laptrace recover --retry' finishes the save "
                f"('laptrace discard {exc.session_id}' gives it up)"
            )
        _fail("import", f"{name}: {exc}{hint}")
        return _Saved(exc.session_id, status, config.scrub(str(exc)), exitcodes.STORAGE_FAILURE)
    except LaptraceError as exc:
        _fail("import", f"{name}: {exc}")
        return exitcodes.for_error(exc)
    return _Saved(session_id, "ready", None, exitcodes.OK)


def _save_and_report(
    args: argparse.Namespace, cat: _Catalogue, name: str, draft: SessionDraft, merged: MergedImport | None
) -> int:
    draft = _apply_overrides(args, name, draft)
    saved = _save(args, cat, name, draft, merged)
    if isinstance(saved, int):
        return saved
    path = cat.storage.path_for(saved.session_id)
    if args.json:
        doc = saved_json(name, saved.session_id, draft, path, saved.status, saved.error)
        if merged is not None:
            doc["paths"] = [str(p) for p in merged.paths]
            doc["merge"] = _merge_json(merged)
        print(json.dumps(doc, ensure_ascii=False, allow_nan=False), flush=True)
        return saved.code
    print(f"{name}\n  session     {saved.session_id} ({draft.name}), {saved.status}\n  parquet     {path}")
    if merged is not None:
        a = merged.result.alignment
        print(
            f"  merged      offset {a.offset_s:+.3f} s, drift {a.drift_ppm:+.1f} ppm, "
            f"confidence {a.confidence:.3f} ({a.method})"
        )
        for w in a.warnings:
            print(f"  warning     {w}")
    print_laps(draft.laps, sectors=False)
    sys.stdout.flush()
    return saved.code


# --- sessions and recover ------------------------------------------------------------------


def summary_json(s: SessionSummary) -> dict[str, Any]:
    """One session as ``laptrace sessions --json`` prints it."""
    return {
        "id": s.id,
        "name": s.name,
        "driver": s.driver,
        "track": s.track,
        "vehicle": s.vehicle,
        "started_at": iso_utc(s.started_at),
        "imported_at": iso_utc(s.imported_at),
        "status": s.status,
        "error": s.error,
        "lap_count": s.lap_count,
        "best_lap_s": s.best_lap_s,
        "ideal_lap_s": s.ideal_lap_s,
        "file_path": s.file_path,
        "row_count": s.row_count,
        "source_type": s.source_type,
    }


def run_sessions(args: argparse.Namespace) -> int:
    return _guarded("sessions", _sessions, args)


def _sessions(args: argparse.Namespace) -> int:
    from storage.db.catalog import list_sessions

    if _no_catalogue_yet(args):
        sessions = []
    else:
        with _catalogue(args) as cat:
            sessions = list_sessions(cat.engine, driver=args.driver, track=args.track)
    if args.json:
        print(json.dumps([summary_json(s) for s in sessions], ensure_ascii=False, indent=2))
        return exitcodes.OK
    if not sessions:
        print("no sessions")
    for s in sessions:
        when = iso_utc(s.started_at) or "-"
        best = format_lap_time(s.best_lap_s, missing=TEXT_MISSING)
        print(
            f"{s.id:>6}  {s.status:<7} {when:<21} {s.lap_count:>4} laps  best {best:>10}  "
            f"{s.name}  [{s.driver or '-'} / {s.track or '-'} / {s.vehicle or '-'}]"
        )
        if s.error:
            print(f"        error: {s.error}")
    return exitcodes.OK


def run_recover(args: argparse.Namespace) -> int:
    return _guarded("recover", _recover, args)


def _retry_failed(cat: _Catalogue) -> tuple[list[int], dict[int, str]]:
    """Finish every failed save whose source files are still there and unchanged."""
    from storage.db.catalog import list_sessions
    from storage.sessions import RetryRefusedError

    done: list[int] = []
    refused: dict[int, str] = {}
    for s in list_sessions(cat.engine):
        if s.status != "failed":
            continue
        try:
            retry_from_source(cat.engine, cat.storage, s.id)
        except (RetryRefusedError, LaptraceError, OSError, ValueError) as exc:
            refused[s.id] = str(exc)
        else:
            done.append(s.id)
    return done, refused


def _recover(args: argparse.Namespace) -> int:
    from storage.sessions import RecoveryReport, recover

    retried: list[int] = []
    refused: dict[int, str] = {}
    if _no_catalogue_yet(args):
        report = RecoveryReport()
    else:
        with _catalogue(args) as cat:
            report = recover(cat.engine, cat.storage)
            if args.retry:
                retried, refused = _retry_failed(cat)
    if args.json:
        doc = _recovery_json(report)
        if args.retry:
            doc["retried"] = retried
            doc["not_retried"] = {str(k): v for k, v in refused.items()}
        print(json.dumps(doc, ensure_ascii=False))
        return exitcodes.OK
    print(f"ready: {len(report.ready)} session(s) {report.ready or ''}".rstrip())
    print(f"failed: {len(report.failed)} session(s) {report.failed or ''}".rstrip())
    if report.in_progress:
        print(f"still being saved by a running process (left alone): {report.in_progress}")
    if report.deleted:
        print(f"half-done deletes completed: {len(report.deleted)} session(s) {report.deleted}")
    if args.retry:
        print(f"retried: {len(retried)} failed save(s) finished {retried or ''}".rstrip())
        for sid, why in refused.items():
            print(f"  not retried: {why}" if str(sid) in why else f"  not retried: session {sid}: {why}")
    _print_recovered_files(report)
    return exitcodes.OK


def _recovery_json(report: RecoveryReport) -> dict[str, Any]:
    return {
        "ready": report.ready,
        "failed": report.failed,
        "deleted": report.deleted,
        "in_progress": report.in_progress,
        "orphans": [str(p) for p in report.orphans],
        "temp_files": [str(p) for p in report.temp_files],
        "temp_files_removed": [str(p) for p in report.temp_files_removed],
        "bytes_freed": report.bytes_freed,
        "resplit_finished": report.resplit_finished,
        "resplit_leftovers": [str(p) for p in report.resplit_leftovers],
    }


def _print_paths(heading: str, paths: list[Path]) -> None:
    print(heading)
    for path in paths:
        print(f"  {Path(path)}")


def _print_recovered_files(report: RecoveryReport) -> None:
    """The files recovery found: orphans, temp files, re-splits finished or left."""
    _print_paths(f"orphan files (left alone): {len(report.orphans)}", report.orphans)
    if report.temp_files_removed:
        _print_paths(
            f"temp files of interrupted writes removed: {len(report.temp_files_removed)}, "
            f"{report.bytes_freed:,} bytes freed",
            report.temp_files_removed,
        )
    if report.temp_files:
        _print_paths(f"temp files of writes still running (left alone): {len(report.temp_files)}", report.temp_files)
    if report.resplit_finished:
        print(f"re-splits finished: {len(report.resplit_finished)} session(s) {report.resplit_finished}")
    if report.resplit_leftovers:
        _print_paths(
            f"files of re-splits that never committed (left alone): {len(report.resplit_leftovers)}",
            report.resplit_leftovers,
        )


# --- delete and discard --------------------------------------------------------------------


def _session_id(text: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) <= 0:
        raise _Failure(f"{text[:80]!r} is not a session id (a positive whole number)", exitcodes.BAD_INPUT)
    return int(value)


def _on_session(
    args: argparse.Namespace,
    command: str,
    act: Callable[[_Catalogue, int], str | None],
    refusals: tuple[type[Exception], ...],
    done: str,
) -> int:
    """``act`` on the session ``args.session_id`` names; it returns why it refused, or None.

    A session that is not there, or an error of ``refusals``, is bad input; else ``done``
    (``deleted``) is said."""
    from storage.db.errors import SessionNotFoundError

    session_id = _session_id(args.session_id)
    if _no_catalogue_yet(args):
        _fail(command, str(SessionNotFoundError(session_id)))
        return exitcodes.BAD_INPUT
    caught: tuple[type[Exception], ...] = (SessionNotFoundError, *refusals)
    with _catalogue(args) as cat:
        try:
            refused = act(cat, session_id)
        except caught as exc:
            refused = str(exc)
    if refused is not None:
        _fail(command, refused)
        return exitcodes.BAD_INPUT
    print(f"{done} session {session_id}")
    return exitcodes.OK


def run_delete(args: argparse.Namespace) -> int:
    return _guarded("delete", _delete, args)


def _delete(args: argparse.Namespace) -> int:
    from storage.sessions import delete_session

    def act(cat: _Catalogue, session_id: int) -> None:
        delete_session(cat.engine, cat.storage, session_id)

    return _on_session(args, "delete", act, (), "deleted")


def run_discard(args: argparse.Namespace) -> int:
    return _guarded("discard", _discard, args)


def _discard(args: argparse.Namespace) -> int:
    from storage.db.catalog import load_session
    from storage.sessions import NotDiscardableError, discard_session

    def act(cat: _Catalogue, session_id: int) -> str | None:
        if load_session(cat.engine, session_id).summary.status == "writing":
            return (
                f"session {session_id} is still being written (or its save was interrupted): "
                "run 'laptrace recover' first"
            )
        discard_session(cat.engine, cat.storage, session_id)
        return None

    return _on_session(args, "discard", act, (NotDiscardableError,), "discarded")
