"""Measure how responsive the GUI thread is: the longest gap between ticks of a QTimer.

A timer asking for a tick every ``interval_ms`` on the GUI thread is late exactly when the
GUI thread is busy (a long paint, a blocking call, a worker hogging the GIL). Used by
``bench/gui_latency.py`` (reports the figure) and by a GUI test that checks the timer kept
running while files were read and saved (a structural check: the suite asserts no time).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


class TickMonitor(QObject):
    """Records the gaps between timer ticks while running."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None
        self.gaps_ms: list[float] = []

    def start(self) -> None:
        self.gaps_ms = []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        """Stop and return the longest gap (ms)."""
        self._timer.stop()
        self._tick()
        self._last = None
        return self.longest_ms

    @property
    def longest_ms(self) -> float:
        return max(self.gaps_ms, default=0.0)

    @property
    def ticks(self) -> int:
        return len(self.gaps_ms)

    def percentile_ms(self, q: float) -> float:
        if not self.gaps_ms:
            return 0.0
        ordered = sorted(self.gaps_ms)
        return ordered[min(len(ordered) - 1, int(q / 100.0 * len(ordered)))]

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps_ms.append((now - self._last) * 1000.0)
        self._last = now
