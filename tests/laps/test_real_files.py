"""Laps of the real logger files, checked against what each file itself says.

The expected values come from the files (AiM Segment Times and Beacon Markers, MoTeC Beacon
Markers, RaceChrono's lap_number column read with the csv module) or from the hand-checked
gate crossings in docs/formats.md#vbo-gates (VBO), never from this code's own output.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from realfiles import LOGGERS, all_logger_files, logger_file

from desktop_app.laps import NO_LAPS, analyse_laps
from desktop_app.loggers import read_recording
from desktop_app.loggers.recording import Recording

#: every real logger sample
REAL_FILES = [
    "mf4/ASAP2_Demo_V171.mf4",
    "mf4/canedge_11111111_00000012_00000001.MF4",
    "aim_csv/aim_format_example.csv",
    "aim_xrk/test.xrk",
    "bosch_windarab_txt/sim_data.txt",
    "motec_csv/May_22_2026_Peter.csv",
    "motec_csv/blakelyauto.csv",
    "motec_ld/Sample1.ld",
    "racechrono_csv/Short_RaceChrono_Offical_App_Data.csv",
    "racechrono_csv/session_20230918_0946_0916takata_v2.csv",
    "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv",
    "vbo/20210620_035615.vbo",
    "vbo/25IR05_RdAm_FP1_Run05_TL.vbo",
    "vbo/Example_File.VBO",
    "vbo/racechrono_2023Rd3_1.vbo",
    "vbo/session_20230326_141947_test.vbo",
]


def mmss(text: str) -> float:
    minutes, seconds = text.split(":")
    return 60 * int(minutes) + float(seconds)


def header_fields(path: Path, key: str) -> list[str]:
    """The non-empty fields after ``key`` on the metadata line starting with it."""
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            if row and row[0].strip() == key:
                return [c.strip() for c in row[1:] if c.strip()]
    raise AssertionError(f"{key} not in {path}")


_cache: dict[str, Recording] = {}


@pytest.fixture(scope="module", autouse=True)
def _release_recordings() -> Iterator[None]:
    """Read each file once per module, and let go of it after: readers' arrays can be views
    of Arrow buffers, and other tests measure Arrow's allocations."""
    yield
    _cache.clear()


def recording(name: str) -> Recording:
    if name not in _cache:
        _cache[name] = read_recording(logger_file(name))
    return _cache[name]


def test_every_real_file_is_covered() -> None:
    assert sorted(REAL_FILES) == sorted(str(p.relative_to(LOGGERS)) for p in all_logger_files())


@pytest.mark.parametrize("name", REAL_FILES)
def test_rows_in_equal_rows_out(name: str) -> None:
    rec = recording(name)
    a = analyse_laps(rec)
    segs = a.split.segments
    assert sum(s.rows for s in segs) == sum(lap.samples for lap in a.laps) == rec.sample_count
    assert segs[0].first_row == 0 and segs[-1].end_row == rec.sample_count
    assert all(x.end_row == y.first_row and y.rows > 0 for x, y in zip(segs, segs[1:]))
    assert a.split.lap_index.shape == (rec.sample_count,)
    assert np.all(np.diff(a.split.lap_index) >= 0)
    for lap in a.laps:
        assert lap.proposed_valid or lap.reason  # every "invalid" says why


