"""Text channels in the preview: the cursor readout and the y axis show the labels, not the
integer codes, for a file just read and for the saved session reopened from its Parquet file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from gui.qt_helpers import drop_files, wait_drawn, wait_read, wait_state
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from pytestqt.qtbot import QtBot
from textstates import STATES, windarab_with_states

from desktop_app.analysis.formatting import format_coded
from desktop_app.catalogue import Catalogue
from desktop_app.gui.charts import ChannelChart
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import PreviewWidget
from desktop_app.importing import import_file
from storage.sessions import save_session
from storage.types import LapTelemetry


def _tick(preview: PreviewWidget, channel: str) -> None:
    """Tick ``channel`` in the channel list, as the user does."""
    rows = [preview.channel_list.item(r) for r in range(preview.channel_list.count())]
    item = next(i for i in rows if i.data(Qt.ItemDataRole.UserRole) == channel)
    if item.checkState() != Qt.CheckState.Checked:
        item.setCheckState(Qt.CheckState.Checked)


def _axis_texts(qtbot: QtBot, preview: PreviewWidget, channel: str) -> list[str]:
    """The tick texts the y axis of ``channel``'s graph draws once the draw is done."""
    wait_drawn(qtbot, preview)  # a row's y range is fitted when its curves are drawn
    axis = preview.plots.plot(channel).getAxis("left")
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [str(text) for _rect, _flags, text in specs[2]]


def _assert_labels_shown(qtbot: QtBot, preview: PreviewWidget) -> None:
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
    assert _axis_texts(qtbot, preview, "cam_state") == list(STATES)
    # a numeric graph keeps its numbers (rows are reused between channels)
    numeric = next(c for c in preview.plotted_channels() if c != "cam_state")
    assert all(re.fullmatch(r"-?[\d.]+", t) for t in _axis_texts(qtbot, preview, numeric))


