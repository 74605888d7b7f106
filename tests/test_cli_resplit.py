"""``laptrace resplit`` and the tracks ``laptrace import`` remembers, on synthetic VBO files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from polytrack import PolyTrack, paperclip

from desktop_app.cli import main
from desktop_app.commands import exitcodes
from desktop_app.loggers.recording import Gate


def write_vbo(path: Path, track: PolyTrack, gates: list[Gate]) -> None:
    """The track's recording as a VBO file, with these ``[laptiming]`` gates."""
    rec = track.recording()
    lat = rec.channels["lat"].values
    lon = rec.channels["long"].values

    def minutes(g_lat: float, g_lon: float) -> str:
        return f"{-g_lon * 60:+.8f} {g_lat * 60:+.8f}"  # longitude first, west positive

    lines = ["File created on 01/06/2024 @ 10:00:00", "", "[header]"]
    lines += ["satellites", "time", "latitude", "longitude", "velocity kmh", ""]
    if gates:
        lines.append("[laptiming]")
        for g in gates:
            lines.append(f"{g.kind.title()}   {minutes(g.lat1, g.long1)} {minutes(g.lat2, g.long2)} \u00ac {g.name}")
        lines.append("")
    lines += ["[column names]", "sats time lat long velocity", "", "[data]"]
    for i, t in enumerate(rec.time):
        s = 36000.0 + t
        hhmmss = f"{int(s // 3600):02d}{int(s % 3600 // 60):02d}{s % 60:05.2f}"
        lines.append(f"011 {hhmmss} {lat[i] * 60:+.8f} {-lon[i] * 60:+.8f} {track.speed_ms * 3.6:07.3f}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def track(**kw: Any) -> PolyTrack:
    return PolyTrack(paperclip(width=16.0), **{"laps": 4.4, "start_m": 30.0, **kw})


def run(capsys: pytest.CaptureFixture[str], *args: str | Path | int) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def line_arg(points: tuple[float, float, float, float]) -> str:
    return ",".join(f"{x:.8f}" for x in points)


@pytest.fixture
def imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], int, dict[str, Any]]:
    data = ["--data-dir", str(tmp_path / "data")]
    t = track()
    vbo = tmp_path / "run1.vbo"
    write_vbo(vbo, t, [t.gate_along(0.0, 0.0, name="S/F")])
    code, out, err = run(capsys, "import", vbo, "--json", *data)
    assert code == exitcodes.OK, err
    doc = json.loads(out)
    return data, int(doc["session_id"]), doc


def test_resplit_prints_the_import_document(
    imported: tuple[list[str], int, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    data, sid, first = imported
    t = track()
    assert first["lap_source"] == "gate" and first["sector_source"] == "auto"
    assert first["ideal_lap_s"] == pytest.approx(t.lap_time, abs=0.01)
    start, split = t.across(0.0, 150.0, 8.0), t.across(16.0, 0.0, 8.0)
    code, out, err = run(
        capsys, "resplit", sid, "--start", line_arg(start), "--split", line_arg(split), "--json", *data
    )
    assert code == exitcodes.OK, err
    doc = json.loads(out)
    assert set(first) <= set(doc)
    assert doc["session_id"] == sid and doc["parquet_path"] == first["parquet_path"] and doc["status"] == "ready"
    assert doc["lap_source"] == "user" and doc["sector_source"] == "user" and doc["laps_revision"] > 0
    truth = t.passes(0.0, 150.0)
    assert [lap["start_s"] for lap in doc["laps"][1:]] == pytest.approx(truth, abs=0.01)
    flying = [lap for lap in doc["laps"] if lap["kind"] == "flying"]
    assert len(flying) == len(truth) - 1 >= 3
    assert all(len(lap["sectors_s"]) == 2 for lap in flying)
    assert sum(lap["samples"] for lap in doc["laps"]) == sum(lap["samples"] for lap in first["laps"])
    code, out, err = run(capsys, "sessions", "--json", *data)
    (listed,) = json.loads(out)
    assert listed["lap_count"] == len(doc["laps"])
    assert listed["ideal_lap_s"] == pytest.approx(doc["ideal_lap_s"], abs=1e-6)


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("45.0,7.0,45.0", "--start '45.0,7.0,45.0': expected four numbers LAT,LON,LAT,LON, got 3 field(s)"),
        ("45.0,7.0,north,7.0", "field 3 ('north') is not a number"),
        ("95.0,7.0,45.0,7.0", "field 1 is a latitude, 95.0 is outside -90..90"),
        ("45.001,7.001,45.001,7.001", "start line: its two points are the same place (a line of zero length)"),
        ("far", "nowhere near the driven line"),
    ],
)
def test_bad_start_line_is_refused_and_changes_nothing(
    imported: tuple[list[str], int, dict[str, Any]], capsys: pytest.CaptureFixture[str], start: str, message: str
) -> None:
    data, sid, first = imported
    if start == "far":
        a = track().across(0.0, 150.0, 8.0)
        start = line_arg((a[0] + 0.1, a[1], a[2] + 0.1, a[3]))
    parquet = Path(first["parquet_path"])
    before = parquet.read_bytes()
    listing = sorted(p.name for p in parquet.parent.iterdir())
    code, out, err = run(capsys, "resplit", sid, "--start", start, *data)
    assert code == exitcodes.BAD_INPUT and out == ""
    assert err.startswith("laptrace resplit: ") and message in err and "Traceback" not in err
    assert parquet.read_bytes() == before and sorted(p.name for p in parquet.parent.iterdir()) == listing
    code, out, err = run(capsys, "sessions", "--json", *data)
    assert json.loads(out)[0]["lap_count"] == len(first["laps"])