def test_aim_laps_are_the_beacon_markers_and_segment_times() -> None:
    name = "aim_csv/aim_format_example.csv"
    path = logger_file(name)
    markers = [float(x) for x in header_fields(path, "Beacon Markers")]
    segments = [mmss(x) for x in header_fields(path, "Segment Times")]
    assert len(markers) == len(segments) == 16
    a = analyse_laps(recording(name))
    assert a.split.source == "beacon"
    # the last marker is the end of the data (951 s): 16 segments, laps 0..15
    assert [lap.lap_number for lap in a.laps] == list(range(16))
    assert [lap.start_offset_s for lap in a.laps[1:]] == pytest.approx(markers[:-1], abs=1e-9)
    assert a.laps[0].kind == "out" and a.laps[-1].kind == "in"
    for lap, seg in zip(a.laps[1:-1], segments[1:-1]):
        assert lap.kind == "flying"
        assert lap.lap_time_s == pytest.approx(seg, abs=0.05)
    # validity: the clean laps are valid, the three slow ones are not, and say why
    invalid = {lap.lap_number for lap in a.laps if lap.kind == "flying" and not lap.proposed_valid}
    assert {1, 7, 14} <= invalid
    best = min(segments[1:-1])
    timed = [a.laps[i].lap_time_s for i in range(3, 7)]
    assert all(t is not None and t < 1.07 * best for t in timed)
    assert all("107 %" in a.laps[i].reason for i in (1, 7, 14))
    # the kart track is about 1.1 km: every flying lap's GPS distance agrees within 1 %
    dists = [lap.distance_m for lap in a.laps if lap.kind == "flying"]
    assert all(d is not None and abs(d - 1096) < 11 for d in dists)


def test_aim_automatic_line_agrees_with_the_beacons() -> None:
    rec = read_recording(logger_file("aim_csv/aim_format_example.csv"))
    beacon = analyse_laps(rec)
    rec.beacons = None  # as if the file had no lap markers
    auto = analyse_laps(rec)
    assert auto.split.source == "auto"
    b = [lap for lap in beacon.laps if lap.kind == "flying"]
    x = [lap for lap in auto.laps if lap.kind == "flying"]
    assert len(x) == len(b) == 14
    # another line, so laps are cut elsewhere; clean laps still agree to a few tenths
    both = [(p.lap_time_s, q.lap_time_s) for p, q in zip(b, x) if p.proposed_valid and q.proposed_valid]
    assert len(both) >= 8
    assert all(p is not None and q is not None and abs(p - q) < 0.25 for p, q in both)


def test_aim_xrk_laps_are_the_loggers_lap_messages() -> None:
    # the logger's LAP messages, as libxrk's default decoder reads them: 10 full laps and an in-lap
    from libxrk.aim_xrk import aim_xrk

    from desktop_app.loggers.xrk import _captured_output

    name = "aim_xrk/test.xrk"
    with _captured_output():
        ref = aim_xrk(str(logger_file(name)))
    laps = ref.laps.to_pylist()
    t0 = min(int(t.column("timecodes").to_numpy()[0]) for t in ref.channels.values())
    a = analyse_laps(recording(name))
    assert a.split.source == "beacon"
    assert [(lap.lap_number, lap.kind) for lap in a.laps] == (
        [(0, "out")] + [(i, "flying") for i in range(1, 11)] + [(11, "in")]
    )
    assert [lap.start_offset_s for lap in a.laps[1:]] == pytest.approx(
        [(x["start_time"] - t0) / 1000 for x in laps], abs=1e-9
    )
    assert [lap.lap_time_s for lap in a.laps[1:-1]] == pytest.approx(
        [(x["end_time"] - x["start_time"]) / 1000 for x in laps[:-1]], abs=1e-9
    )
    best = min(lap.lap_time_s for lap in a.laps[1:-1] if lap.lap_time_s is not None)
    assert best == pytest.approx(49.779, abs=1e-9)
    # the first flying lap is 27 % off the best: proposed invalid, and says why
    assert not a.laps[1].proposed_valid and "107 %" in a.laps[1].reason
    assert all(lap.proposed_valid for lap in a.laps[2:-1])


def test_motec_beacons() -> None:
    name = "motec_csv/blakelyauto.csv"
    markers = [float(x) for x in header_fields(logger_file(name), "Beacon Markers")[0].split()]
    assert markers == [24.324, 190.167]
    a = analyse_laps(recording(name))
    assert a.split.source == "beacon"
    assert [(lap.lap_number, lap.kind) for lap in a.laps] == [(0, "out"), (1, "flying"), (2, "partial")]
    assert a.laps[1].lap_time_s == pytest.approx(markers[1] - markers[0], abs=0.05)
    assert a.laps[1].lap_time_s == pytest.approx(165.843, abs=1e-6)
    # no GPS: the distance is the logged Distance channel's (1 m resolution)
    assert a.split.travel.source == "logged"
    assert a.laps[1].distance_m is not None and 4000 < a.laps[1].distance_m < 6000


