"""The sessions browser on a real catalogue: list, filter, reopen lap by lap, edit, delete."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.catalogue import Catalogue
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import DELTA_KEY
from desktop_app.gui.sessions_browser import SessionListModel
from desktop_app.importing import import_file
from storage.db.catalog import list_sessions, load_session
from storage.sessions import save_session

AIM = "aim_csv/aim_format_example.csv"
TIANMA = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"


@pytest.fixture
def saved_ids(catalogue: Catalogue) -> dict[str, int]:
    """Two real files saved through the real pipeline, with different drivers."""
    ids: dict[str, int] = {}
    for key, rel, driver in (("aim", AIM, "Alice"), ("tianma", TIANMA, "Bob")):
        draft = import_file(logger_file(rel)).draft
        draft.driver = driver
        ids[key] = save_session(draft, catalogue.engine, catalogue.storage)
    return ids


def _listed(window: MainWindow) -> list[int]:
    model = window.browser.model
    return [model.session_at(r).id for r in range(model.rowCount())]


def _refresh(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.browser.listed, timeout=10_000):
        window.browser.refresh()


def test_lists_and_filters_saved_sessions(
    qtbot: QtBot, window: MainWindow, saved_ids: dict[str, int], qtmodeltester: ModelTester
) -> None:
    _refresh(qtbot, window)
    assert sorted(_listed(window)) == sorted(saved_ids.values())
    qtmodeltester.check(window.browser.model)
    assert [window.browser.driver.itemText(i) for i in range(window.browser.driver.count())] == [
        "(any)",
        "Alice",
        "Bob",
    ]
    with qtbot.waitSignal(window.browser.listed, timeout=10_000):
        window.browser.driver.setCurrentText("Bob")
    assert _listed(window) == [saved_ids["tianma"]]
    with qtbot.waitSignal(window.browser.listed, timeout=10_000):
        window.browser.driver.setCurrentIndex(0)
    # AiM file is from 2022, Tianma from 2025: a date filter from 2025 keeps Tianma only
    window.browser.since.setDate(QDate(2025, 1, 1))
    with qtbot.waitSignal(window.browser.listed, timeout=10_000):
        window.browser.use_since.setChecked(True)
    assert _listed(window) == [saved_ids["tianma"]]


def test_model_is_a_valid_item_model(
    qtmodeltester: ModelTester, catalogue: Catalogue, saved_ids: dict[str, int]
) -> None:
    model = SessionListModel()
    model.set_sessions(list_sessions(catalogue.engine))
    qtmodeltester.check(model)
    assert model.rowCount() == 2


def test_reopening_a_session_shows_the_same_laps(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, saved_ids: dict[str, int]
) -> None:
    sid = saved_ids["aim"]
    saved = load_session(catalogue.engine, sid)
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000) as shown:
        window.open_session(sid)
    table = window.view.table.model()
    assert [table.lap_at(r).lap_number for r in range(table.rowCount())] == [lap.lap_number for lap in saved.laps]
    assert [table.lap_at(r).lap_time_s for r in range(table.rowCount())] == [lap.lap_time_s for lap in saved.laps]
    best = table.best_valid_lap()
    assert best is not None and shown.args == [[best.lap_number]]
    # the curves come from the Parquet file, read lap by lap
    original = import_file(logger_file(AIM)).draft
    want = next(lap for lap in original.telemetry.laps if lap.lap_number == best.lap_number)
    [curve] = window.view.preview.plots.curves("speed")
    assert curve.y.size == int((~__import__("numpy").isnan(want.channels["speed"])).sum())
    assert window.form.name.text() == saved.summary.name
    assert window.form.apply.isVisible() or window.form.apply.isVisibleTo(window)
    assert not window.save_button.isEnabled(), "a saved session is not saved again"
    # selecting two other laps reads just those laps
    others = [lap.lap_number for lap in saved.laps if lap.lap_number != best.lap_number][:2]
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000) as shown:
        window.view.table.select_laps(others)
    assert shown.args == [others]
    assert len(window.view.preview.plots.curves("speed")) == 3


def test_lap_validity_and_fields_of_a_saved_session_are_stored(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, saved_ids: dict[str, int]
) -> None:
    sid = saved_ids["aim"]
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.open_session(sid)
    model = window.view.table.model()
    lap = model.lap_at(2)
    decision = not lap.valid
    with qtbot.waitSignal(window.workers.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        model.set_user_valid(lap.lap_number, decision)
    stored = next(x for x in load_session(catalogue.engine, sid).laps if x.lap_number == lap.lap_number)
    assert stored.user_valid is decision

    window.form.name.setText("Renamed")
    window.form.name.textEdited.emit("Renamed")
    window.form.notes.setPlainText("wet track")
    assert window.form.apply.isEnabled()
    with qtbot.waitSignal(window.workers.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        window.form.apply.click()
    saved = load_session(catalogue.engine, sid)
    assert (saved.summary.name, saved.notes) == ("Renamed", "wet track")


def test_delete_asks_first(
    qtbot: QtBot,
    window: MainWindow,
    catalogue: Catalogue,
    saved_ids: dict[str, int],
    answer: Callable[[QWidget, str], None],
) -> None:
    sid = saved_ids["tianma"]
    _refresh(qtbot, window)
    row = _listed(window).index(sid)
    window.browser.view.selectRow(row)
    window.browser.delete_button.click()
    answer(window.browser, "Cancel")
    assert sid in [s.id for s in list_sessions(catalogue.engine)]
    window.browser.delete_button.click()
    with qtbot.waitSignal(window.browser.deleted, timeout=10_000):
        answer(window.browser, "Delete")
    assert sid not in [s.id for s in list_sessions(catalogue.engine)]
    assert not catalogue.storage.exists(sid)
    qtbot.waitUntil(lambda: sid not in _listed(window), timeout=10_000)


def test_reopening_a_damaged_session_says_so_and_drops_the_previous_laps(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, saved_ids: dict[str, int]
) -> None:
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.open_session(saved_ids["tianma"])
    assert window.view.preview.plots.curves("speed"), "the first session is drawn"
    damaged = catalogue.storage.path_for(saved_ids["aim"])
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 3])  # a truncated file: no Parquet footer
    with qtbot.waitSignal(window.view.readFailed, timeout=20_000) as failed:
        window.open_session(saved_ids["aim"])
    assert f"session {saved_ids['aim']}" in failed.args[0]
    qtbot.waitUntil(lambda: failed.args[0] in window.statusBar().currentMessage(), timeout=5000)
    assert window.view.preview.plotted_channels() == [], "the previous session's laps are gone"
    assert "Cannot read" in window.view.preview.readout.text()


def test_a_lap_of_another_session_joins_the_overlay_or_becomes_the_reference(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, saved_ids: dict[str, int]
) -> None:
    from PySide6.QtWidgets import QInputDialog

    from desktop_app.analysis.delta import delta_time

    aim = saved_ids["aim"]
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.open_session(saved_ids["tianma"])
    preview = window.view.preview
    local = [c.label for c in preview.plots.curves("speed")]
    # from the browser: the user picks AiM's lap 5 in the lap dialog
    _refresh(qtbot, window)
    row = next(r for r in range(window.browser.model.rowCount()) if window.browser.model.session_at(r).id == aim)
    window.browser.view.selectRow(row)
    window.browser.compare_button.click()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(QInputDialog)), timeout=10_000)
    dialog = next(d for d in window.findChildren(QInputDialog) if d.isVisible())
    item = next(t for t in dialog.comboBoxItems() if t.startswith("Lap 5 "))
    dialog.setTextValue(item)
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        dialog.accept()
    labels = [c.label for c in preview.plots.curves("speed")]
    assert labels == [*local, f"S{aim} lap 5"]
    want = catalogue.storage.read_lap(aim, 5)
    assert want is not None
    curve = preview.plots.curves("speed")[-1]
    np.testing.assert_array_equal(curve.y, want.channels["speed"][np.isfinite(want.channels["speed"])])
    # the same lap as the reference: the delta is measured against it
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.view.compare_lap(catalogue.storage, aim, 5, as_reference=True)
    assert preview.plots.plot(DELTA_KEY).getAxis("left").labelText == f"Δt to S{aim} lap 5 [s]"
    name = local[0].removesuffix(" (ref)")  # the session's own best lap, no longer the reference
    index = next(i for i in range(len(preview.shown_laps())) if preview.lap_name(i) == name)
    trace = delta_time(preview.shown_laps()[index], want)
    delta_curve = next(c for c in preview.plots.curves(DELTA_KEY) if c.label == name)
    np.testing.assert_allclose(delta_curve.y, trace.delta[np.isfinite(trace.delta)])
    with qtbot.waitSignal(window.view.lapsShown, timeout=10_000):
        window.view.clear_compared()  # drawn in the next event-loop turn
    assert [c.label for c in preview.plots.curves("speed")] == local
