from __future__ import annotations

from pathlib import Path

import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, UnknownFormatError, UnsupportedFormatError, sniff


@pytest.mark.parametrize(
    ("relative", "fmt"),
    [
        ("vbo/25IR05_RdAm_FP1_Run05_TL.vbo", "vbo"),
        ("vbo/Example_File.VBO", "vbo"),
        ("vbo/racechrono_2023Rd3_1.vbo", "vbo"),
        ("vbo/session_20230326_141947_test.vbo", "vbo"),
        ("vbo/20210620_035615.vbo", "vbo"),
        ("racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv", "racechrono"),
        ("racechrono_csv/Short_RaceChrono_Offical_App_Data.csv", "racechrono"),
        ("racechrono_csv/session_20230918_0946_0916takata_v2.csv", "racechrono"),
        ("aim_csv/aim_format_example.csv", "aim"),
        ("motec_csv/May_22_2026_Peter.csv", "motec"),
        ("motec_csv/blakelyauto.csv", "motec"),
        ("bosch_windarab_txt/sim_data.txt", "bosch"),
        ("mf4/ASAP2_Demo_V171.mf4", "mdf"),
        ("mf4/canedge_11111111_00000012_00000001.MF4", "mdf"),
        ("aim_xrk/test.xrk", "xrk"),
        ("motec_ld/Sample1.ld", "motec_ld"),
    ],
)
def test_real_files_are_recognised_by_content(relative: str, fmt: str, tmp_path: Path) -> None:
    src = logger_file(relative)
    assert sniff(src) == fmt
    # the extension does not matter: the same bytes under a misleading name
    renamed = tmp_path / "renamed.txt"
    renamed.write_bytes(src.read_bytes()[:8192])
    assert sniff(renamed) == fmt


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("a.rcz", b"PK\x03\x04rest", "CSV v3"),
        ("a.ldx", b'<?xml version="1.0"?>\n<LDXFile/>', "open its log, a.ld, instead"),
        ("a.bmsbin", b"\x00\x01\x02", "WinDarab"),
        ("a.vbb", b"\x00\x01\x02", "Racelogic"),
        ("a.MFC", b"\x00\x01\x02", "decompress"),
        ("a.mf4", b"NOTMDF  4.10    ", "not an MDF file"),
        ("a.csv", b"hello,world\n1,2\n", "not a logger format"),
    ],
)
def test_unsupported_files_are_refused_with_advice(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsupportedFormatError) as info:
        sniff(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)
    # only the file that looks like no format at all is "unknown" (a folder drop skips it)
    assert isinstance(info.value, UnknownFormatError) == (needle == "not a logger format")


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.vbo"
    empty.write_bytes(b"")
    with pytest.raises(LoggerFileError, match="empty"):
        sniff(empty)
    with pytest.raises(LoggerFileError, match="no such file"):
        sniff(tmp_path / "missing.vbo")
    with pytest.raises(LoggerFileError, match="folder"):
        sniff(tmp_path)


def test_a_damaged_ld_goes_to_its_reader_which_says_where(tmp_path: Path) -> None:
    # not the marker, but an .ld: the reader rejects it with the byte offset
    from desktop_app.loggers import read_recording

    path = tmp_path / "a.ld"
    path.write_bytes(b"\x41\x00\x00\x00junk")
    assert sniff(path) == "motec_ld"
    with pytest.raises(LoggerFileError, match="marker 0x40") as info:
        read_recording(path)
    assert info.value.offset == 0