def test_motec_without_beacons_is_one_lap_zero() -> None:
    a = analyse_laps(recording("motec_csv/May_22_2026_Peter.csv"))
    assert a.split.source == "none" and NO_LAPS in a.split.notes
    assert len(a.laps) == 1 and a.laps[0].lap_number == 0 and a.laps[0].reason == "no laps found"


def raw_racechrono_laps(path: Path) -> tuple[list[int], dict[int, float], dict[int, float]]:
    """lap_number per row (repeated timestamps dropped), first timestamp and distance per lap."""
    numbers: list[int] = []
    first_t: dict[int, float] = {}
    first_d: dict[int, float] = {}
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "timestamp")
    col = rows[head].index("lap_number")
    dcol = rows[head].index("distance_traveled")
    seen: set[str] = set()
    for r in rows[head + 3 :]:
        if not r or r[0] in seen:
            continue
        seen.add(r[0])
        n = int(r[col])
        numbers.append(n)
        first_t.setdefault(n, float(r[0]))
        first_d.setdefault(n, float(r[dcol]))
    return numbers, first_t, first_d


def test_racechrono_lap_numbers_from_the_file() -> None:
    name = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"
    numbers, first_t, first_d = raw_racechrono_laps(logger_file(name))
    a = analyse_laps(recording(name))
    assert a.split.source == "counter"
    assert a.split.lap_index.tolist() == numbers
    assert [(lap.lap_number, lap.kind) for lap in a.laps] == [(8, "partial"), (9, "flying"), (10, "partial")]
    assert a.laps[1].lap_time_s == pytest.approx(first_t[10] - first_t[9], abs=0.05)
    # our WGS84 distance of lap 9 against RaceChrono's own distance_traveled
    assert a.laps[1].distance_m == pytest.approx(first_d[10] - first_d[9], rel=0.01)
    assert a.laps[1].proposed_valid


def test_hd2_vbo_crosses_its_start_gate_once() -> None:
    a = analyse_laps(recording("vbo/25IR05_RdAm_FP1_Run05_TL.vbo"))
    assert a.split.source == "gate"  # not the glitchy Lap_Number counter
    assert len(a.laps) == 2
    assert a.laps[1].start_offset_s == pytest.approx(171.6, abs=0.05)
    assert a.laps[0].kind == "out"
    assert a.laps[1].kind == "in"  # it ends standing in the pits
    assert not any(lap.complete for lap in a.laps)
    # its Lap_Number (1, a glitch to 0 and back while standing) does not agree: said so
    assert any("'Lap_Number' counts 0 new lap(s) where the gates give 1" in n for n in a.split.notes)


def test_racechrono_vbo_start_and_finish_gates() -> None:
    a = analyse_laps(recording("vbo/racechrono_2023Rd3_1.vbo"))
    assert a.split.source == "gate"
    assert [lap.kind for lap in a.laps] == ["out", "flying", "in"]
    lap = a.laps[1]
    assert lap.start_offset_s == pytest.approx(945.4, abs=0.05)  # the Start crossing
    assert lap.lap_time_s is not None
    assert lap.start_offset_s + lap.lap_time_s == pytest.approx(1052.9, abs=0.05)
    assert lap.lap_time_s == pytest.approx(107.5, abs=0.05)
    # each gate is also passed once the other way, further from its midpoint: ignored, said so
    assert "start gate '新トラップ': 1 pass(es) the other way ignored (at 1053.5 s" in a.split.notes[0]
    assert "finish gate 'ゴール': 1 pass(es) the other way ignored (at 946.4 s" in a.split.notes[1]


