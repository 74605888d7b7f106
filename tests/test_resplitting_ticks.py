"""Re-splitting keeps the engineer's validity ticks on the laps that survive (a draft in
memory, and a saved session through the catalogue).

On the real AiM export (beacon laps, GPS): its automatic split lines serve as the
engineer's lines. A lap the new lines cut at the same samples (start and end within one
sample) keeps its tick; a lap they cut elsewhere goes back to the proposal.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.importing import ImportedFile, import_file, keep_validity, resplit_draft
from desktop_app.laps import ideal_lap
from desktop_app.laps.resplit import LinePoints, user_lines
from desktop_app.resplitting import resplit_session
from storage.db import make_engine, upgrade
from storage.db.catalog import load_session, set_lap_validity
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import save_session
from storage.types import LapRecord, SessionDraft, TrackLine

AIM = "aim_csv/aim_format_example.csv"


def _points(line: TrackLine) -> LinePoints:
    return line.lat1, line.lon1, line.lat2, line.lon2


@pytest.fixture(scope="module")
def aim() -> ImportedFile:
    return import_file(logger_file(AIM))


def _auto_lines(draft: SessionDraft) -> tuple[LinePoints, LinePoints]:
    auto = [x for x in draft.lines if x.origin == "auto" and x.kind == "split"]
    assert len(auto) == 2
    return _points(auto[0]), _points(auto[1])


def _copy_laps(draft: SessionDraft) -> SessionDraft:
    """The draft with laps of its own (a re-split must not depend on shared objects)."""
    return dataclasses.replace(draft, laps=[dataclasses.replace(lap) for lap in draft.laps])


def test_ticks_survive_a_split_line_moved_and_go_with_a_moved_start_line(aim: ImportedFile) -> None:
    s1, s2 = _auto_lines(aim.draft)
    first = resplit_draft(aim.recording, _copy_laps(aim.draft), user_lines(s1, [s2]))
    assert first.lap_source == "user"
    laps = {lap.lap_number: lap for lap in first.laps}
    flying = [n for n, lap in laps.items() if lap.kind == "flying" and lap.complete]
    assert len(flying) >= 6
    fastest = min(flying, key=lambda n: laps[n].lap_time_s or np.inf)
    # the engineer: the fastest lap is invalid (a track limit), one proposed invalid is fine
    laps[fastest].user_valid = False
    laps[0].user_valid = True
    ideal_before = ideal_lap(first.laps)
    assert ideal_before is not None

    # the same start line, the second split line dropped: every lap is cut at the same samples
    second = resplit_draft(aim.recording, first, user_lines(s1, []))
    assert [(lap.lap_number, lap.samples) for lap in second.laps] == [
        (lap.lap_number, lap.samples) for lap in first.laps
    ]
    after = {lap.lap_number: lap for lap in second.laps}
    assert after[fastest].user_valid is False and after[fastest].valid is False
    assert after[0].user_valid is True
    assert [n for n, lap in after.items() if lap.user_valid is not None] == [0, fastest]
    assert second.sector_source == "auto"  # no split line of the engineer's: automatic sectors
    assert after[fastest].sectors_s != laps[fastest].sectors_s

    # the ideal lap follows the ticks: the fastest lap's sectors are not summed
    third = resplit_draft(aim.recording, second, user_lines(s1, [s2]))
    assert third.ideal_lap_s == pytest.approx(ideal_before)
    untouched = resplit_draft(aim.recording, _copy_laps(aim.draft), user_lines(s1, [s2]))
    assert untouched.ideal_lap_s is not None and untouched.ideal_lap_s < ideal_before  # the ticked lap counts

    # the start line moved a third of a lap on: no lap is the same, the proposal stands
    moved = resplit_draft(aim.recording, third, user_lines(s2, []))
    assert all(lap.user_valid is None for lap in moved.laps)


def _shifted(laps: list[LapRecord], k: int, by: float) -> list[LapRecord]:
    """The laps with the boundary between lap ``k - 1`` and lap ``k`` moved by ``by`` seconds."""
    out = [dataclasses.replace(lap, user_valid=None) for lap in laps]
    out[k] = dataclasses.replace(out[k], start_offset_s=out[k].start_offset_s + by)
    return out


def test_a_lap_is_the_same_lap_within_one_sample(aim: ImportedFile) -> None:
    laps = [dataclasses.replace(lap) for lap in aim.draft.laps]
    for lap in laps:
        lap.user_valid = not lap.proposed_valid
    period = float(np.median(np.diff(aim.recording.time)))
    assert period == pytest.approx(0.05, abs=1e-3)  # the export's 20 Hz

    within = _shifted(laps, 4, 0.9 * period)
    assert keep_validity(laps, within, aim.recording) == len(laps)
    assert [lap.user_valid for lap in within] == [lap.user_valid for lap in laps]

    # two samples: laps 3 (its end) and 4 (its start) are cut elsewhere, the others stay
    beyond = _shifted(laps, 4, 2.0 * period)
    assert keep_validity(laps, beyond, aim.recording) == len(laps) - 2
    assert [n for n, lap in enumerate(beyond) if lap.user_valid is None] == [3, 4]
    assert all(beyond[n].user_valid is laps[n].user_valid for n in range(len(laps)) if n not in (3, 4))
    # no tick at all: nothing to carry
    assert keep_validity(aim.draft.laps, _shifted(laps, 4, 0.0), aim.recording) == 0


def test_a_saved_session_split_again_keeps_the_ticks_in_the_catalogue(aim: ImportedFile, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'catalogue.sqlite3').as_posix()}")
    upgrade(engine)
    storage = ParquetTelemetryStorage(tmp_path / "data")
    try:
        sid = save_session(_copy_laps(aim.draft), engine, storage, source_paths=[aim.path])
        s1, s2 = _auto_lines(aim.draft)
        resplit_session(engine, storage, sid, user_lines(s1, [s2]))
        set_lap_validity(engine, sid, 3, False)
        before = load_session(engine, sid)

        resplit_session(engine, storage, sid, user_lines(s1, []))  # the same start line
        after = load_session(engine, sid)
        assert after.laps_revision != before.laps_revision
        assert [lap.samples for lap in after.laps] == [lap.samples for lap in before.laps]
        assert [lap.lap_number for lap in after.laps if lap.user_valid is not None] == [3]
        assert after.laps[3].user_valid is False and after.laps[3].proposed_valid

        resplit_session(engine, storage, sid, user_lines(s2, []))  # the start line moved on
        assert all(lap.user_valid is None for lap in load_session(engine, sid).laps)
    finally:
        engine.dispose()
