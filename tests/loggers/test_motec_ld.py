"""MoTeC native .ld: MoTeC's demo log Sample1.ld, an .ldx beside it, damaged copies, CLI and merge.

Expected values are read from the file independently of the reader where that is simple
(the first channel block, found by hand at the byte offsets docs/formats.md lists), or
are the values MoTeC's demo log is known to hold (Calder Park, 23/11/2005 09:53:00,
vehicle 11A, 78 channels, 454 s, four timed laps).
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import tracemalloc
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.commands import exitcodes
from desktop_app.laps import analyse_laps
from desktop_app.loggers import LoggerFileError, Recording, UnsupportedFormatError, motec_ld, read_recording, sniff
from desktop_app.loggers.motec_laps import LapChannel, beacon_passes

SAMPLE = "motec_ld/Sample1.ld"
REPO = Path(__file__).resolve().parents[2]
#: lap times the ADL logged in its Lap Time channel (the dash's 0.01 s values)
LOGGED_LAPS = [65.15, 63.68, 65.18, 63.75]


@pytest.fixture(scope="module")
def raw() -> bytes:
    return logger_file(SAMPLE).read_bytes()


@pytest.fixture(scope="module")
def rec() -> Recording:
    return read_recording(logger_file(SAMPLE))


def _own(rec: Recording, name: str, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """A channel's own samples (times, values): the rows where it is not NaN."""
    values = rec.channels[name].values
    keep = ~np.isnan(values)
    return rec.time[keep], values[keep]


# --- header, channels, values ---------------------------------------------------------


def test_sniffed_by_content(tmp_path: Path, raw: bytes) -> None:
    assert sniff(logger_file(SAMPLE)) == "motec_ld"
    renamed = tmp_path / "renamed.bin"
    renamed.write_bytes(raw[:8192])
    assert sniff(renamed) == "motec_ld"


def test_header_fields(rec: Recording) -> None:
    assert rec.format == "motec"
    assert rec.started_at == datetime(2005, 11, 23, 9, 53, 0)
    assert rec.started_at.tzinfo is None  # the file has no zone: naive local time
    assert rec.track == "Calder"
    assert rec.logger == "MoTeC ADL"
    m = rec.metadata
    assert m["Vehicle"] == "11A"
    assert m["Event"] == "i2 data day"
    assert m["Session"] == "2"
    assert m["Comment"] == "second warmup"
    assert m["Long Comment"] == "Calder Park, 23/11/05, fine sunny day"
    assert m["Device"] == "ADL" and m["Device Serial"] == "12007" and m["Device Version"] == "4.20"
    assert m["Vehicle Type"] == "Car"
    assert "Driver" not in m  # empty in the file: not invented
    assert rec.warnings == []


def test_channels_rates_and_units(rec: Recording) -> None:
    assert len(rec.channels) == 78
    # 454 s; the fastest channels (suspension) at 100 Hz cover every row
    assert rec.sample_rate_hz == 100.0
    assert rec.sample_count == 45400
    assert rec.time[0] == 0.0 and rec.time[1] == 0.01 and rec.time[-1] == pytest.approx(453.99)
    units = {c.source_name: c.unit for c in rec.channels.values()}
    assert units["Air Temp Inlet"] == "C"
    assert units["Baro Pres"] == "kPa"
    assert units["Gyro Yaw Velocity"] == "deg/s"
    assert units["Lambda 1"] == "LA"
    assert units["Beacon"] == ""
    # every channel keeps its own rate: as many samples as rate x 454 s, nothing filled in
    counts = {c.source_name: int(np.count_nonzero(~np.isnan(c.values))) for c in rec.channels.values()}
    for name, rate in [
        ("Susp Pos FL", 100),
        ("Manifold Pres", 50),
        ("Eng Oil Temp", 20),
        ("Ground Speed", 10),
        ("Throttle Pos", 5),
        ("Air Temp Inlet", 2),
        ("Lap Time", 1),
    ]:
        assert counts[name] == 454 * rate, name
    t, _ = _own(rec, "Lap Time", 1)
    assert np.array_equal(t, np.arange(454.0))
    t, _ = _own(rec, "Air Temp Inlet", 2)
    assert np.allclose(t, np.arange(908) / 2)


