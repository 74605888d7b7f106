"""importing: file -> SessionDraft, on real files and synthetic recordings."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from mergecases import build_case
from realfiles import logger_file
from synthtrack import Circle

from desktop_app.importing import (
    ImportedFile,
    draft_from_recording,
    file_sha256,
    import_file,
    lap_json,
    merge_files,
)
from desktop_app.loggers import read_recording
from desktop_app.loggers.channels import saved_names
from desktop_app.loggers.recording import Channel, LoggerFileError
from storage.db import make_engine, upgrade
from storage.db.catalog import load_session
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import save_session
from storage.types import LAP_COLUMN, STANDARD_CHANNELS, SessionDraft


def check_draft(imported: ImportedFile) -> SessionDraft:
    """The invariants every draft keeps, against its own recording."""
    rec, draft = imported.recording, imported.draft
    tel = draft.telemetry
    assert tel.session_id == 0
    assert [lap.lap_number for lap in tel.laps] == [lap.lap_number for lap in draft.laps]
    assert [len(lap) for lap in tel.laps] == [lap.samples for lap in draft.laps]
    assert tel.total_points == rec.sample_count
    for lt, lr in zip(tel.laps, draft.laps):
        assert lt.start_offset == lr.start_offset_s
        assert set(lt.channels) == set(tel.units) == set(tel.source_names)
        t = lt.channels["time"]
        # time restarts at the lap's start: the first sample is within one sample gap of 0
        assert t[0] >= -1e-9 and np.all(np.diff(t) >= 0)
        assert np.allclose(t + lt.start_offset, rec.time[rec.time >= lt.start_offset - 1e-9][: len(lt)])
        d = lt.channels["distance"]
        if np.isfinite(d).any():
            assert abs(d[0]) < 500 and np.nanmin(d) > -1.0
    for name, ch in rec.channels.items():
        if name == "distance":
            continue
        joined = np.concatenate([lap.channels[name] for lap in tel.laps])
        assert np.array_equal(joined, ch.values, equal_nan=True), name
        assert tel.units[name] == ch.unit and tel.source_names[name] == ch.source_name
    assert tel.auxiliary_channels == [c.name for c in draft.sources[0].channels if not c.standard]
    assert all(c not in STANDARD_CHANNELS for c in tel.auxiliary_channels)
    src = draft.sources[0]
    assert src.source_type == rec.format == tel.metadata.source_type
    assert src.sha256 == hashlib.sha256(imported.path.read_bytes()).hexdigest()
    assert src.file_size == imported.path.stat().st_size
    assert [c.name for c in src.channels] == ["time", "distance"] + [
        c for c in tel.channel_names if c not in ("time", "distance")
    ]
    assert tel.metadata.extra["lap_source"] == draft.lap_source
    assert tel.metadata.imported_at.tzinfo is not None
    return draft


def test_aim_file() -> None:
    imp = import_file(logger_file("aim_csv/aim_format_example.csv"))
    draft = check_draft(imp)
    assert draft.lap_source == "beacon" and len(draft.laps) == 16
    assert draft.track == "SSKC"
    assert draft.name == "SSKC 2022-06-19"
    assert draft.sources[0].sample_rate_hz == pytest.approx(20.0)
    # no distance channel in this file: GPS gives it; auxiliary channels in file order
    assert draft.telemetry.source_names["distance"] == "GPS (derived)"
    aux = [k for k, c in imp.recording.channels.items() if not c.standard]
    assert draft.telemetry.auxiliary_channels == aux and "Water Temp" in aux


def test_motec_file_uses_its_logged_distance() -> None:
    imp = import_file(logger_file("motec_csv/blakelyauto.csv"))
    draft = check_draft(imp)
    assert draft.telemetry.source_names["distance"] == "Distance"
    lap1 = draft.telemetry.laps[1]
    # the logged distance restarts at 0 at the beacon and ends at the lap's distance
    assert lap1.channels["distance"][0] == pytest.approx(0.0, abs=30.0)
    assert lap1.channels["distance"][-1] == pytest.approx(draft.laps[1].distance_m, abs=30.0)


@pytest.mark.parametrize(
    "name",
    [
        "vbo/25IR05_RdAm_FP1_Run05_TL.vbo",
        "vbo/racechrono_2023Rd3_1.vbo",
        "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv",
        "bosch_windarab_txt/sim_data.txt",
        "motec_csv/May_22_2026_Peter.csv",
        "vbo/session_20230326_141947_test.vbo",
        "mf4/canedge_11111111_00000012_00000001.MF4",
        "mf4/ASAP2_Demo_V171.mf4",
    ],
)
def test_other_real_files(name: str) -> None:
    draft = check_draft(import_file(logger_file(name)))
    assert draft.name and draft.sources[0].file_name == Path(name).name


def test_draft_round_trips_through_parquet(tmp_path: Path) -> None:
    imp = import_file(logger_file("vbo/racechrono_2023Rd3_1.vbo"))
    tel = imp.draft.telemetry
    tel.session_id = 7
    store = ParquetTelemetryStorage(tmp_path)
    store.write(tel)
    back = store.read(7)
    assert back is not None and back.total_points == imp.recording.sample_count
    assert [lap.lap_number for lap in back.laps] == [lap.lap_number for lap in tel.laps]
    lap = store.read_lap(7, 1)
    assert lap is not None
    assert np.array_equal(lap.channels["speed"], tel.laps[1].channels["speed"], equal_nan=True)


def test_progress_is_reported_and_can_cancel() -> None:
    calls: list[tuple[int, int]] = []
    import_file(logger_file("motec_csv/blakelyauto.csv"), progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done >= 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        import_file(logger_file("motec_csv/blakelyauto.csv"), progress=cancel)


def test_bad_file_raises_logger_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.vbo"
    bad.write_text("File created on 01/01/2024 @ 10:00:00\n[column names]\nsats time lat\n[data]\n001 abc\n")
    with pytest.raises(LoggerFileError) as info:
        import_file(bad)
    assert "broken.vbo" in str(info.value)


def test_synthetic_recording_keeps_a_logged_distance_beside_the_gps_one() -> None:
    c = Circle(laps=3.5)
    rec = c.recording(gates=[c.gate_along()], track="Ring", path=Path("ring.vbo"))
    logged = np.arange(rec.sample_count, dtype=np.float64) * 4.0
    rec.channels["distance"] = Channel("distance", "Odometer", "m", True, logged)
    draft = draft_from_recording(rec, sha256="ab" * 32, file_size=123)
    assert draft.name == "Ring" and draft.track == "Ring" and draft.lap_source == "gate"
    assert draft.sources[0].sha256 == "ab" * 32 and draft.sources[0].file_size == 123
    tel = draft.telemetry
    assert tel.source_names["distance"] == "GPS (derived)"
    assert "Odometer" in tel.auxiliary_channels
    assert np.array_equal(np.concatenate([lap.channels["Odometer"] for lap in tel.laps]), logged)
    lap1 = tel.laps[1]
    assert lap1.channels["distance"][-1] == pytest.approx(2 * math.pi * c.radius, abs=5.0)
    assert lap1.channels["time"][-1] == pytest.approx(c.lap_time, abs=0.1)


def test_file_sha256(tmp_path: Path) -> None:
    p = tmp_path / "f.bin"
    p.write_bytes(b"x" * (3 << 20))
    assert file_sha256(p) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()


def test_lap_json_is_plain_json_without_nan() -> None:
    import json

    c = Circle(laps=2.5)
    draft = draft_from_recording(c.recording(gates=[c.gate_along()]), sha256="0" * 64, file_size=1)
    lap = draft.laps[1]
    lap.max_speed_kmh = float("nan")
    lap.user_valid = False
    obj = lap_json(lap)
    text = json.dumps(obj, allow_nan=False)
    assert json.loads(text)["max_speed_kmh"] is None
    assert obj["valid"] is False and obj["proposed_valid"] is True and obj["user_valid"] is False
    assert set(obj) >= {
        "lap_number",
        "kind",
        "start_s",
        "lap_time_s",
        "distance_m",
        "samples",
        "max_speed_kmh",
        "sectors_s",
        "valid",
        "reason",
    }


@pytest.mark.parametrize(
    ("relative", "driver", "vehicle", "track"),
    [
        ("aim_xrk/test.xrk", "A.GIARDELLI", None, "Adria Kart"),
        ("motec_ld/Sample1.ld", None, "11A", "Calder"),
        ("aim_csv/aim_format_example.csv", "Nicholas Thorne", "143", "SSKC"),
        ("motec_csv/blakelyauto.csv", "L. TANG", "IMPREZA Sedan WRX STi spec C (Type-II) '04", "Grand Valley Speedway"),
        # the logger wrote the placeholder 'None' in its Driver field: no driver, not "None"
        ("motec_csv/May_22_2026_Peter.csv", None, "RFR 26", "BeaveRun"),
    ],
)
def test_the_draft_takes_driver_vehicle_and_track_from_the_file_header(
    relative: str, driver: str | None, vehicle: str | None, track: str
) -> None:
    draft = import_file(logger_file(relative)).draft
    assert (draft.driver, draft.vehicle, draft.track) == (driver, vehicle, track)


# --- channel names: decided once, before storage ----------------------------------------------

#: a real VBO whose logger wrote a ``Lap_Number`` channel: the name of storage's lap column
HD2 = "vbo/25IR05_RdAm_FP1_Run05_TL.vbo"


def _save(tmp_path: Path, draft: SessionDraft) -> tuple[list[str], list[str], ParquetTelemetryStorage, int]:
    """Save ``draft``; the catalogue's channel names (all sources, in order) and the file's columns."""
    engine = make_engine(f"sqlite:///{(tmp_path / 'laptrace.sqlite3').as_posix()}")
    try:
        upgrade(engine)
        storage = ParquetTelemetryStorage(tmp_path)
        sid = save_session(draft, engine, storage)
        saved = load_session(engine, sid)
    finally:
        engine.dispose()
    assert saved.summary.status == "ready"
    catalogue = list(dict.fromkeys(c.name for src in saved.sources for c in src.channels))
    return catalogue, pq.read_schema(storage.path_for(sid)).names, storage, sid


def test_saved_names_keep_off_reserved_columns_and_repeats_and_change_nothing_twice() -> None:
    wanted = ["Lap_Number", "Water Temp", "water temp", "SPEED", "", "lap_number_2", "Oil"]
    got = saved_names(wanted)
    assert got == ["Lap_Number_2", "Water Temp", "water temp_2", "SPEED_2", "channel_5", "lap_number_2_2", "Oil"]
    assert saved_names(got) == got


def test_a_channel_named_like_storages_lap_column_has_one_name_in_catalogue_and_file(tmp_path: Path) -> None:
    raw = read_recording(logger_file(HD2))
    assert raw.lap_counter == "Lap_Number"  # the reader keeps the file's name
    imp = import_file(logger_file(HD2))
    draft = check_draft(imp)
    # the import names it once, and the recording, its lap counter and the draft follow
    renamed = imp.recording.channels["Lap_Number_2"]
    assert "Lap_Number" not in imp.recording.channels and imp.recording.lap_counter == "Lap_Number_2"
    assert renamed.source_name == "Lap_Number" and not renamed.standard
    assert np.array_equal(renamed.values, raw.channels["Lap_Number"].values, equal_nan=True)
    assert [k for k in imp.recording.channels if k != "Lap_Number_2"] == [k for k in raw.channels if k != "Lap_Number"]
    assert draft.telemetry.source_names["Lap_Number_2"] == "Lap_Number"

    catalogue, columns, storage, sid = _save(tmp_path, draft)
    # the catalogue and the Parquet file name every channel alike: storage renamed nothing
    assert columns == [LAP_COLUMN, *STANDARD_CHANNELS, *draft.telemetry.auxiliary_channels]
    assert [c for c in catalogue if c not in STANDARD_CHANNELS] == columns[1 + len(STANDARD_CHANNELS) :]
    assert "Lap_Number_2" in catalogue and "Lap_Number_2_2" not in columns
    field = pq.read_schema(storage.path_for(sid)).field("Lap_Number_2")
    assert (field.metadata or {})[b"source_name"] == b"Lap_Number"
    back = storage.read(sid)
    assert back is not None
    laps = np.concatenate([lap.channels["Lap_Number_2"] for lap in back.laps])
    assert np.array_equal(laps, raw.channels["Lap_Number"].values, equal_nan=True)


def test_a_merge_of_files_with_one_channel_name_names_it_once(tmp_path: Path) -> None:
    case = build_case(tmp_path / "case", ecu_format="bosch")
    # the ECU file (a WinDarab export) logs a channel named like one of the VBO's, and one
    # named like storage's lap column
    lines = case.ecu.read_bytes().decode("utf-8").split("\r\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("xtime"))
    lines[header] = lines[header].replace("\ttmot[C]", "\tsats[C]") + "\tLap_Number[]"
    lines[header + 1 :] = [f"{line}\t{1.0:15.4f}" for line in lines[header + 1 :]]
    case.ecu.write_bytes("\r\n".join(lines).encode("utf-8"))

    merged = merge_files([case.gps, case.ecu])
    aux = merged.draft.telemetry.auxiliary_channels
    assert aux == ["sats", "speed [bosch]", "sats [bosch]", "laptrig", "Lap_Number [bosch]"]
    assert list(merged.result.recording.channels)[-len(aux) :] == aux  # named in the merge, kept by the import
    assert [c.name for c in merged.draft.sources[1].channels] == [
        "time",
        "rpm",
        "speed [bosch]",
        "sats [bosch]",
        "laptrig",
        "Lap_Number [bosch]",
    ]
    assert len(merged.draft.laps) == 16  # the beacons still split it

    catalogue, columns, _, _ = _save(tmp_path / "data", merged.draft)
    assert columns == [LAP_COLUMN, *STANDARD_CHANNELS, *aux]
    assert [c for c in catalogue if c not in STANDARD_CHANNELS] == [c for c in aux if c in catalogue]
    assert set(aux) <= set(catalogue)