def test_text_channel_shows_its_labels_in_readout_and_axis_before_and_after_save(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.show()
    drop_files(window, [windarab_with_states(tmp_path)])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.state == "ready"
    preview = window.view.preview
    qtbot.waitUntil(lambda: preview.plotted_channels() != [], timeout=10_000)
    assert "cam_state" not in preview.plotted_channels()  # not a default graph
    _tick(preview, "cam_state")
    _assert_labels_shown(qtbot, preview)

    window.save_current()
    assert wait_state(qtbot, entry, ("saved", "save-failed")) == "saved"
    assert entry.session_id is not None
    window.view.clear()
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.open_session(entry.session_id)
    assert window.view.session_id == entry.session_id
    qtbot.waitUntil(lambda: preview.plotted_channels() != [], timeout=10_000)
    _tick(preview, "cam_state")
    _assert_labels_shown(qtbot, preview)


def test_a_value_that_is_no_code_of_the_table_stays_a_number() -> None:
    assert [format_coded(v, STATES) for v in (0.0, 2.0)] == ["running", "waitCam"]
    # between codes (a curve's min/max), beyond the table, negative, missing: numbers
    assert [format_coded(v, STATES) for v in (1.5, 3.0, -1.0, float("nan"))] == ["1.50", "3", "-1", "–"]
    assert format_coded(2.0, None) == "2"  # a numeric channel


def _readout_cells(preview: PreviewWidget, channel: str) -> dict[str, str]:
    """Per lap label, what the readout shows for ``channel``."""
    text = preview.readout.text()
    header = re.findall(r"<th>&nbsp;(.*?)&nbsp;</th>", text)
    out = {}
    for row in re.findall(r"<tr><td>.*?</tr>", text):
        label = re.findall(r"■</b> (.*?)</td>", row)[0]
        cells = re.findall(r"&nbsp;(.*?)&nbsp;</td>", row)
        out[label] = cells[header.index(channel)]
    return out


OTHER_ORDER = (STATES[2], STATES[0], "idle")  # the same texts under other codes, and a new one


def test_a_lap_compared_from_another_session_reads_as_its_own_labels(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, tmp_path: Path
) -> None:
    ids = []
    for order, name in ((STATES, "mine.txt"), (OTHER_ORDER, "theirs.txt")):
        draft = import_file(windarab_with_states(tmp_path, order, name)).draft
        assert draft.telemetry.labels["cam_state"] == order
        ids.append(save_session(draft, catalogue.engine, catalogue.storage))
    mine, theirs = ids
    [lap_number] = [r.lap_number for r in draft.laps]
    window.show()
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.open_session(mine)
    preview = window.view.preview
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.view.compare_lap(catalogue.storage, theirs, lap_number)
    _tick(preview, "cam_state")
    preview.set_x_axis("time")
    other = f"S{theirs} lap {lap_number}"
    assert [preview.lap_name(i) for i in range(len(preview.shown_laps()))] == [f"Lap {lap_number}", other]
    raw = catalogue.storage.read_lap(theirs, lap_number)
    assert raw is not None
    times, codes = raw.channels["time"], raw.channels["cam_state"]
    own = preview.lap_label(0)
    for run in range(3):  # both files change state on the same rows: one run of each
        j = run * 1000 + 500
        preview.set_cursor(float(times[j]))
        cells = _readout_cells(preview, "cam_state")
        assert cells[other] == OTHER_ORDER[int(codes[j])] == OTHER_ORDER[run]
        assert cells[own] == STATES[run]
    # one axis for both laps: this session's labels at their codes, the other's new one after
    assert _axis_texts(qtbot, preview, "cam_state") == [*STATES, "idle"]


def _numbers(texts: list[str]) -> bool:
    return bool(texts) and all(re.fullmatch(r"-?[\d.]+", t) for t in texts)


def _wait_ticks(qtbot: QtBot, chart: ChannelChart, side: str, want: list[str] | None) -> None:
    """The axis shows ``want`` (None: numbers) once the view has ranged (next event turn)."""
    qtbot.waitUntil(lambda: (_numbers if want is None else want.__eq__)(chart.tick_texts(side)), timeout=5_000)


def test_scatter_and_histogram_show_a_text_channels_labels(qtbot: QtBot, tmp_path: Path) -> None:
    mine = import_file(windarab_with_states(tmp_path)).draft.telemetry
    theirs = import_file(windarab_with_states(tmp_path, OTHER_ORDER, "theirs.txt")).draft.telemetry
    [lap], [other] = mine.laps, theirs.laps
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    preview.resize(1200, 800)
    preview.show()
    qtbot.waitExposed(preview)
    preview.show_laps([lap], lap, mine.units, None, mine.labels)
    preview.tabs.setCurrentWidget(preview.scatter)
    preview.scatter.pickers["x"].setCurrentText("cam_state")
    preview.scatter.pickers["y"].setCurrentText("rpm")
    _wait_ticks(qtbot, preview.scatter, "bottom", list(STATES))
    _wait_ticks(qtbot, preview.scatter, "left", None)
    preview.scatter.pickers["y"].setCurrentText("cam_state")
    _wait_ticks(qtbot, preview.scatter, "left", list(STATES))
    preview.scatter.pickers["x"].setCurrentText("rpm")  # numbers again on a numeric channel
    _wait_ticks(qtbot, preview.scatter, "bottom", None)

    # the histogram: one bar per label, each lap's share of samples in each state
    preview.show_laps([lap, other], lap, mine.units, {id(other): "S2 lap 1"}, mine.labels, {id(other): theirs.labels})
    preview.tabs.setCurrentWidget(preview.histogram)
    preview.histogram.pickers["channel"].setCurrentText("cam_state")
    labels = [*STATES, "idle"]
    _wait_ticks(qtbot, preview.histogram, "bottom", labels)
    mine_share, their_share = preview.histogram.shares
    assert len(mine_share) == len(labels)
    for share, table, codes in (
        (mine_share, STATES, lap.channels["cam_state"]),
        (their_share, OTHER_ORDER, other.channels["cam_state"]),
    ):
        finite = codes[np.isfinite(codes)]
        for code, text in enumerate(table):
            want = 100.0 * float(np.count_nonzero(finite == code)) / finite.size
            assert share[labels.index(text)] == pytest.approx(want), text
    assert mine_share[labels.index("idle")] == 0.0 and their_share[labels.index("timeout")] == 0.0
    preview.histogram.pickers["channel"].setCurrentText("rpm")
    _wait_ticks(qtbot, preview.histogram, "bottom", None)
