"""The import list's Qt side: the list model checked by Qt's model tester while rows come,
change and go; the row widgets showing only what the model says; their buttons and the
list's context menu (the merge actions, wherever a row is right-clicked)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable

from gui.qt_helpers import drop_files, wait_read
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QAbstractItemModelTester, QTest
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QWidget
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.gui.import_model import ImportListModel, ImportRow, Role
from desktop_app.gui.import_panel import ImportPanel
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.workers import Workers
from desktop_app.import_list import IllegalTransition, ImportEntry, ImportList, describe
from desktop_app.importing import ImportedFile, import_file

TIANMA = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"
AIM = "aim_csv/aim_format_example.csv"


@functools.cache
def _tianma() -> ImportedFile:
    return import_file(logger_file(TIANMA))


def _roles(model: ImportListModel, row: int) -> dict[str, object]:
    index = model.index(row, 0)
    return {role.name.lower(): index.data(role) for role in Role if role is not Role.ENTRY}


def test_the_model_stays_valid_while_rows_come_change_and_go(qtmodeltester: object) -> None:
    items = ImportList()
    model = ImportListModel(items)
    qtmodeltester.check(model)  # type: ignore[attr-defined]  # empty; then it checks every change
    inserted: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    changed: list[int] = []
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    model.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    model.dataChanged.connect(lambda top, bottom, *_: changed.extend(range(top.row(), bottom.row() + 1)))

    path = logger_file(TIANMA)
    a, b, c = ImportEntry(path), ImportEntry(path, title="merged: x + y", merged_from=(path, path)), ImportEntry(path)
    for e in (a, b, c):
        items.append(e)
    assert inserted == [(0, 0), (1, 1), (2, 2)] and model.rowCount() == 3
    assert model.rowCount(model.index(0, 0)) == 0, "a list has no children"
    assert _roles(model, 0) == {
        "title": path.name,
        "state": "reading",
        "status": "reading…",
        "progress": None,
        "duplicate": None,
        "error": None,
        "offers": ["Cancel"],
    }
    assert model.data(model.index(1, 0)) == "merged: x + y"
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole) == f"{path}\n{path}"
    assert model.index(2, 0).data(Role.ENTRY) is c

    a.set_progress(0.4)
    imported = _tianma()
    a.read_finished(imported, describe(imported))
    c.read_failed(f"{path}: line 7: not a number")
    a.set_duplicate("already in catalogue: session 3 'Tianma'")
    a.save_started()
    a.save_failed("save failed: [Errno 28] No space left on device", session_id=3)
    assert changed == [0, 0, 2, 0, 0, 0]
    assert _roles(model, 0) == {
        "title": path.name,
        "state": "save-failed",
        "status": "save failed: [Errno 28] No space left on device",
        "progress": 0.4,
        "duplicate": "already in catalogue: session 3 'Tianma'",
        "error": "save failed: [Errno 28] No space left on device",
        "offers": ["Retry", "Discard"],
    }
    assert _roles(model, 2)["error"] == f"{path}: line 7: not a number"
    assert f"{len(imported.draft.laps)} laps" in describe(imported)

    items.remove(b)
    assert removed == [(1, 1)] and model.rowCount() == 2
    assert model.index(1, 0).data(Role.ENTRY) is c
    a.retry()  # row 0 still
    assert changed[-1] == 0 and model.index(0, 0).data(Role.STATE) == "saving"
    b.cancelled()  # not in the list any more: the model hears nothing
    assert changed[-1] == 0 and len(changed) == 7
    items.remove(a)
    items.remove(c)
    assert model.rowCount() == 0 and not model.index(0, 0).isValid()
    assert model.data(QModelIndex()) is None


_EVENTS: dict[str, Callable[[ImportEntry], None]] = {
    "progress": lambda e: e.set_progress(0.5),
    "read": lambda e: e.read_finished(_tianma(), describe(_tianma())),
    "read_failed": lambda e: e.read_failed(f"{e.path}: line 2: no header"),
    "cancelled": lambda e: e.cancelled(),
    "duplicate": lambda e: e.set_duplicate("already in catalogue: session 1 'x'"),
    "save_started": lambda e: e.save_started(),
    "saved": lambda e: e.saved(4, "telemetry/4.parquet"),
    "save_failed": lambda e: e.save_failed("save failed: disk full", session_id=4),
    "retry": lambda e: e.retry(),
    "discard_started": lambda e: e.discard_started(),
    "discarded": lambda e: e.discarded(),
}
_OPS = st.one_of(
    st.just(("add", 0, "")),
    st.tuples(st.just("remove"), st.integers(0, 5), st.just("")),
    st.tuples(st.just("event"), st.integers(0, 5), st.sampled_from(sorted(_EVENTS))),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_OPS, max_size=30))
def test_the_model_follows_any_sequence_of_changes(qapp: QApplication, ops: list[tuple[str, int, str]]) -> None:
    items = ImportList()
    model = ImportListModel(items)
    # Qt's own tester checks every signal the model sends; a broken promise is a
    # "qt.modeltest" warning, which fails the test
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    path = logger_file(TIANMA)
    for op, n, name in ops:
        if op == "add":
            items.append(ImportEntry(path))
        elif op == "remove" and len(items):
            items.remove(items[n % len(items)])
        elif op == "event" and len(items):
            with contextlib.suppress(IllegalTransition):
                _EVENTS[name](items[n % len(items)])
        assert model.rowCount() == len(items)
        for row, entry in enumerate(items):
            index = model.index(row, 0)
            assert index.data(Role.ENTRY) is entry
            assert (index.data(Role.STATE), index.data(Role.STATUS)) == (entry.state.value, entry.status)
            assert index.data(Role.OFFERS) == [i.value for i in entry.offers]
    del tester


def test_a_row_widget_shows_what_the_model_holds(qtbot: QtBot, workers: Workers) -> None:
    panel = ImportPanel(workers)
    qtbot.addWidget(panel)
    panel.resize(380, 500)
    panel.show()
    path = logger_file(TIANMA)
    entry = panel.add_file(path)
    row = panel.row(entry)
    assert row.cancel.isVisibleTo(panel) and not row.retry.isVisibleTo(panel)
    assert row.progress.isVisibleTo(panel) and row.status.text() == "reading…"
    qtbot.waitUntil(lambda: entry.state == "ready", timeout=30_000)
    assert row.status.text() == describe(_tianma())
    assert not row.cancel.isVisibleTo(panel) and not row.progress.isVisibleTo(panel)
    assert row.name.text() == f"<b>{path.name}</b>" and row.name.toolTip() == str(path)
    entry.save_started()
    entry.save_failed("save failed: disk full <sda1>", session_id=9)
    assert row.status.text() == "save failed: disk full <sda1>"
    assert "#d03030" in row.status.styleSheet(), "an error is drawn in red"
    assert row.retry.isVisibleTo(panel) and row.discard.isVisibleTo(panel)
    # the buttons only say what the user wants; the panel hands it on
    with qtbot.waitSignal(panel.retryRequested) as retry:
        QTest.mouseClick(row.retry, Qt.MouseButton.LeftButton)
    assert retry.args == [entry] and entry.state == "save-failed", "the panel does not save"
    with qtbot.waitSignal(panel.discardRequested) as discard:
        QTest.mouseClick(row.discard, Qt.MouseButton.LeftButton)
    assert discard.args == [entry]
    entry.discard_started()
    assert not row.retry.isVisibleTo(panel) and not row.discard.isVisibleTo(panel)
    entry.discarded()
    assert row.status.text() == "save discarded (the draft is still here; Save to try again)"
    assert row.status.styleSheet() == ""
    # a removed row's widget goes with it
    panel.remove(entry)
    qtbot.waitUntil(lambda: not panel.findChildren(ImportRow), timeout=5_000)
    assert panel.model.rowCount() == 0


def test_rows_are_as_tall_as_their_wrapped_text_needs(qtbot: QtBot, workers: Workers) -> None:
    panel = ImportPanel(workers)
    qtbot.addWidget(panel)
    panel.resize(300, 600)
    panel.show()
    entry = panel.add_file(logger_file(TIANMA))
    qtbot.waitUntil(lambda: entry.state == "ready", timeout=30_000)
    index = panel.model.index_of(entry)
    short = panel.list.visualRect(index).height()
    entry.save_started()
    entry.save_failed("save failed: " + "a long reason that has to wrap " * 12)
    qtbot.waitUntil(lambda: panel.list.visualRect(index).height() > short, timeout=5_000)
    row = panel.row(entry)
    assert row.geometry() == panel.list.visualRect(index), "the widget covers its row"
    assert row.status.height() >= 3 * row.status.fontMetrics().height(), "the whole error is visible"
    # narrower, the text wraps to more lines: the row grows again
    tall = panel.list.visualRect(index).height()
    panel.resize(200, 600)
    qtbot.waitUntil(lambda: panel.list.visualRect(index).height() > tall, timeout=5_000)
    assert row.geometry() == panel.list.visualRect(index)
    assert row.width() <= panel.list.viewport().width(), "never wider than the list"


def _right_click(qtbot: QtBot, label: QLabel) -> QMenu:
    """A right-click as the window system delivers it: the press, then the menu event."""
    pos = label.rect().center()
    QTest.mousePress(label, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, pos)
    QTest.mouseRelease(label, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, pos)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, label.mapToGlobal(pos))
    QApplication.sendEvent(label, event)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=5_000)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    return menu


def _close(qtbot: QtBot, menu: QWidget) -> None:
    menu.close()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=5_000)


def test_right_clicking_a_file_row_offers_the_merge_actions(qtbot: QtBot, window: MainWindow) -> None:
    window.show()
    qtbot.waitExposed(window)
    drop_files(window, [logger_file(AIM), logger_file(TIANMA)])
    first, second = wait_read(qtbot, window, 2)
    flow = window.merge_flow
    texts = [a.text() for a in flow.actions]
    panel = window.imports

    # on the title of a row: the row is selected and the menu is the list's, not a text menu
    menu = _right_click(qtbot, panel.row(second).name)
    assert menu is panel.menu
    assert [a.text() for a in menu.actions()] == texts
    assert panel.current() is second
    assert not flow.merge_action.isEnabled(), "one file selected: nothing to merge"
    _close(qtbot, menu)

    # on the status text of another row, with both files selected
    panel.list.selectAll()
    menu = _right_click(qtbot, panel.row(first).status)
    assert menu is panel.menu and [a.text() for a in menu.actions()] == texts
    assert panel.selected() == [first, second], "a right-click keeps the selection it lands in"
    merge = next(a for a in menu.actions() if a is flow.merge_action)
    assert merge.isEnabled()
    # choose Merge in the menu: the two files of different runs are refused in a new row
    with qtbot.waitSignal(merge.triggered, timeout=5_000):
        QTest.mouseClick(
            menu, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, menu.actionGeometry(merge).center()
        )
    qtbot.waitUntil(lambda: len(panel.entries) == 3 and panel.entries[2].state != "reading", timeout=60_000)
    merged = panel.entries[2]
    assert merged.merged_from == (first.path, second.path) or merged.merged_from == (second.path, first.path)
    assert merged.state == "failed" and merged.error is not None and "cannot merge" in merged.error
    assert panel.row(merged).status.text() == merged.error
    qtbot.waitUntil(lambda: panel.menu is None, timeout=5_000)


def test_right_clicking_below_the_rows_offers_the_same_menu(qtbot: QtBot, window: MainWindow) -> None:
    window.show()
    qtbot.waitExposed(window)
    viewport = window.imports.list.viewport()
    pos = QPoint(20, viewport.height() - 10)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos)))
    qtbot.waitUntil(lambda: window.imports.menu is not None, timeout=5_000)
    menu = window.imports.menu
    assert menu is not None
    assert [a.text() for a in menu.actions()] == [a.text() for a in window.merge_flow.actions]
    assert not any(a.isEnabled() for a in menu.actions()), "no file: nothing to do"
    _close(qtbot, menu)
