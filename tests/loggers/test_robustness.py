"""Bounded and located failures on hostile variants of the real files: caps, counters, MDF damage."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, read_recording
from desktop_app.loggers.channels import NameAllocator, SourceChannel, build_channels
from desktop_app.loggers.csvmeta import MAX_FIELDS, MAX_HEADER_LINE_BYTES

AIM = "aim_csv/aim_format_example.csv"
RC3 = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"
CANAPE = "mf4/ASAP2_Demo_V171.mf4"
HD2 = "vbo/25IR05_RdAm_FP1_Run05_TL.vbo"
CANEDGE = "mf4/canedge_11111111_00000012_00000001.MF4"


def _aim_lines() -> list[str]:
    return logger_file(AIM).read_bytes().decode("utf-8").split("\r\n")


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    return path


def test_names_repeated_thousands_of_times_get_unique_names_in_order() -> None:
    names = NameAllocator(["speed"])
    got = [names.take("Water Temp") for _ in range(20_000)]
    assert got[:3] == ["Water Temp", "Water Temp_2", "Water Temp_3"] and got[-1] == "Water Temp_20000"
    assert len({g.lower() for g in got}) == 20_000
    # a name that is itself a generated one is still made unique
    assert names.take("Water Temp_2") == "Water Temp_2_2" and names.take("SPEED") == "SPEED_2"


def test_a_20000_channel_header_reads(tmp_path: Path) -> None:
    # the real AiM export with its water temperature logged 20,000 times over
    lines = _aim_lines()
    names_at = next(i for i, line in enumerate(lines) if line.startswith("Time,GPS Speed"))
    extra = 20_000 - 23
    lines[names_at] += ",Water Temp" * extra
    lines[names_at + 1] += ",°C" * extra
    first_data = names_at + 3
    for i in range(first_data, first_data + 200):
        lines[i] += ("," + lines[i].split(",")[15]) * extra
    rec = read_recording(_write(tmp_path, "wide.csv", lines[: first_data + 200]))
    # 24 columns + 19,977: Time and 20,000 channels, 19,978 of them 'Water Temp'
    assert len(rec.channels) == 20_000 and rec.sample_count == 200
    assert rec.channels["Water Temp_19978"].unit == "°C"
    assert rec.channels["Water Temp_19978"].values[0] == rec.channels["Water Temp"].values[0] == 25.7


def test_a_million_field_names_row_is_refused_at_its_line(tmp_path: Path) -> None:
    lines = _aim_lines()
    names_at = next(i for i, line in enumerate(lines) if line.startswith("Time,GPS Speed"))
    lines[names_at] += ",x" * 1_000_000
    with pytest.raises(LoggerFileError) as err:
        read_recording(_write(tmp_path, "million.csv", lines))
    assert err.value.line == names_at + 1 and f"({MAX_FIELDS:,} at most)" in str(err.value)


def test_a_header_line_without_end_is_refused_at_its_line(tmp_path: Path) -> None:
    lines = _aim_lines()
    lines[3] = "Racer," + "N" * (MAX_HEADER_LINE_BYTES + 10)
    path = _write(tmp_path, "long.csv", lines[:4])
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    assert err.value.line == 4 and "longer than 4 MiB" in str(err.value)


def test_a_vbo_without_a_data_line_names_where_it_ended(tmp_path: Path) -> None:
    raw = logger_file(HD2).read_bytes()
    head = raw[: raw.index(b"[data]")]
    path = tmp_path / "nodata.vbo"
    path.write_bytes(head)
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    assert err.value.line == head.count(b"\n") and "no [data] section" in str(err.value)


def test_names_that_do_not_match_the_data_name_the_names_line(tmp_path: Path) -> None:
    raw = logger_file(HD2).read_bytes()
    at = raw.index(b"[column names]\r\n") + len(b"[column names]\r\n")
    path = tmp_path / "names.vbo"
    cut = raw.index(b"\r\n", at)
    path.write_bytes(raw[:at] + b"sats time lat" + raw[cut:])
    # and the [header] list shortened too, so nothing matches the 33 values per row
    text = path.read_bytes().replace(b"satellites\r\n", b"", 1)
    path.write_bytes(text)
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    assert err.value.line == text[: text.index(b"[column names]")].count(b"\n") + 1
    assert "cannot match names to data" in str(err.value)


def test_a_lap_counter_beyond_int32_is_not_used_for_laps(tmp_path: Path) -> None:
    from desktop_app.laps import analyse_laps

    lines = logger_file(RC3).read_bytes().decode("utf-8").split("\r\n")
    names_at = next(i for i, line in enumerate(lines) if line.startswith("timestamp"))
    lap = lines[names_at].split(",").index("lap_number")
    for i in range(names_at + 3, len(lines)):
        cells = lines[i].split(",")
        if len(cells) > lap and cells[lap].strip():
            cells[lap] = str(int(cells[lap]) + 2**32 - 9)  # laps 8-10 become 2^32 - 1 ...
            lines[i] = ",".join(cells)
    rec = read_recording(_write(tmp_path, "laps.csv", lines))
    assert rec.lap_counter is None and rec.channels["lap_number"].values[-1] == 2**32 + 1
    assert any("lap counter 'lap_number' holds 4294967297" in w for w in rec.warnings)
    analysis = analyse_laps(rec)  # laps from the other sources, no OverflowError
    assert sum(lap.samples for lap in analysis.laps) == rec.sample_count


def test_lap_counters_in_range_are_kept() -> None:
    rec = read_recording(logger_file(RC3))
    assert rec.lap_counter == "lap_number"


def test_a_damaged_mdf_record_count_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    from asammdf import MDF

    with MDF(logger_file(CANAPE)) as mdf:
        cg = mdf.groups[2].channel_group.address  # the 12,402-record group of 46-byte records
    raw = bytearray(logger_file(CANAPE).read_bytes())
    assert raw[cg : cg + 4] == b"##CG" and struct.unpack_from("<Q", raw, cg + 80)[0] == 12402
    struct.pack_into("<Q", raw, cg + 80, 10**9)  # would be 7.5 GB of float64 per channel
    path = tmp_path / "damaged.mf4"
    path.write_bytes(bytes(raw))
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    assert err.value.offset == cg
    assert "claims 1,000,000,000 records of 46 bytes" in str(err.value)


def test_an_mdf_comment_that_is_not_xml_does_not_escape(tmp_path: Path) -> None:
    # asammdf re-serialises the header comment through an XML parser; a control character
    # in it (damage, or a writer that does not escape) raised ExpatError from there
    from asammdf import MDF

    from desktop_app.loggers.mdf import _comment

    with MDF(logger_file(CANAPE)) as mdf:
        mdf.header.description = "Date: 22.11.2018\x01 Experiment"
        assert _comment(mdf) == "Date: 22.11.2018\x01 Experiment"


def test_build_channels_keeps_every_repeated_name() -> None:
    values = np.arange(3, dtype=np.float64)
    channels = build_channels("aim", [SourceChannel("T", "C", values + i) for i in range(5000)], [])
    assert len(channels) == 5000 and channels["T_5000"].values[0] == 4999.0


@pytest.mark.parametrize("link", [0, 1])
def test_an_mdf_link_out_of_the_file_is_located(tmp_path: Path, link: int) -> None:
    # the CANape file with one of its header block's first links (at byte 64 + 24 + 8 i)
    # pointing past the end of the file
    raw = bytearray(logger_file(CANAPE).read_bytes())
    assert raw[64:68] == b"##HD"
    at = 64 + 24 + 8 * link
    assert struct.unpack_from("<Q", raw, at)[0] != 0
    struct.pack_into("<Q", raw, at, len(raw) + 4096)
    path = tmp_path / "link.mf4"
    path.write_bytes(bytes(raw))
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    # asammdf names the address (then the file's end is the place) or the walk finds the link
    assert err.value.offset in (at, len(raw))


def test_a_truncated_mdf_names_a_place_in_the_file(tmp_path: Path) -> None:
    raw = logger_file(CANAPE).read_bytes()
    path = tmp_path / "cut.mf4"
    path.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    assert err.value.offset is not None and 0 <= err.value.offset <= len(raw) // 3


def test_a_channel_outside_its_record_is_refused_before_asammdf_reads_it(tmp_path: Path) -> None:
    # a damaged byte offset made asammdf's C extractor read out of bounds (a segfault)
    from asammdf import MDF

    with MDF(logger_file(CANAPE)) as mdf:
        group = mdf.groups[3]
        record = group.channel_group.samples_byte_nr
        ch = next(c for c in group.channels if c.channel_type == 0)
        address, name = ch.address, ch.name
    raw = bytearray(logger_file(CANAPE).read_bytes())
    assert raw[address : address + 4] == b"##CN"
    links = struct.unpack_from("<Q", raw, address + 16)[0]
    byte_offset_at = address + 24 + 8 * links + 4  # after channel, sync and data type and bit offset
    struct.pack_into("<I", raw, byte_offset_at, 35085)
    path = tmp_path / "layout.mf4"
    path.write_bytes(bytes(raw))
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    assert err.value.offset == address
    assert f"channel {name!r} lies at bytes 35085.." in str(err.value) and f"of a {record}-byte record" in str(
        err.value
    )


def test_a_damaged_can_frame_length_is_refused_not_decoded_into_gigabytes(tmp_path: Path) -> None:
    # one byte of the real CANedge log's frame data: the last frame's length prefix 8 becomes
    # 35,336, and asammdf would decode 54,108 frames x 35,336 bytes (1.9 GB) for it
    raw = bytearray(logger_file(CANEDGE).read_bytes())
    at = 1960155
    assert raw[at - 1 : at + 3] == b"\x08\x00\x00\x00"
    raw[at] = 0x8A
    path = tmp_path / "canedge.MF4"
    path.write_bytes(bytes(raw))
    (tmp_path / "canmod-gps.dbc").write_bytes(logger_file("mf4/canmod-gps.dbc").read_bytes())
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    msg = str(err.value)
    assert "claims 35,336 data bytes, more than a CAN frame holds (64)" in msg
    assert err.value.offset is not None


def test_a_stray_carriage_return_inside_a_quoted_row_does_not_escape(tmp_path: Path) -> None:
    # a bare CR in the first data row of a quoted MoTeC export: the csv module raises
    # "new-line character seen in unquoted field" when the row's fields are counted
    data = logger_file("motec_csv/May_22_2026_Peter.csv").read_bytes()
    row = b'"0.000","20.0","-10.8","104.1","0"'
    assert row in data
    damaged = tmp_path / "May_22_2026_Peter.csv"
    damaged.write_bytes(data.replace(row, b'"0.000","20.0"\r5,"-10.8","104.1","0"', 1))
    try:
        rec = read_recording(damaged)
    except LoggerFileError as exc:
        assert exc.line is not None or exc.offset is not None, str(exc)
    else:
        rec.check()
        assert rec.sample_count > 16000
