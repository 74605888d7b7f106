"""Qt-free: logger file(s) -> :class:`storage.types.SessionDraft`; the pipeline CLI and GUI share.

(Built in the laps issue: read the recording, split it into laps, measure them, build the
per-lap telemetry for storage.)
"""

from __future__ import annotations
