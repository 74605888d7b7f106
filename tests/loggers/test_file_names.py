"""Every reader opens a file whose name is not UTF-8 (a POSIX name may be any bytes): the
window gets such files by a drop, with no stand-in path in between."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from realfiles import all_logger_files

from desktop_app.loggers import read_recording

#: one real file per reader; the .ldx beside a MoTeC log is read with it, not alone
FILES = [p for p in all_logger_files() if p.suffix.lower() != ".ldx"]


@pytest.mark.skipif(os.name == "nt", reason="Windows file names are UTF-16, never arbitrary bytes")
@pytest.mark.parametrize("source", FILES, ids=[p.name for p in FILES])
def test_a_file_named_with_bytes_that_are_not_utf8_reads_as_under_its_own_name(tmp_path: Path, source: Path) -> None:
    # Latin-1 e-acute: one byte that is not UTF-8 (Python keeps it as a lone surrogate)
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/run_\xe9" + os.fsencode(source.suffix)))
    shutil.copyfile(source, odd)
    # what a reader looks for beside the file: a MoTeC log's .ldx, a bus log's DBC files
    for sibling in source.parent.glob(source.stem + ".ldx"):
        shutil.copyfile(sibling, odd.with_suffix(".ldx"))
    for dbc in source.parent.glob("*.dbc"):
        shutil.copyfile(dbc, tmp_path / dbc.name)
    try:
        expected = read_recording(source)
    except Exception as exc:  # noqa: BLE001 - a file we refuse is refused the same way
        with pytest.raises(type(exc)):
            read_recording(odd)
        return
    got = read_recording(odd)
    assert list(got.channels) == list(expected.channels)
    for name, channel in expected.channels.items():
        np.testing.assert_array_equal(got.channels[name].values, channel.values, err_msg=name)
    np.testing.assert_array_equal(got.time, expected.time)
