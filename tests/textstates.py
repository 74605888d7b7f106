"""A WinDarab export with a text column, built from the real file (never stored in the repo).

The real ``bosch_windarab_txt/sim_data.txt`` gets a sensor-state column that changes every
1000 rows (as a camera trigger's state does during a run), padded as WinDarab pads it. The
reader codes a text column's labels in the order they first appear, so two files built with
the states in another order give one text different codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from realfiles import logger_file

STATES = ("running", "timeout", "waitCam")
ROWS_PER_STATE = 1000


def windarab_with_states(tmp_path: Path, states: Sequence[str] = STATES, name: str = "sim_data_states.txt") -> Path:
    """The real WinDarab export with a ``cam_state`` text column cycling through ``states``."""
    lines = logger_file("bosch_windarab_txt/sim_data.txt").read_bytes().split(b"\r\n")
    names = next(i for i, line in enumerate(lines) if line.startswith(b"xtime"))
    out = []
    for i, line in enumerate(lines):
        if i == names:
            line += b"\tcam_state"
        elif i > names and line.strip():
            line += b"\t%12s" % states[((i - names) // ROWS_PER_STATE) % len(states)].encode()
        out.append(line)
    path = tmp_path / name
    path.write_bytes(b"\r\n".join(out))
    return path