def test_standard_channels(rec: Recording) -> None:
    std = {k: (c.source_name, c.unit) for k, c in rec.channels.items() if c.standard}
    assert std == {
        "speed": ("Ground Speed", "km/h"),
        "rpm": ("Engine RPM", "rpm"),
        "throttle": ("Throttle Pos", "%"),
        "brake": ("Brake Pres Front", "kPa"),
        "gear": ("Gear", ""),
        "steering": ("Steered Angle", "deg"),
        "glat": ("G Force Lat", "g"),
        "glong": ("G Force Long", "g"),
    }
    speed = rec.standard("speed")
    assert speed is not None and 150 < np.nanmax(speed) < 250  # a saloon at Calder Park


def test_values_decoded_with_their_scaling(rec: Recording, raw: bytes) -> None:
    # the first channel block, read by hand: header byte 8 points at it
    first = struct.unpack_from("<I", raw, 8)[0]
    data_at, count = struct.unpack_from("<II", raw, first + 8)
    assert raw[first + 32 : first + 46] == b"Air Temp Inlet"
    samples = np.frombuffer(raw, "<i2", count, data_at)
    assert samples[:3].tolist() == [199, 199, 201]  # one decimal place: 19.9, 19.9, 20.1 C
    t, v = _own(rec, "Air Temp Inlet", 2)
    assert (t[2], v[2]) == (1.0, 20.1)
    assert v[:3].tolist() == [19.9, 19.9, 20.1]
    assert np.array_equal(v, samples / 10)
    # NaN between a 2 Hz channel's samples, not a held value
    values = rec.channels["Air Temp Inlet"].values
    assert np.isnan(values[1:50]).all() and values[50] == 19.9

    layout = motec_ld.read_layout(logger_file(SAMPLE), raw)
    blocks = {b.name: b for b in layout.channels}
    rpm = blocks["Engine RPM"]
    assert (rpm.mul, rpm.scale, rpm.dec) == (6, 10, -1)  # rpm = raw x 6
    raw_rpm = np.frombuffer(raw, "<i2", rpm.count, rpm.data_at)
    _, v = _own(rec, "rpm", 10)
    assert np.array_equal(v, raw_rpm * 6.0)
    assert v.max() == 6846.0  # raw 1141
    gyro = blocks["Gyro Yaw Velocity"]
    assert (gyro.mul, gyro.scale, gyro.dec) == (36, 10, 1)  # deg/s = raw x 36 / 100
    _, v = _own(rec, "Gyro Yaw Velocity", 20)
    assert np.array_equal(v, np.frombuffer(raw, "<i2", gyro.count, gyro.data_at) * 36 / 100.0)


def test_int32_float16_and_float32_channels(tmp_path: Path, raw: bytes) -> None:
    # the demo log is all int16: retype three of its channels in a copy and check each decodes
    data = bytearray(raw)
    layout = motec_ld.read_layout(logger_file(SAMPLE), raw)
    blocks = {b.name: b for b in layout.channels}
    wanted = {"Susp Pos FL": (3, 4, "<i4"), "Susp Pos FR": (7, 4, "<f4"), "Susp Pos RL": (7, 2, "<f2")}
    expected = {}
    for name, (code, size, dtype) in wanted.items():
        b = blocks[name]
        count = b.nbytes // size
        struct.pack_into("<I", data, b.offset + 12, count)
        struct.pack_into("<HH", data, b.offset + 18, code, size)
        values = np.arange(count) * 0.5 - 7.25 if dtype != "<i4" else np.arange(count) - 1000
        data[b.data_at : b.data_at + count * size] = values.astype(dtype).tobytes()
        # one decimal place, as the file says: the raw values are tenths
        expected[name] = values.astype(dtype).astype(np.float64) / 10
    path = tmp_path / "retyped.ld"
    path.write_bytes(bytes(data))
    rec = read_recording(path)
    for name, values in expected.items():
        own = rec.channels[name].values[~np.isnan(rec.channels[name].values)]
        assert np.array_equal(own, values), name


def test_a_rate_off_the_fastest_grid_keeps_its_own_instants(tmp_path: Path, raw: bytes) -> None:
    data = bytearray(raw)
    first = struct.unpack_from("<I", raw, 8)[0]  # Air Temp Inlet, 908 samples at 2 Hz
    struct.pack_into("<H", data, first + 22, 3)  # as if logged at 3 Hz: 302.7 s
    path = tmp_path / "three_hz.ld"
    path.write_bytes(bytes(data))
    rec = read_recording(path)
    t, v = _own(rec, "Air Temp Inlet", 3)
    assert t.shape[0] == 908 and v[:3].tolist() == [19.9, 19.9, 20.1]
    assert np.array_equal(t, np.rint(np.arange(908) * 1e6 / 3) / 1e6)  # k / 3 s, to the microsecond
    # the 100 Hz channels are untouched; the union gains only the 3 Hz instants off their grid
    assert int(np.count_nonzero(~np.isnan(rec.channels["Susp Pos FL"].values))) == 45400
    assert rec.sample_count == 45400 + int(np.count_nonzero(np.arange(908) % 3))
    assert any("'Air Temp Inlet' 302.7 s" in w for w in rec.warnings)


