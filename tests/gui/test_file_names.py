"""A file whose name is not UTF-8, dropped on the window, is read, shown and saved: the
catalogue keeps its name with U+FFFD for the bytes (PostgreSQL and SQLite store text), the
notes say so, and the Parquet file reads back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from gui.qt_helpers import drop_files, wait_read, wait_state
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.catalogue import Catalogue
from desktop_app.gui.main_window import MainWindow
from storage.db.catalog import load_session


@pytest.mark.skipif(os.name == "nt", reason="Windows file names are UTF-16, never arbitrary bytes")
def test_a_dropped_file_named_with_non_utf8_bytes_is_read_and_saved(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, tmp_path: Path
) -> None:
    source = logger_file("motec_csv/blakelyauto.csv")
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/blakely_\xe9.csv"))
    shutil.copyfile(source, odd)
    drop_files(window, [odd])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.state == "ready", entry.error
    assert entry.state == "ready" and entry.imported is not None
    laps = len(entry.imported.draft.laps)
    assert laps == 3
    assert window.save_flow.save(entry)
    assert wait_state(qtbot, entry, ("saved", "save-failed")) == "saved"
    assert entry.session_id is not None
    saved = load_session(catalogue.engine, entry.session_id)
    assert [s.file_name for s in saved.sources] == ["blakely_\ufffd.csv"]
    assert len(saved.laps) == laps
    lap = catalogue.storage.read_lap(entry.session_id, saved.laps[1].lap_number)
    assert lap is not None and lap.channels["speed"].size > 0


@pytest.mark.skipif(os.name == "nt", reason="Windows file names are UTF-16, never arbitrary bytes")
def test_a_file_url_with_percent_encoded_bytes_names_the_file_byte_for_byte(qapp: object) -> None:
    from PySide6.QtCore import QByteArray, QMimeData, QUrl

    from desktop_app.gui.drop import file_url, local_paths

    mime = QMimeData()
    # what a file manager puts in the drag for /tmp/run_<0xE9>.vbo and /tmp/caf<U+00E9>.vbo
    mime.setUrls([QUrl.fromEncoded(QByteArray(b"file:///tmp/run_%E9.vbo")), QUrl.fromLocalFile("/tmp/caf\u00e9.vbo")])
    got = local_paths(mime)
    assert [os.fsencode(p) for p in got] == [b"/tmp/run_\xe9.vbo", "/tmp/caf\u00e9.vbo".encode()]
    assert [bytes(file_url(p).toEncoded().data()) for p in got] == [
        b"file:///tmp/run_%E9.vbo",
        b"file:///tmp/caf%C3%A9.vbo",
    ]
