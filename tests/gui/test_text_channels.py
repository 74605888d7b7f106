"""Text channels in the preview: the cursor readout and the y axis show the labels, not the
integer codes, for a file just read and for the saved session reopened from its Parquet file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from gui.qt_helpers import drop_files, wait_read, wait_state
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.analysis.formatting import format_coded
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import PreviewWidget
from storage.types import LapTelemetry

STATES = ("running", "timeout", "waitCam")


def _windarab_with_states(tmp_path: Path) -> Path:
    """The real WinDarab export with a sensor-state text column that changes every 1000
    rows (as a camera trigger's state does during a run), padded as WinDarab pads it."""
    lines = logger_file("bosch_windarab_txt/sim_data.txt").read_bytes().split(b"\r\n")
    names = next(i for i, line in enumerate(lines) if line.startswith(b"xtime"))
    out = []
    for i, line in enumerate(lines):
        if i == names:
            line += b"\tcam_state"
        elif i > names and line.strip():
            line += b"\t%12s" % STATES[((i - names) // 1000) % len(STATES)].encode()
        out.append(line)
    path = tmp_path / "sim_data_states.txt"
    path.write_bytes(b"\r\n".join(out))
    return path


def _tick(preview: PreviewWidget, channel: str) -> None:
    """Tick ``channel`` in the channel list, as the user does."""
    rows = [preview.channel_list.item(r) for r in range(preview.channel_list.count())]
    item = next(i for i in rows if i.data(Qt.ItemDataRole.UserRole) == channel)
    if item.checkState() != Qt.CheckState.Checked:
        item.setCheckState(Qt.CheckState.Checked)


def _axis_texts(preview: PreviewWidget, channel: str) -> list[str]:
    """The tick texts the y axis of ``channel``'s graph draws now."""
    axis = preview.plots.plot(channel).getAxis("left")
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [str(text) for _rect, _flags, text in specs[2]]


def _assert_labels_shown(preview: PreviewWidget) -> None:
    assert "cam_state" in preview.plotted_channels()
    preview.set_x_axis("time")  # every sample has its own x (distance stands still in the pits)
    lap: LapTelemetry = preview.shown_laps()[0]
    codes, times = lap.channels["cam_state"], lap.channels["time"]
    # the lap goes through every state: the codes change along it, and each reads as its text
    seen = {int(c) for c in codes[np.isfinite(codes)]}
    assert seen == {0, 1, 2}
    label = preview.lap_label(0)
    for code in sorted(seen):
        # a sample in the middle of a run of this code, so the nearest sample has it too
        runs = np.flatnonzero((codes[1:-1] == code) & (codes[:-2] == code) & (codes[2:] == code)) + 1
        j = int(runs[len(runs) // 2])
        preview.set_cursor(float(times[j]))
        assert preview.readout_values(float(times[j]))["cam_state"][label] == float(code)
        text = preview.readout.text()
        header = re.findall(r"<th>&nbsp;(.*?)&nbsp;</th>", text)
        first_row = re.findall(r"<tr><td>.*?</tr>", text)[0]
        cells = re.findall(r"&nbsp;(.*?)&nbsp;</td>", first_row)  # the values, not the lap's name
        assert cells[header.index("cam_state")] == STATES[code], text
    assert _axis_texts(preview, "cam_state") == list(STATES)
    # a numeric graph keeps its numbers (rows are reused between channels)
    numeric = next(c for c in preview.plotted_channels() if c != "cam_state")
    assert all(re.fullmatch(r"-?[\d.]+", t) for t in _axis_texts(preview, numeric))


def test_text_channel_shows_its_labels_in_readout_and_axis_before_and_after_save(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.show()
    drop_files(window, [_windarab_with_states(tmp_path)])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.state == "ready"
    preview = window.view.preview
    qtbot.waitUntil(lambda: preview.plotted_channels() != [], timeout=10_000)
    assert "cam_state" not in preview.plotted_channels()  # not a default graph
    _tick(preview, "cam_state")
    _assert_labels_shown(preview)

    window.save_current()
    assert wait_state(qtbot, entry, ("saved", "save-failed")) == "saved"
    assert entry.session_id is not None
    window.view.clear()
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.open_session(entry.session_id)
    assert window.view.session_id == entry.session_id
    qtbot.waitUntil(lambda: preview.plotted_channels() != [], timeout=10_000)
    _tick(preview, "cam_state")
    _assert_labels_shown(preview)


def test_a_value_that_is_no_code_of_the_table_stays_a_number() -> None:
    assert [format_coded(v, STATES) for v in (0.0, 2.0)] == ["running", "waitCam"]
    # between codes (a curve's min/max), beyond the table, negative, missing: numbers
    assert [format_coded(v, STATES) for v in (1.5, 3.0, -1.0, float("nan"))] == ["1.50", "3", "-1", "–"]
    assert format_coded(2.0, None) == "2"  # a numeric channel
