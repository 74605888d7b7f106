"""AiM native logs (.xrk, .xrz, .drk) on the real kart log from Adria.

Expected values come from the file itself: its channels as libxrk's default (Cython)
decoder reads them, which is a second decoder beside the Rust one the reader uses, and
the session facts written in it (driver, venue, date). Never from this reader's output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from realfiles import REPO, logger_file

from desktop_app.commands import exitcodes
from desktop_app.laps import analyse_laps
from desktop_app.loggers import LoggerFileError, read_recording, sniff
from desktop_app.loggers.recording import Recording

XRK = "aim_xrk/test.xrk"

#: the 33 channels libxrk decodes from the file and the units it gives them
UNITS = {
    "Logger Temperature": "C",
    "External Voltage": "V",
    "Temperature 1": "C",
    "Temperature 2": "C",
    "AccelerometerX": "g",
    "AccelerometerY": "g",
    "AccelerometerZ": "g",
    "GyroX": "deg/s",
    "GyroY": "deg/s",
    "GyroZ": "deg/s",
    "Int Batt Voltage": "V",
    "Luminosity": "",
    "Backlight": "",
    "WiFi": "",
    "RPM": "rpm",
    "WAT Alarm_1": "",
    "EGT Alarm_1": "",
    "CHT Alarm_1": "",
    "WAT Alarm_2": "",
    "EGT Alarm_2": "",
    "CHT Alarm_2": "",
    "GPS Speed": "m/s",
    "GPS Latitude": "deg",
    "GPS Longitude": "deg",
    "GPS Altitude": "m",
    "GPS_Satellites": "",
    "GPS_Fix": "",
    "GPS_pDOP": "",
    "GPS_Position_Accuracy": "m",
    "GPS_Velocity_Accuracy": "m/s",
    "GPS_InlineAcc": "g",
    "GPS_LateralAcc": "g",
    "GPS_Yaw_Rate": "deg/s",
}

_cache: dict[str, Recording] = {}


def recording() -> Recording:
    if "xrk" not in _cache:
        _cache["xrk"] = read_recording(logger_file(XRK))
    return _cache["xrk"]


def reference() -> Any:
    """The file through libxrk's default decoder, printing silenced."""
    if "ref" not in _cache:
        from libxrk.aim_xrk import aim_xrk

        from desktop_app.loggers.xrk import _captured_output

        with _captured_output():
            _cache["ref"] = aim_xrk(str(logger_file(XRK)))  # type: ignore[assignment]
    return _cache["ref"]


def by_source(rec: Recording, source: str) -> Any:
    (ch,) = [c for c in rec.channels.values() if c.source_name == source]
    return ch


def test_sniffed_by_its_magic_under_any_name(tmp_path: Path) -> None:
    data = logger_file(XRK).read_bytes()
    assert data.startswith(b"<hCNF")
    for name in ("a.xrk", "a.drk", "renamed.bin"):
        (tmp_path / name).write_bytes(data[:4096])
        assert sniff(tmp_path / name) == "xrk"
    (tmp_path / "a.xrz").write_bytes(zlib.compress(data)[:4096])
    assert sniff(tmp_path / "a.xrz") == "xrk"


def test_every_channel_with_its_unit() -> None:
    rec = recording()
    rec.check()
    assert len(rec.channels) == 33
    assert {c.source_name for c in rec.channels.values()} == set(UNITS)
    for ch in rec.channels.values():
        if not ch.standard:
            assert ch.unit == UNITS[ch.source_name], ch.name
    std = {k: (c.source_name, c.unit) for k, c in rec.channels.items() if c.standard}
    assert std == {
        "lat": ("GPS Latitude", "deg"),
        "long": ("GPS Longitude", "deg"),
        "speed": ("GPS Speed", "km/h"),
        "rpm": ("RPM", "rpm"),
        # the logger's own accelerometers, by the function it gives them
        "glat": ("AccelerometerY", "g"),
        "glong": ("AccelerometerX", "g"),
    }
    # file order (the channel set-up messages), the GPS channels after
    names = [c.source_name for c in rec.channels.values() if not c.standard]
    assert names[:3] == ["Logger Temperature", "External Voltage", "Int Batt Voltage"]
    assert names[-1] == "GPS_Yaw_Rate"