# --- laps -------------------------------------------------------------------------------


def test_laps_from_the_lap_channels(rec: Recording) -> None:
    # the file's own Lap Time values (changes to a new positive value) are the logged laps
    _, lap_time = _own(rec, "Lap Time", 1)
    changed = lap_time[1:][np.diff(lap_time) != 0]
    assert changed.tolist() == LOGGED_LAPS
    a = analyse_laps(rec)
    assert a.split.source == "beacon"
    kinds = [(lap.lap_number, lap.kind) for lap in a.laps]
    assert kinds == [(0, "out"), (1, "flying"), (2, "flying"), (3, "flying"), (4, "flying"), (5, "in")]
    timed = [lap.lap_time_s for lap in a.laps if lap.kind == "flying"]
    assert timed == pytest.approx(LOGGED_LAPS, abs=1e-6)  # the logger's lap times are the truth
    assert rec.metadata["Logged Lap Times"] == "65.150 63.680 65.180 63.750"
    # crossings where the Running Lap Time restarts (time - value at its first sample of a lap)
    t, running = _own(rec, "Running Lap Time", 1)
    restart = np.flatnonzero((running[1:] > 0) & ((running[:-1] == 0) | (running[1:] < running[:-1]))) + 1
    crossings = t[restart] - running[restart]
    assert crossings == pytest.approx([94.14, 159.31, 222.99, 288.18, 351.94], abs=1e-9)
    starts = [lap.start_offset_s for lap in a.laps[1:]]
    assert np.max(np.abs(np.array(starts) - crossings)) < 0.03
    # not the 1 Hz lap counter: it only counts lap 1 as done at 162 s, long after the line
    _, counter = _own(rec, "Lap Number", 1)
    assert int(np.flatnonzero(np.diff(counter) > 0)[0]) + 1 == 162
    assert 94.0 < starts[0] < 94.3
    assert sum(lap.samples for lap in a.laps) == rec.sample_count


def test_beacon_channel_passes(rec: Recording) -> None:
    t, v = _own(rec, "Beacon", 1)
    times, codes = beacon_passes(LapChannel("Beacon", t, v))
    lap_line = times[codes == 100]
    # the start/finish beacon (code 100) to the millisecond, the split beacons are code 56
    assert lap_line == pytest.approx([94.136, 159.299, 222.981, 288.173, 351.932], abs=1e-9)
    assert int(np.count_nonzero(codes == 56)) == 12


def test_beacon_values_that_code_no_pass() -> None:
    t = np.arange(8.0)
    values = np.array([0, np.nan, -5.0, np.inf, 1e30, -1e30, 16500.0, 100.0])
    times, codes = beacon_passes(LapChannel("Beacon", t, values))
    # NaN and inf count as idle (0): the run at sample 2 ends without a payload, no pass; the
    # run at sample 5 (a huge negative, clipped) has payload 16500 (116 ms) and code 100
    assert times.tolist() == pytest.approx([5 - 1 + 0.116]) and codes.tolist() == [100.0]


def _ldx(markers_us: list[float], details: dict[str, str]) -> str:
    marks = "\n".join(
        f'     <Marker Version="100" ClassName="BCN" Name="Manual.{i}" Flags="77" Time="{t:.17e}"/>'
        for i, t in enumerate(markers_us, 1)
    )
    strings = "\n".join(f'   <String Id="{k}" Value="{v}"/>' for k, v in details.items())
    return (
        '<?xml version="1.0"?>\n<LDXFile Locale="English_Australia.1252" DefaultLocale="C" Version="1.6">\n'
        ' <Layers>\n  <Layer>\n   <MarkerBlock>\n    <MarkerGroup Name="Beacons" Index="3">\n'
        f"{marks}\n    </MarkerGroup>\n   </MarkerBlock>\n   <RangeBlock/>\n  </Layer>\n"
        f"  <Details>\n{strings}\n  </Details>\n </Layers>\n</LDXFile>\n"
    )


