"""Refusals that do not mislead: ZIP archives, UTF-16 text, Git LFS pointers, FIFOs."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, UnsupportedFormatError, read_recording, sniff

AIM = "aim_csv/aim_format_example.csv"
MOTEC = "motec_csv/May_22_2026_Peter.csv"
CANAPE = "mf4/ASAP2_Demo_V171.mf4"


def test_a_zip_of_logs_lists_them_and_says_unzip_it(tmp_path: Path) -> None:
    path = tmp_path / "weekend.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(logger_file(CANAPE), "logs/ASAP2_Demo_V171.mf4")
        z.write(logger_file(AIM), "logs/kart.csv")
        z.writestr("README.txt", "tyre pressures: 0.8 bar cold\n")
    with pytest.raises(UnsupportedFormatError) as err:
        sniff(path)
    msg = str(err.value)
    assert "is a ZIP archive holding 3 files (logs/ASAP2_Demo_V171.mf4, logs/kart.csv, README.txt)" in msg
    assert "unzip it" in msg and "logs/ASAP2_Demo_V171.mf4 (MDF)" in msg and "logs/kart.csv (AiM CSV)" in msg
    assert "RaceChrono" not in msg and err.value.offset == 0


def test_a_racechrono_session_archive_is_still_called_one(tmp_path: Path) -> None:
    path = tmp_path / "session.rcz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("session.json", '{"track": "Tianma"}')
        z.writestr("channel_1.bin", bytes(range(256)))
    with pytest.raises(UnsupportedFormatError) as err:
        sniff(path)
    msg = str(err.value)
    assert "RaceChrono session archive (.rcz) holding 2 files (session.json, channel_1.bin)" in msg
    assert "CSV v3 or VBO" in msg


def test_a_zip_of_other_files_says_none_is_a_log(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.jpg", b"\xff\xd8\xff\xe0")
    with pytest.raises(UnsupportedFormatError, match=r"ZIP archive holding 1 file \(a\.jpg\), none of them"):
        sniff(path)


@pytest.mark.parametrize(("source", "encoding"), [(AIM, "utf-16-le"), (MOTEC, "utf-16-be")])
def test_utf16_with_a_bom_reads_like_the_utf8_file(tmp_path: Path, source: str, encoding: str) -> None:
    original = logger_file(source)
    bom = b"\xff\xfe" if encoding.endswith("le") else b"\xfe\xff"
    path = tmp_path / original.name
    path.write_bytes(bom + original.read_bytes().decode("utf-8").encode(encoding))
    want = read_recording(original)
    got = read_recording(path)
    assert got.path == path and got.warnings[0].startswith("UTF-16 text: decoded")
    assert got.warnings[1:] == want.warnings
    assert list(got.channels) == list(want.channels) and got.sample_count == want.sample_count
    np.testing.assert_array_equal(got.time, want.time)
    for name, ch in want.channels.items():
        np.testing.assert_array_equal(got.channels[name].values, ch.values)
    assert got.beacons == want.beacons and got.started_at == want.started_at and got.track == want.track
    assert not list(Path(tempfile.gettempdir()).glob("laptrace-utf16-*/" + original.name))  # copy removed


def test_utf16_errors_name_the_users_file_and_line(tmp_path: Path) -> None:
    text = logger_file(AIM).read_bytes().decode("utf-8").splitlines(keepends=True)
    text[20] = "0.100,x\r\n"  # a short row in the data block
    path = tmp_path / "cut.csv"
    path.write_bytes(b"\xff\xfe" + "".join(text).encode("utf-16-le"))
    with pytest.raises(LoggerFileError) as err:
        read_recording(path)
    assert err.value.path == path and err.value.line == 21


def test_utf16_that_is_no_log_and_broken_utf16(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(b"\xff\xfe" + "lap,time\n1,62.3\n".encode("utf-16-le"))
    with pytest.raises(UnsupportedFormatError, match=r"is UTF-16 text but not a logger format.*'lap,time'"):
        sniff(path)
    # the real AiM export as UTF-16 with an unpaired surrogate in the data
    data = b"\xff\xfe" + logger_file(AIM).read_bytes().decode("utf-8").encode("utf-16-le")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data[:40000] + b"\x00\xdc" + data[40002:])
    with pytest.raises(LoggerFileError) as err:
        read_recording(bad)
    assert "not valid UTF-16" in str(err.value) and err.value.offset == 40000


def test_a_git_lfs_pointer_says_so_and_how_to_fetch_the_file(tmp_path: Path) -> None:
    # the MoTeC export's source repository replaced it with an LFS pointer in later commits
    real = logger_file(MOTEC).read_bytes()
    pointer = (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(real).hexdigest()}\nsize {len(real)}\n"
    )
    path = tmp_path / MOTEC.split("/")[1]
    path.write_text(pointer)
    with pytest.raises(UnsupportedFormatError) as err:
        read_recording(path)
    msg = str(err.value)
    assert "is a Git LFS pointer, not the log itself" in msg and "622,134 bytes" in msg
    assert "git lfs pull" in msg and hashlib.sha256(real).hexdigest()[:12] in msg


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "live.vbo"
    os.mkfifo(fifo)
    with pytest.raises(LoggerFileError, match="not a regular file"):
        read_recording(fifo)
