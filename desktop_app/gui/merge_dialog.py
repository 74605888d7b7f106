"""Adjust the offset between two merged files by eye: both speed traces overlaid.

:class:`MergeOffsetDialog` is a thin view of an :class:`~desktop_app.merging.Alignment`
and the two recordings: a spin box and a slider (kept in step) move the secondary's trace
along the time axis over the primary's; OK emits the chosen offset (``offsetChosen``),
which the caller passes to :func:`desktop_app.importing.merge_files` (``offset_s=``).
The drift the merge found is kept: the offset is the secondary's first sample on the
primary's clock. :func:`ask_offset` opens it with ``open()``, never ``exec()``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.decimate import finite_xy, minmax
from desktop_app.loggers.recording import Recording
from desktop_app.merging import CORRELATION_CHANNELS, Alignment
from storage.types import FloatArray

#: the slider spans this many seconds either side of the offset the merge found
SLIDER_RANGE_S = 30.0
#: slider steps per second (10 ms)
SLIDER_STEPS_PER_S = 100
#: the traces are decimated to at most this many points (the dialog is never wider)
MAX_POINTS = 4000


def _trace(rec: Recording, channel: str) -> tuple[FloatArray, FloatArray]:
    values = rec.standard(channel)
    if values is None:
        return np.empty(0), np.empty(0)
    return finite_xy(rec.time, values)


class MergeOffsetDialog(QDialog):
    """Both files' traces overlaid, and the secondary's offset to adjust (see the module docstring)."""

    #: the user pressed OK: the offset chosen (seconds added to the secondary's clock)
    offsetChosen = Signal(float)

    def __init__(
        self, primary: Recording, secondary: Recording, alignment: Alignment, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Align the two files")
        self.setObjectName("mergeOffsetDialog")
        self._found = alignment.offset_s
        self._scale = alignment.scale
        channel = alignment.channel or next(
            (c for c in CORRELATION_CHANNELS if primary.standard(c) is not None and secondary.standard(c) is not None),
            "speed",
        )
        self.channel = channel
        self._p = _trace(primary, channel)
        self._s = _trace(secondary, channel)

        drift = f", drift {alignment.drift_ppm:+.1f} ppm" if alignment.drift_ppm else ""
        self.summary = QLabel(
            f"{secondary.path.name} on {primary.path.name}: offset {alignment.offset_s:+.3f} s "
            f"({alignment.method}, confidence {alignment.confidence:.2f}{drift})"
        )
        self.summary.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.addLegend()
        self.plot.setLabel("bottom", f"time on {primary.path.name}", units="s")
        self.plot.setLabel("left", channel)
        self.primary_curve = self.plot.plot(*self._decimated(*self._p), name=primary.path.name, pen=pg.mkPen("#1f77b4"))
        self.secondary_curve = self.plot.plot(name=secondary.path.name, pen=pg.mkPen("#d62728"))

        self.spin = QDoubleSpinBox()
        self.spin.setObjectName("offsetSpin")
        self.spin.setDecimals(3)
        self.spin.setSingleStep(0.01)
        span = float(
            max(
                primary.time[-1] if primary.sample_count else 0.0, secondary.time[-1] if secondary.sample_count else 0.0
            )
        )
        self.spin.setRange(-span - SLIDER_RANGE_S, span + SLIDER_RANGE_S)
        self.spin.setSuffix(" s")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("offsetSlider")
        steps = int(SLIDER_RANGE_S * SLIDER_STEPS_PER_S)
        self.slider.setRange(-steps, steps)
        reset = QPushButton("Reset")
        reset.setToolTip("back to the offset the merge found")
        reset.clicked.connect(lambda: self.spin.setValue(self._found))
        row = QHBoxLayout()
        row.addWidget(QLabel("Offset"))
        row.addWidget(self.spin)
        row.addWidget(self.slider, 1)
        row.addWidget(reset)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)

        self.spin.valueChanged.connect(self._spin_moved)
        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.setValue(self._found)
        self._spin_moved(self.spin.value())  # draw even if the value did not change

    def accept(self) -> None:
        """OK: emit :attr:`offsetChosen` (before ``accepted``/``finished``), then close."""
        self.offsetChosen.emit(self.offset())
        super().accept()

    def _decimated(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        if x.size == 0:
            return x, y
        return minmax(x, y, float(x[0]), float(x[-1]), MAX_POINTS)

    def offset(self) -> float:
        """The offset chosen (seconds added to the secondary's clock)."""
        return float(self.spin.value())

    def _spin_moved(self, value: float) -> None:
        step = int(round((value - self._found) * SLIDER_STEPS_PER_S))
        if -self.slider.maximum() <= step <= self.slider.maximum() and step != self.slider.value():
            self.slider.blockSignals(True)
            self.slider.setValue(step)
            self.slider.blockSignals(False)
        x, y = self._s
        self.secondary_curve.setData(*self._decimated(value + self._scale * x, y))

    def _slider_moved(self, step: int) -> None:
        self.spin.setValue(self._found + step / SLIDER_STEPS_PER_S)


def ask_offset(
    primary: Recording,
    secondary: Recording,
    alignment: Alignment,
    parent: QWidget | None,
    on_offset: Callable[[float], object],
) -> MergeOffsetDialog:
    """Open the dialog window-modally (``open()``: docs/architecture.md#no-nested-event-loops)
    and call ``on_offset(offset)`` if the user presses OK; nothing happens on Cancel. The dialog
    deletes itself once answered; it is returned for tests and callers that track it."""
    dialog = MergeOffsetDialog(primary, secondary, alignment, parent)
    dialog.offsetChosen.connect(on_offset)
    dialog.finished.connect(lambda _result: dialog.deleteLater())
    dialog.open()
    return dialog