def test_bad_split_line_and_unknown_session(
    imported: tuple[list[str], int, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    data, sid, _ = imported
    good = line_arg(track().across(0.0, 150.0, 8.0))
    code, _, err = run(capsys, "resplit", sid, "--start", good, "--split", "1,2,3,4,5", *data)
    assert code == exitcodes.BAD_INPUT and "--split 1 '1,2,3,4,5': expected four numbers" in err
    code, _, err = run(capsys, "resplit", sid + 1, "--start", good, *data)
    assert code == exitcodes.BAD_INPUT and str(sid + 1) in err
    code, _, err = run(capsys, "resplit", "x1", "--start", good, *data)
    assert code == exitcodes.BAD_INPUT and "positive integer" in err


def test_import_splits_a_file_without_gates_with_the_tracks_lines(
    imported: tuple[list[str], int, dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data, sid, _ = imported
    # a later run at the same place, its logger without any gate: the remembered S/F line
    later = track(laps=3.6, start_m=400.0)
    vbo = tmp_path / "run2.vbo"
    write_vbo(vbo, later, [])
    code, out, err = run(capsys, "import", vbo, "--json", *data)
    assert code == exitcodes.OK, err
    doc = json.loads(out)
    assert doc["lap_source"] == "track"
    assert [lap["start_s"] for lap in doc["laps"][1:]] == pytest.approx(later.passes(0.0, 0.0), abs=0.01)
    # a file whose own gate is stale (never crossed) also gets the track's line
    stale = track(laps=3.2, start_m=100.0)
    far = stale.gate_along(0.0, 0.0, name="old")
    far = Gate("start", far.lat1 + 0.05, far.long1, far.lat2 + 0.05, far.long2, "old")
    vbo3 = tmp_path / "run3.vbo"
    write_vbo(vbo3, stale, [far])
    code, out, err = run(capsys, "import", vbo3, "--json", *data)
    doc3 = json.loads(out)
    assert doc3["lap_source"] == "track"
    assert [lap["start_s"] for lap in doc3["laps"][1:]] == pytest.approx(stale.passes(0.0, 0.0), abs=0.01)
    # the engineer moves the line on the first session: later files follow the new line
    t = track()
    code, _, err = run(capsys, "resplit", sid, "--start", line_arg(t.across(16.0, -100.0, 8.0)), *data)
    assert code == exitcodes.OK, err
    vbo4 = tmp_path / "run4.vbo"
    fourth = track(laps=3.3, start_m=600.0)
    write_vbo(vbo4, fourth, [])
    code, out, err = run(capsys, "import", vbo4, "--json", *data)
    doc4 = json.loads(out)
    assert doc4["lap_source"] == "track"
    assert [lap["start_s"] for lap in doc4["laps"][1:]] == pytest.approx(fourth.passes(16.0, -100.0), abs=0.01)


def test_inspect_does_not_use_the_catalogue(
    imported: tuple[list[str], int, dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, _, _ = imported  # the catalogue now knows the track and its S/F line
    later = track(laps=3.6, start_m=400.0)
    vbo = tmp_path / "run2.vbo"
    write_vbo(vbo, later, [])
    code, out, err = run(capsys, "inspect", vbo, "--json")
    assert code == exitcodes.OK, err
    (f,) = json.loads(out)["files"]
    assert f["lap_source"] == "auto"  # no catalogue, no remembered line: the automatic one


def test_recover_command_finishes_a_resplit_stopped_before_its_swap(
    imported: tuple[list[str], int, dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from desktop_app.importing import recording_from_telemetry, resplit_draft
    from desktop_app.laps.resplit import user_lines
    from storage.db import make_engine
    from storage.db.catalog import NewLaps, load_session, replace_laps
    from storage.parquet import ParquetTelemetryStorage
    from storage.parquet_resplit import write_pending
    from storage.types import SessionDraft

    data, sid, _ = imported
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'laptrace.sqlite3'}")
    storage = ParquetTelemetryStorage(tmp_path / "data")
    before = storage.read(sid)
    assert before is not None
    saved = load_session(engine, sid)
    base = SessionDraft(
        saved.summary.name, None, None, None, None, "", saved.lap_source, saved.sources, saved.laps, before
    )
    new = resplit_draft(recording_from_telemetry(before), base, user_lines(track().across(0.0, 150.0, 8.0)))
    write_pending(storage, sid, new.telemetry, 5)
    replace_laps(engine, sid, 0, NewLaps(new.laps, new.lap_source, new.ideal_lap_s, new.sector_source, new.lines), 5)
    engine.dispose()
    code, out, err = run(capsys, "recover", "--json", *data)
    assert code == exitcodes.OK, err
    report = json.loads(out)
    assert report["resplit_finished"] == [sid] and report["resplit_leftovers"] == []
    footer = storage.read_footer(sid)
    assert footer is not None and [e.lap_number for e in footer.laps] == [lap.lap_number for lap in new.laps]
    assert [e.start_offset for e in footer.laps] == pytest.approx([lap.start_offset_s for lap in new.laps], abs=1e-9)
