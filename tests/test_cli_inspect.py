"""``laptrace inspect`` as a subprocess on real files and on bad ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from realfiles import logger_file

from desktop_app.commands import exitcodes

REPO = Path(__file__).resolve().parents[1]


def laptrace(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", "inspect", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def as_json(*args: str | Path) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    proc = laptrace(*args, "--json")
    return json.loads(proc.stdout), proc


def test_json_document_for_several_real_files() -> None:
    aim = logger_file("aim_csv/aim_format_example.csv")
    hd2 = logger_file("vbo/25IR05_RdAm_FP1_Run05_TL.vbo")
    rc = logger_file("racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv")
    doc, proc = as_json(aim, hd2, rc)
    assert proc.returncode == exitcodes.OK, proc.stderr
    assert "Traceback" not in proc.stderr
    files = doc["files"]
    assert [f["path"] for f in files] == [str(aim), str(hd2), str(rc)]
    for f in files:
        assert {
            "path",
            "format",
            "logger",
            "started_at",
            "sample_count",
            "sample_rate_hz",
            "channels",
            "warnings",
            "lap_source",
            "laps",
        } <= set(f)
        assert sum(lap["samples"] for lap in f["laps"]) == f["sample_count"]
        for ch in f["channels"]:
            assert set(ch) == {"name", "source_name", "unit", "standard"}
        for lap in f["laps"]:
            assert {
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
            } <= set(lap)
    a, h, r = files
    assert a["format"] == "aim" and a["lap_source"] == "beacon" and len(a["laps"]) == 16
    assert a["laps"][1]["lap_time_s"] == pytest.approx(71.928, abs=0.05)
    # AiM gives local wall-clock time with no zone: not UTC, so started_at is null
    assert a["started_at"] is None and a["started_at_local"] == "2022-06-19T15:42:00"
    assert h["format"] == "vbo" and h["lap_source"] == "gate"
    # HD2: the first sample is 19:52:20.880 UTC on the file's date (docs/formats.md#vbo-created-line)
    assert h["started_at"] == "2025-08-01T19:52:20.880000Z" and h["started_at_local"] is None
    assert h["sample_rate_hz"] == pytest.approx(25.0)
    assert h["laps"][1]["start_s"] == pytest.approx(171.6, abs=0.05)
    assert {"name": "speed", "source_name": "velocity", "unit": "km/h", "standard": True} in h["channels"]
    assert r["lap_source"] == "counter" and [lap["lap_number"] for lap in r["laps"]] == [8, 9, 10]
    assert r["laps"][1]["valid"] is True and r["laps"][0]["valid"] is False and r["laps"][0]["reason"]


def test_json_has_no_nan_for_a_file_without_laps_or_speed() -> None:
    doc, proc = as_json(logger_file("bosch_windarab_txt/sim_data.txt"))
    assert proc.returncode == 0
    assert "NaN" not in proc.stdout and "Infinity" not in proc.stdout
    (f,) = doc["files"]
    assert f["lap_source"] == "none"
    (lap,) = f["laps"]
    assert lap["lap_time_s"] is None and lap["distance_m"] is None and lap["max_speed_kmh"] is None
    assert lap["reason"] == "no laps found"
    assert any("no laps found" in w for w in f["warnings"])


def test_text_output_lists_laps() -> None:
    proc = laptrace(logger_file("motec_csv/blakelyauto.csv"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "format      motec" in out and "lap source  beacon" in out
    assert "2:45.843" in out  # lap 1 = 190.167 - 24.324 s
    assert "Vehicle Speed" in out and "km/h" in out
    lines = [ln for ln in out.splitlines() if ln.strip().startswith(("0 ", "1 ", "2 "))]
    assert len(lines) == 3 and "flying" in lines[1] and "yes" in lines[1] and "no: out-lap" in lines[0]


def test_bad_file_exits_bad_input_and_the_others_are_still_reported(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.vbo"
    bad.write_bytes(b"\x00\x01 definitely not a logger file\n")
    missing = tmp_path / "missing.csv"
    good = logger_file("motec_csv/blakelyauto.csv")
    doc, proc = as_json(bad, good, missing)
    assert proc.returncode == exitcodes.BAD_INPUT
    assert "Traceback" not in proc.stderr
    assert "garbage.vbo" in proc.stderr and "missing.csv" in proc.stderr
    assert [f["path"] for f in doc["files"]] == [str(good)]
    assert [e["path"] for e in doc["errors"]] == [str(bad), str(missing)]


def test_malformed_files_say_where_and_what(tmp_path: Path) -> None:
    vbo = tmp_path / "short.vbo"
    vbo.write_text(
        "File created on 01/08/2025 @ 14:52:19\r\n[column names]\r\nsats time lat long velocity\r\n"
        "[data]\r\n011 195220.880 +2627.80213200\r\n011 195220.920 +2627.80213200\r\n"
    )
    aim = tmp_path / "cut.csv"
    aim.write_text("Format,AiM CSV File\nVenue,X\n")
    proc = laptrace(vbo, aim)
    assert proc.returncode == exitcodes.BAD_INPUT
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    first, second = proc.stderr.splitlines()
    assert first.startswith(f"laptrace inspect: {vbo}") and "5 names" in first and "3 values" in first
    assert second.startswith(f"laptrace inspect: {aim}, line ")


def write_circle_vbo(path: Path) -> tuple[float, list[float]]:
    """A VBO file of a synthetic circle with a Start gate and two Split gates.

    Returns the lap time and the sector times it must give.
    """
    import math

    from synthtrack import Circle

    c = Circle(laps=3.4, rate_hz=10.0, start_angle=-0.4)
    rec = c.recording()
    lat = rec.channels["lat"].values
    lon = rec.channels["long"].values

    def minutes(g_lat: float, g_lon: float) -> str:
        return f"{-g_lon * 60:+.8f} {g_lat * 60:+.8f}"  # VBO: longitude first, west positive

    lines = ["File created on 01/06/2024 @ 10:00:00", "", "[header]"]
    lines += ["satellites", "time", "latitude", "longitude", "velocity kmh", "", "[laptiming]"]
    for kind, angle, name in (("Start", 0.0, "S/F"), ("Split", math.pi / 2, "S1"), ("Split", math.pi, "S2")):
        g = c.gate_along(angle)
        lines.append(f"{kind}   {minutes(g.lat1, g.long1)} {minutes(g.lat2, g.long2)} \u00ac {name}")
    lines += ["", "[column names]", "sats time lat long velocity", "", "[data]"]
    for i, t in enumerate(rec.time):
        s = 36000.0 + t
        hhmmss = f"{int(s // 3600):02d}{int(s % 3600 // 60):02d}{s % 60:05.2f}"
        lines.append(f"011 {hhmmss} {lat[i] * 60:+.8f} {-lon[i] * 60:+.8f} {144.0:07.3f}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    q = c.lap_time / 4
    return c.lap_time, [q, q, 2 * q]


def test_sectors_from_split_gates_end_to_end(tmp_path: Path) -> None:
    vbo = tmp_path / "circle.vbo"
    lap_time, sectors = write_circle_vbo(vbo)
    doc, proc = as_json(vbo)
    assert proc.returncode == 0, proc.stderr
    (f,) = doc["files"]
    assert f["lap_source"] == "gate" and f["started_at"] == "2024-06-01T10:00:00Z"
    flying = [lap for lap in f["laps"] if lap["kind"] == "flying"]
    assert len(flying) == 3
    for lap in flying:
        # positions written with 8 decimals of a minute (~2 cm): a millisecond or two
        assert lap["lap_time_s"] == pytest.approx(lap_time, abs=2e-3)
        assert lap["sectors_s"] == pytest.approx(sectors, abs=2e-3)
        assert lap["valid"] is True and lap["reason"] == ""
    text = laptrace(vbo).stdout
    assert text.count("sectors 0:07.854  0:07.854  0:15.708") == 3


#: libraries for other paths (the window, the database, MDF and XRK logs, Arrow tables): a
#: command that reads one text file loads none of them, each would cost start-up time
HEAVY = ("PySide6", "superqt", "pyqtgraph", "sqlalchemy", "alembic", "asammdf", "pandas", "pyarrow", "libxrk")

_MODULES_AFTER_INSPECT = """
import json, sys
from desktop_app.cli import main
code = main(["inspect", "--json", sys.argv[1]])
with open(sys.argv[2], "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


@pytest.mark.parametrize(
    ("relative", "rows", "unused"),
    [
        # a block this small is all numbers and parsed by numpy: not even polars is loaded
        ("vbo/20210620_035615.vbo", 2, (*HEAVY, "polars")),
        ("motec_csv/May_22_2026_Peter.csv", 16701, HEAVY),
    ],
)
def test_inspect_of_a_text_file_loads_no_library_it_does_not_use(
    tmp_path: Path, relative: str, rows: int, unused: tuple[str, ...]
) -> None:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _MODULES_AFTER_INSPECT, str(logger_file(relative)), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == exitcodes.OK, proc.stderr
    (entry,) = json.loads(proc.stdout)["files"]
    assert entry["sample_count"] == rows  # the file was really read
    result = json.loads(out.read_text())
    assert result["code"] == exitcodes.OK
    loaded = {name.split(".")[0] for name in result["modules"]}
    assert not loaded & set(unused), sorted(loaded & set(unused))