def test_ldx_sidecar_gives_the_laps_and_details(tmp_path: Path, raw: bytes) -> None:
    ld = tmp_path / "Sample1.ld"
    ld.write_bytes(raw)
    markers = [94.136e6, 159.299e6, 222.981e6, 288.173e6, 351.932e6]
    (tmp_path / "Sample1.ldx").write_text(
        _ldx(markers, {"Total Laps": "6", "Fastest Time": "1:03.682", "Fastest Lap": "2"}), encoding="ascii"
    )
    rec = read_recording(ld)
    assert rec.beacons == pytest.approx([m / 1e6 for m in markers], abs=1e-9)
    assert rec.metadata["Lap Source"] == "Sample1.ldx beacons"
    assert rec.metadata["ldx Fastest Time"] == "1:03.682" and rec.metadata["ldx Total Laps"] == "6"
    assert "Logged Lap Times" not in rec.metadata
    a = analyse_laps(rec)
    assert a.split.source == "beacon"
    timed = [lap.lap_time_s for lap in a.laps if lap.kind == "flying"]
    assert timed == pytest.approx([65.163, 63.682, 65.192, 63.759], abs=1e-6)
    assert min(t for t in timed if t is not None) == pytest.approx(63.682)  # the .ldx's own Fastest Time


def test_ldx_with_two_markers_only(tmp_path: Path, raw: bytes) -> None:
    ld = tmp_path / "Sample1.ld"
    ld.write_bytes(raw)
    (tmp_path / "Sample1.ldx").write_text(_ldx([100e6, 200e6], {}), encoding="ascii")
    a = analyse_laps(read_recording(ld))
    assert [(lap.kind, lap.lap_time_s) for lap in a.laps] == [("out", None), ("flying", 100.0), ("in", None)]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("<LDXFile><Layers>", "not well-formed XML"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><LDXFile/>', "DOCTYPE"),
        ("<Workspace/>", "not <LDXFile>"),
        ('<LDXFile><MarkerGroup Name="Beacons"><Marker Time="soon"/></MarkerGroup></LDXFile>', "not a number"),
    ],
)
def test_a_damaged_ldx_is_a_warning_and_the_lap_channels_take_over(
    tmp_path: Path, raw: bytes, text: str, needle: str
) -> None:
    ld = tmp_path / "Sample1.ld"
    ld.write_bytes(raw)
    (tmp_path / "Sample1.ldx").write_text(text, encoding="ascii")
    rec = read_recording(ld)
    assert any("Sample1.ldx" in w and needle in w and "own lap channels" in w for w in rec.warnings)
    assert rec.metadata["Logged Lap Times"] == "65.150 63.680 65.180 63.750"


def test_an_ldx_alone_points_to_its_ld(tmp_path: Path, raw: bytes) -> None:
    ldx = tmp_path / "Sample1.ldx"
    ldx.write_text(_ldx([100e6], {}), encoding="ascii")
    with pytest.raises(UnsupportedFormatError, match=r"\.ldx.*not a log.*Sample1\.ld"):
        read_recording(ldx)
    (tmp_path / "Sample1.ld").write_bytes(raw)
    with pytest.raises(UnsupportedFormatError, match=r"open Sample1\.ld beside it"):
        read_recording(ldx)


def test_without_beacon_channel_the_running_lap_time_places_the_laps(tmp_path: Path, raw: bytes) -> None:
    data = bytearray(raw)
    layout = motec_ld.read_layout(logger_file(SAMPLE), raw)
    beacon = next(b for b in layout.channels if b.name == "Beacon")
    data[beacon.offset + 32 : beacon.offset + 38] = b"Bacon\0"  # no longer the lap channel
    path = tmp_path / "nobeacon.ld"
    path.write_bytes(bytes(data))
    rec = read_recording(path)
    assert rec.metadata["Lap Source"].startswith("crossings from 'Running Lap Time'")
    a = analyse_laps(rec)
    assert [lap.lap_time_s for lap in a.laps if lap.kind == "flying"] == pytest.approx(LOGGED_LAPS, abs=1e-6)
    assert abs(a.laps[1].start_offset_s - 94.14) < 0.03