def test_unknown_unit_codes_are_kept_not_guessed() -> None:
    rec = recording()
    for name in ("Luminosity", "Backlight", "WiFi"):
        assert by_source(rec, name).unit == ""
        assert any(f"{name!r}: unit code 28 is not known" in w for w in rec.warnings)
    assert rec.metadata["unknown unit codes"] == "Backlight: 28, Luminosity: 28, WiFi: 28"


def test_every_sample_on_its_own_timestamp_against_the_default_decoder() -> None:
    rec = recording()
    ref = reference()
    t0 = min(int(t.column("timecodes").to_numpy()[0]) for t in ref.channels.values())
    assert rec.time[0] == 0.0 and np.all(np.diff(rec.time) > 0)
    total = 0
    for name, table in ref.channels.items():
        ch = by_source(rec, name)
        present = ~np.isnan(ch.values)
        t_ref = (table.column("timecodes").to_numpy().astype(np.int64) - t0) / 1000.0
        v_ref = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        if name.startswith("GPS"):
            # the GPS record whose logger time is damaged (second record) is re-timed by
            # the reader; the default decoder keeps it out of order
            assert t_ref[1] < t_ref[0]
            t_ref = np.delete(t_ref, 1)
            v_keep = np.delete(v_ref, 1)
            got_t = rec.time[present]
            assert got_t.shape[0] == t_ref.shape[0] + 1
            assert np.allclose(np.delete(got_t, 1), t_ref, atol=1e-9)
            got_v = ch.values[present]
            scale = 3.6 if name == "GPS Speed" else 1.0
            # the two decoders convert ECEF to degrees and metres in a different float order
            np.testing.assert_allclose(np.delete(got_v, 1), v_keep * scale, rtol=1e-9, atol=1e-6)
            assert got_v[1] == pytest.approx(v_ref[1] * scale)
        else:
            np.testing.assert_allclose(rec.time[present], t_ref, atol=1e-9)
            np.testing.assert_array_equal(ch.values[present], v_ref)
        total += int(present.sum())
    assert total == sum(t.num_rows for t in ref.channels.values())


def test_a_sample_time_and_value() -> None:
    rec = recording()
    rpm = rec.standard("rpm")
    speed = rec.standard("speed")
    assert rpm is not None and speed is not None
    # the first sample of the log is RPM's (0 rpm, engine not yet turning)
    assert rec.time[0] == 0.0 and rpm[0] == 0.0
    # the highest RPM of the session, and the GPS speed (m/s in the file, km/h here)
    peak = int(np.nanargmax(rpm))
    assert rpm[peak] == 14131.0
    assert np.nanmax(speed) == pytest.approx(118.7458, abs=1e-3)
    ref = reference()
    gps = ref.channels["GPS Speed"]
    assert float(np.max(gps.column("GPS Speed").to_numpy())) * 3.6 == pytest.approx(float(np.nanmax(speed)))


def test_gps_record_with_a_damaged_logger_time_is_re_timed_from_its_gps_time() -> None:
    rec = recording()
    lat = rec.standard("lat")
    assert lat is not None
    t = rec.time[~np.isnan(lat)]
    assert np.all(np.diff(t) > 0)
    # records 1..3 are 125 ms apart in GPS time (8 Hz): the second one lands 125 ms after the first
    assert t[1] - t[0] == pytest.approx(0.125, abs=1e-9)
    assert any("re-timed from the GPS time" in w and "byte 33055" in w for w in rec.warnings)


def test_metadata_from_the_file() -> None:
    rec = recording()
    assert rec.format == "aim"
    assert rec.track == "Adria Kart"
    assert rec.started_at == datetime(2016, 1, 23, 12, 9, 4)  # local, no zone in the file
    assert rec.metadata["driver"] == "A.GIARDELLI"
    assert rec.metadata["logger id"] == "50001964"
    assert rec.metadata["logger model id"] == "773"
    assert rec.logger == "AiM (model id 773)"
    assert rec.sample_rate_hz == pytest.approx(100.0)


