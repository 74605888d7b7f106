"""The merge offset dialog: both traces overlaid, spin box and slider in step, the offset
returned through a callback (``open()``, no nested event loop)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mergecases import build_case
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop_app.gui.merge_dialog import MAX_POINTS, SLIDER_STEPS_PER_S, MergeOffsetDialog, ask_offset
from desktop_app.loggers import read_recording
from desktop_app.merging import merge_recordings


def _assert_samples_of(x: np.ndarray, times: np.ndarray) -> None:
    idx = np.clip(np.searchsorted(times, x), 1, times.size - 1)
    nearest = np.minimum(np.abs(times[idx] - x), np.abs(times[idx - 1] - x))
    assert float(nearest.max()) < 1e-9


def test_offset_follows_spin_box_and_slider(qtbot: QtBot, tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="bosch")
    gps, ecu = read_recording(case.gps), read_recording(case.ecu)
    alignment = merge_recordings(gps, ecu).alignment
    dialog = MergeOffsetDialog(gps, ecu, alignment)
    qtbot.addWidget(dialog)
    assert dialog.channel == "speed"
    assert dialog.offset() == round(alignment.offset_s, 3)
    assert "gps.vbo" in dialog.summary.text() and "ecu.txt" in dialog.summary.text()
    x = dialog.secondary_curve.xData  # what the dialog handed the curve (before view clipping)
    assert x is not None and 0 < len(x) <= MAX_POINTS
    # the ECU trace sits at the offset on the GPS clock: every point is a real ECU sample
    _assert_samples_of(x, dialog.offset() + alignment.scale * ecu.time)

    dialog.slider.setValue(150)  # 1.5 s later
    assert abs(dialog.offset() - (round(alignment.offset_s, 3) + 150 / SLIDER_STEPS_PER_S)) < 1e-3
    x2 = dialog.secondary_curve.xData
    assert x2 is not None
    _assert_samples_of(x2, dialog.offset() + alignment.scale * ecu.time)

    dialog.spin.setValue(alignment.offset_s - 2.0)
    assert dialog.slider.value() == -200
    px = dialog.primary_curve.xData
    assert px is not None and np.all(np.diff(px) >= 0) and len(px) <= MAX_POINTS


def test_ask_offset_opens_without_a_nested_loop_and_calls_back(qtbot: QtBot, tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="motec")
    gps, ecu = read_recording(case.gps), read_recording(case.ecu)
    alignment = merge_recordings(gps, ecu).alignment
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    chosen: list[float] = []
    dialog = ask_offset(gps, ecu, alignment, parent, chosen.append)  # returns at once: open(), not exec()
    assert dialog.isVisible() and dialog.isModal() and chosen == []
    dialog.spin.setValue(alignment.offset_s + 0.25)
    gone: list[bool] = []
    dialog.destroyed.connect(lambda: gone.append(True))
    dialog.accept()
    assert chosen == [round(alignment.offset_s + 0.25, 3)]
    qtbot.waitUntil(lambda: gone == [True], timeout=5_000)  # it deletes itself once answered
    cancelled: list[float] = []
    dialog = ask_offset(gps, ecu, alignment, parent, cancelled.append)
    dialog.reject()
    assert cancelled == []