def test_with_only_the_lap_counter_and_lap_time_the_laps_are_placed_by_them(tmp_path: Path, raw: bytes) -> None:
    data = bytearray(raw)
    layout = motec_ld.read_layout(logger_file(SAMPLE), raw)
    for b in layout.channels:
        if b.name in ("Beacon", "Running Lap Time"):
            data[b.offset + 32] = ord("X")
    path = tmp_path / "coarse.ld"
    path.write_bytes(bytes(data))
    rec = read_recording(path)
    assert any("about 2 s" in w for w in rec.warnings)
    a = analyse_laps(rec)
    timed = [lap.lap_time_s for lap in a.laps if lap.kind == "flying"]
    assert timed == pytest.approx(LOGGED_LAPS, abs=1e-6)
    # placed as late as the counter's changes allow: never before the real crossing (94.14 s,
    # from the Running Lap Time), late by at most the logger's update delay
    assert 94.14 <= a.laps[1].start_offset_s < 94.14 + 2.5


# --- damaged files ------------------------------------------------------------------------


def _read_bytes(tmp_path: Path, data: bytes, name: str = "damaged.ld") -> Recording | LoggerFileError:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        rec = read_recording(path)
    except LoggerFileError as exc:
        return exc
    rec.check()
    return rec


def test_truncated_anywhere_is_rejected_with_the_offset(tmp_path: Path, raw: bytes) -> None:
    rng = random.Random(7)
    cuts = sorted(
        {1, 3, 4, 100, 1635, 1636, 1762, 13384, 13400, 23056, len(raw) - 1}
        | {rng.randrange(len(raw)) for _ in range(60)}
    )
    for cut in cuts:
        got = _read_bytes(tmp_path, raw[:cut])
        assert isinstance(got, LoggerFileError), cut
        assert got.offset is not None and 0 <= got.offset <= len(raw), (cut, str(got))
        assert str(tmp_path / "damaged.ld") in str(got)


@pytest.mark.parametrize(
    ("where", "value", "needle", "offset"),
    [
        (0, 0x41, "marker 0x40", 0),
        (8, 10**9, "channel block pointer", 8),
        (8, 0, "no channel list", 8),
        (36, 2_000_000, "event block pointer", 36),
        (13384 + 12, 0xFFFFFFFF, "run past the end of the file", 13384 + 8),  # a huge count
        (13384 + 8, 24872, "overlap", None),  # two channels on the same samples
        (13384 + 4, 13384, "loops back", 13384 + 4),
        (13384 + 4, 1_300_000, "outside the file", 13384 + 4),
    ],
)
def test_damaged_fields_are_named_with_their_offset(
    tmp_path: Path, raw: bytes, where: int, value: int, needle: str, offset: int | None
) -> None:
    data = bytearray(raw)
    struct.pack_into("<I", data, where, value)
    got = _read_bytes(tmp_path, bytes(data))
    assert isinstance(got, LoggerFileError)
    assert needle in str(got)
    if offset is not None:
        assert got.offset == offset
    else:
        assert got.offset is not None


def test_a_valid_header_over_garbage_is_rejected(tmp_path: Path, raw: bytes) -> None:
    rng = random.Random(11)
    for _ in range(20):
        got = _read_bytes(tmp_path, raw[:1762] + rng.randbytes(len(raw) - 1762))
        assert isinstance(got, LoggerFileError) and got.offset is not None


def _flip_spots(tmp_path: Path, raw: bytes, spots: list[int], rng: random.Random) -> dict[str, int]:
    """Each spot changed to another byte: read or rejected, never a crash or a memory blow-up."""
    tracemalloc.start()
    read_recording(logger_file(SAMPLE))
    _, normal = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    outcomes = {"read": 0, "rejected": 0}
    for pos in spots:
        data = bytearray(raw)
        data[pos] = (data[pos] + rng.randrange(1, 256)) % 256
        tracemalloc.start()
        got = _read_bytes(tmp_path, bytes(data))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        outcomes["rejected" if isinstance(got, LoggerFileError) else "read"] += 1
        assert peak < 3 * normal, (pos, peak, normal)
    return outcomes


def test_flipped_bytes_in_the_header_and_a_channel_block_never_crash_or_blow_up(tmp_path: Path, raw: bytes) -> None:
    rng = random.Random(3)
    # the header's pointer, count and device fields, and the first channel block's pointers,
    # count, type, rate and scaling (the long run below flips every byte up to the samples)
    header = [*range(0, 16), *range(36, 40), *range(70, 90)]
    spots = header + list(range(13384, 13384 + 32)) + [rng.randrange(13384, 23056) for _ in range(10)]
    outcomes = _flip_spots(tmp_path, raw, spots, rng)
    assert outcomes["read"] > 10 and outcomes["rejected"] > 10