def test_the_loggers_laps_with_out_lap_and_in_lap() -> None:
    ref = reference()
    laps = ref.laps.to_pylist()
    assert [lap["lap_type"] for lap in laps] == ["full"] * 10 + ["in"]
    t0 = min(int(t.column("timecodes").to_numpy()[0]) for t in ref.channels.values())
    a = analyse_laps(recording())
    assert a.split.source == "beacon"
    assert [lap.kind for lap in a.laps] == ["out"] + ["flying"] * 10 + ["in"]
    assert [lap.lap_number for lap in a.laps] == list(range(12))
    for ours, theirs in zip(a.laps[1:], laps):
        assert ours.start_offset_s == pytest.approx((theirs["start_time"] - t0) / 1000.0, abs=1e-9)
    for ours, theirs in zip(a.laps[1:-1], laps[:-1]):
        assert ours.lap_time_s == pytest.approx((theirs["end_time"] - theirs["start_time"]) / 1000.0, abs=1e-9)
    assert a.laps[5].lap_time_s == pytest.approx(49.828, abs=1e-9)
    assert sum(lap.samples for lap in a.laps) == recording().sample_count
    # a kart track of about 1.2 km: every flying lap's GPS distance agrees
    assert all(lap.distance_m is not None and 1200 < lap.distance_m < 1250 for lap in a.laps[1:-1])