@pytest.mark.parametrize(
    "name",
    [
        "vbo/Example_File.VBO",  # standing still for 18 s
        "vbo/20210620_035615.vbo",  # two rows
        "vbo/session_20230326_141947_test.vbo",  # gates, one row
        "bosch_windarab_txt/sim_data.txt",  # no GPS, no lap channel
        "racechrono_csv/Short_RaceChrono_Offical_App_Data.csv",  # a 20 s road drive
        "mf4/ASAP2_Demo_V171.mf4",  # ECU signals, no GPS
        "mf4/canedge_11111111_00000012_00000001.MF4",  # GPS at 1 Hz, parked
    ],
)
def test_files_without_laps_are_lap_zero(name: str) -> None:
    a = analyse_laps(recording(name))
    assert a.split.source == "none"
    assert len(a.laps) == 1 and a.laps[0].samples == recording(name).sample_count
    assert a.laps[0].kind == "partial" and not a.laps[0].proposed_valid


def test_parked_gps_logger_travels_almost_nothing() -> None:
    # CANedge + CANmod.gps, parked for ~2 minutes at 1 Hz: GPS wander is not distance
    a = analyse_laps(recording("mf4/canedge_11111111_00000012_00000001.MF4"))
    assert a.split.travel.source == "gps"
    assert a.laps[0].distance_m is not None and a.laps[0].distance_m < 10.0


def test_aim_automatic_sectors_and_ideal_lap() -> None:
    # the kart file has no split lines: three automatic sectors, the same places every lap
    a = analyse_laps(recording("aim_csv/aim_format_example.csv"))
    assert a.split.sector_source == "auto"
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == 14 and all(len(lap.sectors_s) == 3 for lap in flying)
    for lap in flying:
        assert sum(lap.sectors_s) == pytest.approx(lap.lap_time_s, abs=1e-9)
    valid = [lap for lap in flying if lap.valid]
    best = [min(lap.sectors_s[i] for lap in valid) for i in range(3)]
    assert a.ideal_lap_s == pytest.approx(sum(best), abs=1e-12)
    fastest = min(lap.lap_time_s for lap in valid if lap.lap_time_s is not None)
    # about a kilometre of kart track: the best sectors gain tenths on the best lap, not seconds
    assert a.ideal_lap_s is not None and fastest - 1.0 < a.ideal_lap_s <= fastest


def test_windarab_counter_starting_at_one_has_lap_zero_as_its_out_lap(tmp_path: Path) -> None:
    # the real WinDarab export with a lap counter column added, counting 1 from its first
    # row, 2 from 40 s and 3 from 80 s (as WinDarab numbers an out-lap 1)
    from desktop_app.importing import import_file

    src = logger_file("bosch_windarab_txt/sim_data.txt").read_bytes().decode("latin-1").split("\r\n")
    head = next(i for i, line in enumerate(src) if line.startswith("xtime"))
    out = src[:head] + [src[head] + "\tlapctr[   ]"]
    for line in src[head + 1 :]:
        if not line.strip():
            out.append(line)
            continue
        t = float(line.split("\t")[0])
        out.append(f"{line}\t{1 + (t >= 40.0) + (t >= 80.0):14d}")
    derived = tmp_path / "with_lapctr.txt"
    derived.write_bytes("\r\n".join(out).encode("latin-1"))
    imported = import_file(derived)
    draft = imported.draft
    assert imported.recording.lap_counter is not None and draft.lap_source == "counter"
    assert [(lap.lap_number, lap.kind) for lap in draft.laps] == [(0, "out"), (1, "flying"), (2, "in")]
    assert draft.laps[1].lap_time_s == pytest.approx(40.0, abs=0.011)
    assert [lap.lap_number for lap in draft.telemetry.laps] == [0, 1, 2]
    assert draft.telemetry.laps[0].start_offset == 0.0
    assert sum(lap.samples for lap in draft.laps) == imported.recording.sample_count == 12013
