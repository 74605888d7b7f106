"""``laptrace resplit SESSION_ID --start LAT,LON,LAT,LON [--split ...]...``: laps anew.

Splits a saved session again at the lines given, from its Parquet file alone (the logger
file is not needed), and replaces its laps in the catalogue and in the file. A line is
two points across the track in degrees, north and east positive. ``--json`` prints the
document ``laptrace import --json`` prints for a file. A bad line (not four numbers, of
zero length, nowhere near the driven line) exits with ``BAD_INPUT`` and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from desktop_app import config
from desktop_app.analysis.formatting import TEXT_MISSING, format_lap_time
from desktop_app.commands import exitcodes
from desktop_app.commands.options import add_catalogue_options
from desktop_app.commands.report import print_laps, saved_json
from desktop_app.laps.resplit import LineError, parse_line, user_lines
from storage.errors import LaptraceError

if TYPE_CHECKING:  # the database stack loads only when the command runs
    from desktop_app.laps.split import LineSet
    from desktop_app.resplitting import Resplit


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "resplit",
        help="split a saved session's laps again at new lines",
        description="Split a saved session again at a new start/finish line (and split lines), "
        "from its telemetry file alone; its laps are replaced in the catalogue and the file.",
    )
    p.add_argument("session_id", metavar="SESSION_ID", help="the session's id (laptrace sessions)")
    p.add_argument(
        "--start", required=True, metavar="LAT,LON,LAT,LON", help="the start/finish line: two points across the track"
    )
    p.add_argument(
        "--split",
        action="append",
        default=[],
        metavar="LAT,LON,LAT,LON",
        help="a split line (repeat for each, in any order)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON object")
    add_catalogue_options(p)
    p.set_defaults(func=run)


def _fail(message: str) -> None:
    from desktop_app.commands.guard import shorten

    print(f"laptrace resplit: {shorten(config.scrub(message))}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except Exception as exc:  # noqa: BLE001 - a bug must not become a traceback for the user
        _fail(f"unexpected error: {type(exc).__name__}: {exc}")
        return exitcodes.STORAGE_FAILURE


def _parse(args: argparse.Namespace) -> tuple[int, LineSet] | None:
    """The session id and the lines, or None (said on stderr) if either is not valid."""
    raw = str(args.session_id)
    if not raw.isdigit() or int(raw) <= 0:
        _fail(f"session id must be a positive integer, not {raw!r}")
        return None
    try:
        lines = user_lines(
            parse_line(args.start, "--start"),
            [parse_line(text, f"--split {k}") for k, text in enumerate(args.split, start=1)],
        )
    except LineError as exc:
        _fail(str(exc))
        return None
    return int(raw), lines


def _run(args: argparse.Namespace) -> int:
    parsed = _parse(args)
    if parsed is None:
        return exitcodes.BAD_INPUT
    session_id, lines = parsed

    from sqlalchemy.exc import SQLAlchemyError

    from desktop_app.catalogue import open_catalogue, open_failure
    from desktop_app.resplitting import resplit_session
    from storage.db.errors import SessionNotFoundError

    cfg = config.resolve(args.data_dir, args.database_url)
    try:
        catalogue = open_catalogue(cfg)
    except (SQLAlchemyError, ValueError, ImportError, OSError) as exc:
        _fail(open_failure(cfg.database_url, exc))
        return exitcodes.STORAGE_FAILURE
    try:
        result = resplit_session(catalogue.engine, catalogue.storage, session_id, lines)
    except LineError as exc:
        _fail(f"session {session_id}: {exc}")
        return exitcodes.BAD_INPUT
    except SessionNotFoundError as exc:
        _fail(str(exc))
        return exitcodes.BAD_INPUT
    except LaptraceError as exc:
        _fail(f"session {session_id}: {exc}")
        return exitcodes.for_error(exc)
    except (SQLAlchemyError, OSError) as exc:
        _fail(f"session {session_id}: {exc}")
        return exitcodes.STORAGE_FAILURE
    finally:
        catalogue.close()
    _report(args, session_id, result)
    return exitcodes.OK


def _report(args: argparse.Namespace, session_id: int, result: Resplit) -> None:
    draft = result.draft
    if args.json:
        doc = saved_json(None, session_id, draft, result.parquet_path, "ready", None)
        doc["laps_revision"] = result.revision
        doc["warnings"] = list(draft.warnings)
        print(json.dumps(doc, ensure_ascii=False, allow_nan=False), flush=True)
        return
    print(f"session {session_id} ({draft.name}): laps split again, revision {result.revision}")
    print(f"  parquet     {result.parquet_path}")
    for w in draft.warnings:
        print(f"  warning     {w}")
    print_laps(draft.laps, sectors=True)
    if draft.ideal_lap_s is not None:
        print(f"  ideal lap   {format_lap_time(draft.ideal_lap_s, missing=TEXT_MISSING)}")
    sys.stdout.flush()