def test_nothing_is_printed_while_reading(capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    rec = read_recording(logger_file(XRK))
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert len(rec.channels) == 33


def test_xrz_is_the_same_log_compressed(tmp_path: Path) -> None:
    data = logger_file(XRK).read_bytes()
    xrz = tmp_path / "test.xrz"
    xrz.write_bytes(zlib.compress(data, 6))
    rec = read_recording(xrz)
    base = recording()
    assert list(rec.channels) == list(base.channels)
    np.testing.assert_array_equal(rec.time, base.time)
    for key, ch in rec.channels.items():
        np.testing.assert_array_equal(ch.values, base.channels[key].values)
    assert rec.beacons == base.beacons


def test_drk_extension_reads_the_same_stream(tmp_path: Path) -> None:
    drk = tmp_path / "test.drk"
    drk.write_bytes(logger_file(XRK).read_bytes())
    assert len(read_recording(drk).channels) == 33


@pytest.mark.parametrize("cut", [13, 5000, 100_000, 1_592_306, 3_184_611])
def test_truncated_log_is_rejected_where_it_ends(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.xrk"
    path.write_bytes(logger_file(XRK).read_bytes()[:cut])
    with pytest.raises(LoggerFileError) as info:
        read_recording(path)
    assert info.value.offset is not None and info.value.offset <= cut
    assert str(path) in str(info.value)


def test_flipped_framing_byte_is_rejected_at_its_offset(tmp_path: Path) -> None:
    data = bytearray(logger_file(XRK).read_bytes())
    at = data.index(b"<hGPS", 1_000_000)
    data[at + 11] ^= 0xFF  # the '>' closing the GPS message's header
    path = tmp_path / "flip.xrk"
    path.write_bytes(bytes(data))
    with pytest.raises(LoggerFileError) as info:
        read_recording(path)
    assert info.value.offset == at
    assert "not a valid AiM message" in str(info.value)


def test_damaged_timestamp_hiding_the_rest_of_a_channel_is_rejected(tmp_path: Path) -> None:
    data = bytearray(logger_file(XRK).read_bytes())
    # an (S data message past the middle: the top byte of its time gains 2**24 ms (4.7 h)
    at = data.index(b"(S", 2_270_800)
    data[at + 5] ^= 0x01
    path = tmp_path / "time.xrk"
    path.write_bytes(bytes(data))
    with pytest.raises(LoggerFileError) as info:
        read_recording(path)
    assert info.value.offset == at
    assert "damaged timestamp" in str(info.value)


def test_valid_header_over_garbage(tmp_path: Path) -> None:
    data = logger_file(XRK).read_bytes()
    rng = np.random.default_rng(7)
    garbage = rng.integers(0, 256, len(data) - 5100, dtype=np.uint8).tobytes()
    path = tmp_path / "garbage.xrk"
    path.write_bytes(data[:5100] + garbage)
    with pytest.raises(LoggerFileError) as info:
        read_recording(path)
    assert info.value.offset is not None and info.value.offset >= 5076


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        ("truncate", "ends early"),
        ("flip", "compressed data is damaged"),
        ("trailing", "follow the end of the compressed log"),
    ],
)
def test_damaged_xrz_says_where(tmp_path: Path, damage: str, needle: str) -> None:
    packed = bytearray(zlib.compress(logger_file(XRK).read_bytes()))
    if damage == "truncate":
        packed = packed[: len(packed) // 2]
    elif damage == "flip":
        packed[1000] ^= 0xFF
    else:
        packed += b"junk"
    path = tmp_path / "bad.xrz"
    path.write_bytes(bytes(packed))
    with pytest.raises(LoggerFileError) as info:
        read_recording(path)
    assert needle in str(info.value)
    assert info.value.offset is not None
    if damage == "truncate":
        assert info.value.offset == len(packed)
    elif damage == "flip":
        # deflate has no check of its own: zlib notices at the latest at the stream's checksum
        assert 1000 <= info.value.offset <= len(packed)
    else:
        assert info.value.offset == len(packed) - 4


def _laptrace(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_inspect_json_is_one_document() -> None:
    proc = _laptrace("inspect", logger_file(XRK), "--json")
    assert proc.returncode == exitcodes.OK, proc.stderr
    assert "Unknown units" not in proc.stdout + proc.stderr
    (f,) = json.loads(proc.stdout)["files"]
    assert f["format"] == "aim" and f["lap_source"] == "beacon"
    # the 33 logged channels, plus the time base and the GPS-derived distance of every session
    assert len([c for c in f["channels"] if c["name"] not in ("time", "distance")]) == 33
    assert len(f["laps"]) == 12
    assert [lap["kind"] for lap in f["laps"]] == ["out"] + ["flying"] * 10 + ["in"]
    assert f["started_at"] is None and f["started_at_local"] == "2016-01-23T12:09:04"
    assert any("unit code 28" in w for w in f["warnings"])


def test_import_saves_the_session(tmp_path: Path) -> None:
    proc = _laptrace("import", logger_file(XRK), "--json", "--data-dir", tmp_path / "data")
    assert proc.returncode == exitcodes.OK, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "ready" and len(doc["laps"]) == 12
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(doc["parquet_path"]).metadata
    assert meta.num_rows == recording().sample_count


def test_damage_is_seen_in_a_process_without_stdout_and_stderr(tmp_path: Path) -> None:
    # a windowed app may have no descriptors 1 and 2: libxrk's report must still be read
    import os

    data = logger_file(XRK).read_bytes()
    cut = tmp_path / "cut.xrk"
    cut.write_bytes(data[:1_000_000])
    result = tmp_path / "result.txt"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from desktop_app.loggers import LoggerFileError, read_recording\n"
        "try:\n"
        "    read_recording(Path(sys.argv[1]))\n"
        "    outcome = 'read'\n"
        "except LoggerFileError as exc:\n"
        "    outcome = f'rejected {exc.offset}'\n"
        "Path(sys.argv[2]).write_text(outcome)\n"
    )

    def close_std() -> None:
        os.close(1)
        os.close(2)

    proc = subprocess.run(
        [sys.executable, "-c", code, str(cut), str(result)], cwd=REPO, preexec_fn=close_std, timeout=120
    )
    assert proc.returncode == 0
    outcome, offset = result.read_text().split()
    assert outcome == "rejected" and 900_000 < int(offset) <= 1_000_000
