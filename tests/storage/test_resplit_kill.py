"""SIGKILL a re-split at every checkpoint (and at random moments), then recover.

After each kill ``recover()`` runs and the session must be whole: the catalogue's laps and
the file's lap index are the same laps (the old ones or the new ones, never a mix), the
file has one row group per lap and every sample once, in order, and the next re-split
succeeds.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from resplitcase import check_agree, line_sets, saved_case
from sqlalchemy import Engine
from zygote import Zygote as WarmWorker
from zygote import counting_engine

from desktop_app.laps.resplit import user_lines
from desktop_app.resplitting import resplit_session
from storage.db.catalog import load_session
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_resplit import pending_files, pending_path
from storage.sessions import recover

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")

WORKER = Path(__file__).with_name("resplit_worker.py")
RANDOM_KILLS = 8


class Zygote(WarmWorker):
    def __init__(self, url: str, data_dir: Path) -> None:
        super().__init__(WORKER, url, data_dir)

    def run(self, session_id: int, which: int, kill_at: str, delay_ms: int | None = None) -> int:
        done, code = self.request(session_id, which, kill_at, "-" if delay_ms is None else delay_ms)
        assert done == "done"
        return int(code)


def _laps_key(laps: list) -> list[tuple[int, int, float]]:  # type: ignore[type-arg]
    return [(lap.lap_number, lap.samples, round(lap.start_offset_s, 6)) for lap in laps]


def test_sigkill_while_resplitting_then_recover(
    db_url: str, engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    case = saved_case(engine, telemetry)
    sid, rows = case.session_id, case.rows
    expected = [_laps_key(case.resplit(k).laps) for k in range(len(line_sets()))]
    original = _laps_key(case.laps)
    assert expected[0] != original and expected[1] != original and expected[0] != expected[1]

    # how many SQL statements and commits one re-split sends, counted in this process
    probe, counts = counting_engine(db_url)
    start, splits = line_sets()[0]
    resplit_session(probe, telemetry, sid, user_lines(start, splits))
    probe.dispose()
    assert counts["sql"] >= 5 and counts["commit"] >= 2
    laps_in_file = len(expected[0])
    points = (
        [f"parquet:{n}" for n in range(1, laps_in_file + 2)]
        + ["resplit_written:1", "resplit_committed:1", "resplit_swapped:1"]
        + [f"sql:{n}" for n in range(1, counts["sql"] + 1)]
        + [f"commit:{n}" for n in range(1, counts["commit"] + 1)]
    )
    rng = random.Random(11)
    zygote = Zygote(db_url, telemetry.root)
    state = expected[0]
    outcomes = {"old": 0, "new": 0}
    killed = 0
    try:
        for kill_at, delay in [(p, None) for p in points] + [("-", rng.randint(5, 400)) for _ in range(RANDOM_KILLS)]:
            which = 1 if state == expected[0] else 0
            code = zygote.run(sid, which, kill_at, delay)
            assert code in (0, -9), f"{kill_at}: the re-split failed instead of dying (exit {code})"
            killed += code == -9
            report = recover(engine, telemetry)
            check_agree(engine, telemetry, sid, rows)
            now = _laps_key(load_session(engine, sid).laps)
            assert now in (state, expected[which]), f"{kill_at}: laps are neither the old nor the new ones"
            outcomes["new" if now == expected[which] else "old"] += 1
            # a pending file left is one of a re-split that never committed, and it is reported
            left = [pending_path(telemetry, s, r) for s, r in pending_files(telemetry)]
            assert report.resplit_leftovers == left
            assert load_session(engine, sid).laps_revision not in [r for _, r in pending_files(telemetry)]
            state = now
            # and the next re-split, undisturbed, goes through
        assert zygote.run(sid, 1 if state == expected[0] else 0, "-") == 0
        check_agree(engine, telemetry, sid, rows)
    finally:
        zygote.close()
    assert killed >= len(points) - 2, (killed, outcomes)
    assert outcomes["old"] and outcomes["new"], outcomes
