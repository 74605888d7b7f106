"""GUI fixtures: executors that are drained after each test, and the main window on a real catalogue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool

from desktop_app.gui.workers import Workers


@pytest.fixture
def workers(qapp: object) -> Iterator[Workers]:
    """Real thread pools; the test fails if a job is still running after it (a leaked thread)."""
    w = Workers()
    yield w
    w.cancel_all()
    assert w.wait(20_000), "worker threads still running 20 s after the test"
    assert QThreadPool.globalInstance().waitForDone(20_000)
