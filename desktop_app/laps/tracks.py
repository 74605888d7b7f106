"""Which remembered track a recording was made at: its driven line passes the start line.

A track's start line is "passed" when some GPS fix comes within the line's capture radius
of its midpoint; of several such tracks the closest wins. See docs/laps.md#tracks-remember-their-lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop_app.loggers.recording import Recording
from storage.types import KnownTrack

from .distance import gps_fix_mask
from .gates import distance_to_point


def track_for(recording: Recording, tracks: Sequence[KnownTrack]) -> KnownTrack | None:
    """The remembered track whose start line the recording passes, or None."""
    if not tracks:
        return None
    lat, lon = recording.standard("lat"), recording.standard("long")
    fix = gps_fix_mask(recording)
    if lat is None or lon is None or fix is None or not fix.any():
        return None
    best: tuple[float, KnownTrack] | None = None
    for track in tracks:
        start = next((x for x in track.lines if x.kind == "start"), None)
        if start is None:
            continue
        mid_lat, mid_lon = 0.5 * (start.lat1 + start.lat2), 0.5 * (start.lon1 + start.lon2)
        miss = distance_to_point(lat, lon, fix, mid_lat, mid_lon)
        if miss <= start.capture_m and (best is None or miss < best[0]):
            best = (miss, track)
    return None if best is None else best[1]
