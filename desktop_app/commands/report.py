"""What ``laptrace import`` and ``laptrace resplit`` print about a saved session.

Both commands end with the same document (``--json``) or the same lap lines, so that a
script reading one reads the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.analysis.formatting import TEXT_MISSING, format_lap_time
from desktop_app.importing import ideal_json, lap_json

if TYPE_CHECKING:
    from storage.types import LapRecord, SessionDraft


def saved_json(
    path: str | None, session_id: int, draft: SessionDraft, parquet_path: Path, status: str, error: str | None
) -> dict[str, Any]:
    """The JSON object of one saved session: where it came from, where it is, its laps."""
    return {
        "path": path,
        "session_id": session_id,
        "session_name": draft.name,
        "parquet_path": str(parquet_path),
        "status": status,
        "error": error,
        "lap_source": draft.lap_source,
        "sector_source": draft.sector_source,
        "ideal_lap_s": ideal_json(draft.ideal_lap_s),
        "laps": [lap_json(lap) for lap in draft.laps],
    }


def print_laps(laps: list[LapRecord], *, sectors: bool) -> None:
    """The lap count, then one line per lap (and its sector times if ``sectors``)."""
    print(f"  laps        {len(laps)}")
    for lap in laps:
        valid = "valid" if lap.valid else f"invalid: {lap.reason}"
        print(
            f"    {lap.lap_number:>4}  {lap.kind:<8} {format_lap_time(lap.lap_time_s, missing=TEXT_MISSING):>10}  {valid}"
        )
        if sectors and lap.sectors_s:
            print("          sectors " + "  ".join(format_lap_time(s, missing=TEXT_MISSING) for s in lap.sectors_s))
