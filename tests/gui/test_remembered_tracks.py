"""A file dropped in the window is split at the lines the catalogue remembers for its track,
as ``laptrace import`` splits it.

The real AiM export has no gates (its laps come from its beacons). The catalogue is given
a track there whose lines an engineer set (its automatic split lines, re-split as the
engineer's): a drop of the file is read with them, on the read pool, and its laps are the
ones ``laptrace import`` gives the same file in the same catalogue. And the RaceChrono VBO,
imported by ``laptrace import`` with its gates, leaves its Start line to the track: the same
file without its gates, dropped in the window, is split there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from gui.qt_helpers import drop_files, wait_read, wait_state
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.catalogue import Catalogue
from desktop_app.cli import main
from desktop_app.commands import exitcodes
from desktop_app.gui.main_window import MainWindow
from desktop_app.importing import ImportedFile, import_file, lap_json, resplit_draft
from desktop_app.laps.resplit import user_lines
from storage.db.catalog import known_tracks, remember_track
from storage.types import KnownTrack, SessionDraft, TrackLine

AIM = "aim_csv/aim_format_example.csv"


def _points(line: TrackLine) -> tuple[float, float, float, float]:
    return line.lat1, line.lon1, line.lat2, line.lon2


def _engineers_draft(imported: ImportedFile) -> SessionDraft:
    """The file split at lines an engineer set: its first automatic split line as the start
    line, its second as the one split line."""
    s1, s2 = [_points(x) for x in imported.draft.lines if x.origin == "auto" and x.kind == "split"]
    return resplit_draft(imported.recording, imported.draft, user_lines(s1, [s2]))


def _timing(laps: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(lap["lap_number"], lap["kind"], lap["start_s"], lap["lap_time_s"], lap["sectors_s"]) for lap in laps]


def _times(laps: Sequence[dict[str, Any]]) -> list[float]:
    """Every lap's start, lap time and sector times, in order (an untimed lap's as NaN)."""
    nan = float("nan")
    out: list[float] = []
    for lap in laps:
        out += [lap["start_s"], nan if lap["lap_time_s"] is None else lap["lap_time_s"], *lap["sectors_s"]]
    return out


@pytest.mark.threaded(reason="asserts the read, with its look-up of the catalogue's tracks, ran on a worker")
def test_a_dropped_file_is_split_at_its_tracks_remembered_lines(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = logger_file(AIM)
    plain = import_file(path)
    assert plain.draft.lap_source == "beacon"  # without the catalogue: the file's beacons
    engineer = _engineers_draft(plain)
    assert [x.origin for x in engineer.lines] == ["user", "user"]
    remember_track(catalogue.engine, "AiM test circuit", engineer.lines)

    # the read runs on a worker and is given the catalogue's tracks
    seen: list[tuple[bool, list[str]]] = []
    reader = window.imports.reader

    def recording_reader(*args: Any, tracks: Sequence[KnownTrack] = (), **kwargs: Any) -> ImportedFile:
        seen.append((threading.current_thread() is threading.main_thread(), [t.name for t in tracks]))
        return reader(*args, tracks=tracks, **kwargs)

    window.imports.reader = recording_reader
    drop_files(window, [path])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.state == "ready" and entry.imported is not None
    assert seen == [(False, ["AiM test circuit"])]
    draft = entry.imported.draft
    assert draft.lap_source == "track" and draft.sector_source == "track"
    # the laps are cut at the remembered lines: the engineer's split of the same recording
    shown = [lap_json(lap) for lap in window.view.table.model().laps()]
    assert len(shown) == len(engineer.laps) == 16
    mine = [lap_json(lap) for lap in engineer.laps]
    assert [(lap["lap_number"], lap["kind"], lap["samples"]) for lap in shown] == [
        (lap["lap_number"], lap["kind"], lap["samples"]) for lap in mine
    ]
    # a line kept as its two ends comes back with its direction a millionth off: microseconds
    assert _times(shown) == pytest.approx(_times(mine), abs=1e-5, nan_ok=True)
    assert [lap.lap_number for lap in plain.draft.laps] != [] and _timing(shown) != _timing(
        [lap_json(lap) for lap in plain.draft.laps]
    )
    # the row and the notes say where the laps came from, first
    assert draft.warnings[0] == "laps from the lines remembered for track 'AiM test circuit' (set by an engineer)"
    assert "remembered for track 'AiM test circuit'" in entry.status
    assert [x.origin for x in draft.lines] == ["track", "track"]
    track_map = window.view.preview.track_map
    qtbot.waitUntil(lambda: len(track_map.line_points()) == 2, timeout=10_000)
    assert [(x.kind, x.origin) for x in track_map.lines()] == [("start", "track"), ("split", "track")]

    # laptrace import of the same file, into the same catalogue: the same laps
    config = catalogue.config
    code = main(["import", str(path), "--json", "--db", config.database_url, "--data-dir", str(config.data_dir)])
    out, err = capsys.readouterr()
    assert code == exitcodes.OK, err
    doc = json.loads(out)
    assert doc["lap_source"] == "track"
    assert len(doc["laps"]) == len(shown)
    assert _timing(doc["laps"]) == _timing(shown)
    assert doc["ideal_lap_s"] == pytest.approx(draft.ideal_lap_s, abs=1e-6)


RACECHRONO = "vbo/racechrono_2023Rd3_1.vbo"


def _without_gates(source: Path, target: Path) -> Path:
    """The VBO file without its ``[laptiming]`` section (the logger set no gates)."""
    raw = source.read_bytes()
    start, end = raw.index(b"[laptiming]"), raw.index(b"[column names]")
    target.write_bytes(raw[:start] + raw[end:])
    return target


def test_a_vbo_without_gates_gets_the_start_line_an_earlier_file_left(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = catalogue.config
    where = ["--json", "--db", config.database_url, "--data-dir", str(config.data_dir)]
    # laptrace import of the real file: its Start gate is crossed, the track remembers it
    code = main(["import", str(logger_file(RACECHRONO)), *where])
    out, err = capsys.readouterr()
    assert code == exitcodes.OK, err
    first = json.loads(out)
    assert first["lap_source"] == "gate"
    gate_start = first["laps"][1]["start_s"]
    assert gate_start == pytest.approx(945.4, abs=0.05)  # docs/laps.md: the Start crossing

    bare = _without_gates(logger_file(RACECHRONO), tmp_path / "no_gates.vbo")
    assert import_file(bare).draft.lap_source == "auto"  # on its own: an automatic line
    drop_files(window, [bare])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.state == "ready" and entry.imported is not None
    draft = entry.imported.draft
    assert draft.lap_source == "track"
    assert draft.warnings[0].endswith("(from an earlier file's gates)")
    shown = [lap_json(lap) for lap in window.view.table.model().laps()]
    # split where the earlier file's gate is crossed, to the microsecond
    assert shown[1]["start_s"] == pytest.approx(gate_start, abs=1e-6)

    code = main(["import", str(bare), *where])
    out, err = capsys.readouterr()
    assert code == exitcodes.OK, err
    doc = json.loads(out)
    assert doc["lap_source"] == "track"
    assert _timing(doc["laps"]) == _timing(shown)


def test_a_file_saved_from_the_window_leaves_its_gates_to_the_track(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, tmp_path: Path
) -> None:
    """Save in the window does what ``laptrace import`` does after its save: the gates the
    car crossed are kept for the track, and a later file there without gates uses them."""
    drop_files(window, [logger_file(RACECHRONO)])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.imported is not None and entry.imported.draft.lap_source == "gate"
    gate_start = lap_json(entry.imported.draft.laps[1])["start_s"]
    assert known_tracks(catalogue.engine) == []
    assert window.save_flow.save(entry)
    assert wait_state(qtbot, entry, ("saved", "save-failed")) == "saved"
    (track,) = known_tracks(catalogue.engine)
    assert [(x.kind, x.origin) for x in track.lines] == [("start", "file")]
    assert window.save_flow.label.text().startswith(f"Saved {RACECHRONO.split('/')[-1]} as session")

    bare = _without_gates(logger_file(RACECHRONO), tmp_path / "no_gates.vbo")
    drop_files(window, [bare])
    later = wait_read(qtbot, window, 2)[-1]
    assert later.imported is not None
    assert later.imported.draft.lap_source == "track"
    assert lap_json(later.imported.draft.laps[1])["start_s"] == pytest.approx(gate_start, abs=1e-6)
