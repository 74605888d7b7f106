"""``import_for_catalogue``: a file read with the catalogue's remembered tracks (the window's
import list and ``laptrace import`` read files so), and read all the same when the
catalogue cannot be read."""

from __future__ import annotations

from pathlib import Path

from realfiles import logger_file

from desktop_app.importing import import_file, import_for_catalogue, resplit_draft
from desktop_app.laps.resplit import user_lines
from storage.db import make_engine, upgrade
from storage.db.catalog import remember_track

AIM = "aim_csv/aim_format_example.csv"


def test_the_catalogues_track_splits_the_file_and_a_broken_catalogue_does_not_stop_the_read(tmp_path: Path) -> None:
    path = logger_file(AIM)
    plain = import_file(path)
    assert import_for_catalogue(path, None).draft.lap_source == plain.draft.lap_source == "beacon"

    # a database without the schema: the tracks cannot be read, the file still is
    broken = make_engine(f"sqlite:///{(tmp_path / 'empty.sqlite3').as_posix()}")
    try:
        read = import_for_catalogue(path, broken)
    finally:
        broken.dispose()
    assert read.draft.lap_source == "beacon"
    assert read.draft.warnings[0].startswith("the catalogue's tracks were not used (")
    assert "no such table: tracks" in read.draft.warnings[0]  # the database's own reason
    assert [lap.start_offset_s for lap in read.draft.laps] == [lap.start_offset_s for lap in plain.draft.laps]

    engine = make_engine(f"sqlite:///{(tmp_path / 'catalogue.sqlite3').as_posix()}")
    upgrade(engine)
    try:
        s1, s2 = [(x.lat1, x.lon1, x.lat2, x.lon2) for x in plain.draft.lines if x.origin == "auto"]
        engineer = resplit_draft(plain.recording, plain.draft, user_lines(s1, [s2]))
        remember_track(engine, "SSKC", engineer.lines)
        read = import_for_catalogue(path, engine)
    finally:
        engine.dispose()
    assert read.draft.lap_source == "track"
    assert read.draft.warnings[0] == "laps from the lines remembered for track 'SSKC' (set by an engineer)"
    assert "laps from the lines remembered for this track" not in read.draft.warnings  # said once
    assert [lap.samples for lap in read.draft.laps] == [lap.samples for lap in engineer.laps]
