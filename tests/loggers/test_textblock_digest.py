"""The SHA-256 of an imported text file comes from the bytes the reader streams: one pass."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from realfiles import logger_file

from desktop_app import importing
from desktop_app.loggers.textsource import BlockSource, FileDigest


@pytest.mark.parametrize(
    "name",
    [
        "vbo/25IR05_RdAm_FP1_Run05_TL.vbo",
        "bosch_windarab_txt/sim_data.txt",
        "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv",
        "motec_csv/blakelyauto.csv",
    ],
)
@pytest.mark.parametrize("chunk", [BlockSource.CHUNK, 4096], ids=["default-chunks", "small-chunks"])
def test_text_import_hashes_the_file_in_the_read_pass(name: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = logger_file(name)
    monkeypatch.setattr(BlockSource, "CHUNK", chunk)  # chunks re-read their cut line: counted once

    def second_pass(p: object) -> str:
        raise AssertionError(f"{p} hashed in a second pass")

    monkeypatch.setattr(importing, "file_sha256", second_pass)
    imported = importing.import_file(path)
    assert imported.draft.sources[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_digest_that_did_not_see_the_whole_file_gives_nothing(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    p.write_bytes(b"header\n1,2\n3,4\n")
    digest = FileDigest(p)
    digest.feed(7, b"1,2\n")  # the header is read by the digest itself, the tail never came
    assert digest.hexdigest() is None
    digest.feed(7, b"1,2\n3,4\n")  # overlapping re-read: the new part only
    assert digest.hexdigest() == hashlib.sha256(p.read_bytes()).hexdigest()


def test_mdf_import_falls_back_to_hashing_the_file() -> None:
    path = logger_file("mf4/ASAP2_Demo_V171.mf4")
    imported = importing.import_file(path)
    assert imported.draft.sources[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
