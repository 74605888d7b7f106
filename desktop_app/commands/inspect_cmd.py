"""``laptrace inspect FILE... [--json]``: what Laptrace makes of logger files, touching no database.

For each file: format, logger, start time, sample rate, channels with units, warnings, the
lap source and one line per lap. ``--json`` prints the same as one JSON document (schema
in the README). A file that cannot be read is reported on stderr (file, line, what) and
makes the exit code ``BAD_INPUT``; the other files are still reported.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from contextlib import nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop_app.analysis.formatting import TEXT_MISSING, format_lap_time
from desktop_app.commands import exitcodes
from desktop_app.commands.guard import not_a_file, shorten, stdout_to_stderr, utf8_path
from desktop_app.commands.options import add_files_argument
from desktop_app.importing import ImportedFile, ideal_json, import_file, lap_json
from storage.errors import LaptraceError


def register(subparsers: Any) -> None:
    """Add the ``inspect`` sub-command."""
    p = subparsers.add_parser(
        "inspect",
        help="show what Laptrace reads in logger files (no database)",
        description="Read logger files and print their format, channels and laps. Nothing is saved.",
    )
    add_files_argument(p)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.set_defaults(func=run)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC (``...Z``) for an aware time; None for None or a naive time."""
    if value is None or value.tzinfo is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_local(value: datetime | None) -> str | None:
    """A naive (local wall-clock, zone unknown) time as ISO 8601 without offset, else None."""
    if value is None or value.tzinfo is not None:
        return None
    return value.isoformat()


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def file_json(imported: ImportedFile) -> dict[str, Any]:
    """One file's entry of the ``inspect --json`` document."""
    rec, draft = imported.recording, imported.draft
    channels = draft.sources[0].channels
    return {
        "path": str(imported.path),
        "format": rec.format,
        "logger": rec.logger,
        "started_at": iso_utc(rec.started_at),
        "started_at_local": iso_local(rec.started_at),
        "track": draft.track,
        "sample_count": rec.sample_count,
        "sample_rate_hz": _finite(rec.sample_rate_hz),
        "duration_s": _finite(float(rec.time[-1] - rec.time[0])) if rec.sample_count else 0.0,
        "sha256": draft.sources[0].sha256,
        "channels": [asdict(c) for c in channels],
        "warnings": list(draft.warnings),
        "lap_source": draft.lap_source,
        "sector_source": draft.sector_source,
        "ideal_lap_s": ideal_json(draft.ideal_lap_s),
        "laps": [lap_json(lap) for lap in draft.laps],
    }


def _text(imported: ImportedFile) -> str:
    rec, draft = imported.recording, imported.draft
    lines = [f"{imported.path}"]
    started = iso_utc(rec.started_at) or "unknown"
    local = iso_local(rec.started_at)
    if local is not None:
        started = f"{local} (local time, zone unknown)"
    rate = "unknown" if rec.sample_rate_hz is None else f"{rec.sample_rate_hz:g} Hz"
    lines.append(f"  format      {rec.format}    logger {rec.logger or 'unknown'}")
    lines.append(f"  started     {started}")
    lines.append(f"  samples     {rec.sample_count} at {rate}")
    if draft.track:
        lines.append(f"  track       {draft.track}")
    lines.append("  channels")
    for c in draft.sources[0].channels:
        mark = "" if c.standard else "  (auxiliary)"
        src = "" if c.source_name == c.name else f"  <- {c.source_name}"
        lines.append(f"    {c.name:<24} {c.unit or '-':<8}{src}{mark}")
    for w in draft.warnings:
        lines.append(f"  warning     {w}")
    lines.append(f"  lap source  {draft.lap_source}")
    lines.append("     lap  kind       time        distance   max speed  valid")
    for lap in draft.laps:
        dist = "-" if lap.distance_m is None else f"{lap.distance_m:,.0f} m"
        vmax = "-" if lap.max_speed_kmh is None else f"{lap.max_speed_kmh:.1f} km/h"
        valid = "yes" if lap.valid else f"no: {lap.reason}"
        if lap.valid and lap.reason:
            valid = f"yes ({lap.reason})"
        lines.append(
            f"    {lap.lap_number:>4}  {lap.kind:<8} {format_lap_time(lap.lap_time_s, missing=TEXT_MISSING):>10}  "
            f"{dist:>10}  {vmax:>10}  {valid}"
        )
        if lap.sectors_s:
            lines.append(
                "          sectors " + "  ".join(format_lap_time(s, missing=TEXT_MISSING) for s in lap.sectors_s)
            )
    if draft.ideal_lap_s is not None:
        lines.append(
            f"  ideal lap   {format_lap_time(draft.ideal_lap_s, missing=TEXT_MISSING)} (best sectors; {draft.sector_source} sectors)"
        )
    return "\n".join(lines)


class _Refused(Exception):
    """An input refused before reading (a FIFO, a device)."""


def run(args: argparse.Namespace) -> int:
    """Inspect every file; BAD_INPUT if any could not be read."""
    results: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for name in args.files:
        refused = not_a_file(name)
        try:
            if refused is not None:
                raise _Refused(refused)
            # with --json, what libraries print goes to stderr, not into the document
            with stdout_to_stderr() if args.json else nullcontext(), utf8_path(name) as readable:
                imported = import_file(readable)
            imported.path = Path(name)
        except _Refused as exc:
            message = str(exc)
        except LaptraceError as exc:
            message = str(exc)
        except OSError as exc:
            message = f"{name}: {exc.strerror or exc}"
        except Exception as exc:  # noqa: BLE001 - a bug must not become a traceback for the user
            message = f"{name}: could not be read ({type(exc).__name__}: {exc})"
        else:
            if args.json:
                results.append(file_json(imported))
            else:
                print(_text(imported), flush=True)
            continue
        message = shorten(message)
        print(f"laptrace inspect: {message}", file=sys.stderr, flush=True)
        errors.append({"path": name, "error": message})
    if args.json:
        doc = {"files": results, "errors": errors}
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
        sys.stdout.write("\n")
    return exitcodes.BAD_INPUT if errors else exitcodes.OK