@pytest.mark.slow
def test_flipped_bytes_anywhere_before_the_samples_long_run(tmp_path: Path, raw: bytes) -> None:
    # deselected by default (-m slow): every header byte and channel block byte up to the samples
    rng = random.Random(4)
    outcomes = _flip_spots(tmp_path, raw, list(range(0, 23056, 3)), rng)
    # most single bytes there are names, units and unused fields: about 1 in 18 is rejected
    assert outcomes["read"] > 5000 and outcomes["rejected"] > 200


def test_rates_that_do_not_belong_to_one_log_are_refused(tmp_path: Path, raw: bytes) -> None:
    data = bytearray(raw)
    layout = motec_ld.read_layout(logger_file(SAMPLE), raw)
    # odd rates: the instants of these channels no longer line up with the others
    for b, rate in zip([b for b in layout.channels if b.rate == 100], [97, 89, 83, 79]):
        struct.pack_into("<H", data, b.offset + 22, rate)
    for b, rate in zip([b for b in layout.channels if b.rate == 20][:20], range(21, 61, 2)):
        struct.pack_into("<H", data, b.offset + 22, rate)
    got = _read_bytes(tmp_path, bytes(data))
    assert isinstance(got, LoggerFileError) and "do not belong to one log" in str(got)
    assert got.offset is not None and (got.offset - 22 - 13384) % 124 == 0


# --- through the command line and the merge ----------------------------------------------------


def _laptrace(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_inspect_and_import_on_the_command_line(tmp_path: Path) -> None:
    path = logger_file(SAMPLE)
    proc = _laptrace("inspect", path, "--json")
    assert proc.returncode == exitcodes.OK, proc.stderr
    assert "Traceback" not in proc.stderr
    (doc,) = json.loads(proc.stdout)["files"]
    assert doc["format"] == "motec" and doc["logger"] == "MoTeC ADL" and doc["sample_count"] == 45400
    names = [c["name"] for c in doc["channels"]]
    assert names[:2] == ["time", "distance"] and len(names) == 2 + 78  # the 78 channels of the file
    assert doc["lap_source"] == "beacon"
    assert [lap["lap_time_s"] for lap in doc["laps"] if lap["kind"] == "flying"] == pytest.approx(LOGGED_LAPS)

    proc = _laptrace("import", path, "--json", "--data-dir", tmp_path / "data")
    assert proc.returncode == exitcodes.OK, proc.stderr
    saved = json.loads(proc.stdout.strip().splitlines()[-1])
    assert saved["status"] == "ready"
    assert saved["laps"] == doc["laps"]

    text = _laptrace("inspect", path)
    assert text.returncode == exitcodes.OK and "MoTeC ADL" in text.stdout


def test_damaged_ld_on_the_command_line_is_bad_input(tmp_path: Path, raw: bytes) -> None:
    bad = tmp_path / "cut.ld"
    bad.write_bytes(raw[:5000])
    proc = _laptrace("inspect", bad)
    assert proc.returncode == exitcodes.BAD_INPUT
    assert "Traceback" not in proc.stderr
    assert "cut.ld" in proc.stderr and "byte" in proc.stderr


def test_merged_with_a_vbo_gps_log(tmp_path: Path, rec: Recording) -> None:
    from datetime import UTC

    from mergecases import write_vbo

    from desktop_app.importing import merge_files

    # a GPS logger of the same run, started 15 s into the .ld's log, at 10 Hz: its speed is
    # the car's ground speed, its position a lap-long circle near Calder Park
    t, speed = _own(rec, "speed", 10)
    keep = t >= 15.0
    gps_t, gps_speed = t[keep] - 15.0, speed[keep]
    dist = np.cumsum(gps_speed / 3.6 * 0.1)
    angle = dist / 2280.0 * 2 * np.pi
    cols = {
        "lat": -37.674 + 0.0033 * np.sin(angle),
        "long": 144.758 + 0.0042 * np.cos(angle),
        "speed": gps_speed,
        "glong": np.zeros_like(gps_t),
        "glat": np.zeros_like(gps_t),
    }
    vbo = tmp_path / "gps.vbo"
    write_vbo(vbo, gps_t, datetime(2005, 11, 22, 22, 53, 15, tzinfo=UTC), cols)
    ld = tmp_path / "Sample1.ld"
    ld.write_bytes(logger_file(SAMPLE).read_bytes())
    merged = merge_files([vbo, ld])
    a = merged.result.alignment
    assert abs(a.offset_s - -15.0) < 0.1  # the .ld's time 0 is 15 s before the GPS file's
    names = {c.name for c in merged.draft.sources[1].channels}
    assert "rpm" in names
    assert len(merged.draft.sources) == 2
