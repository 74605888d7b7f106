"""The lap table model and widget, on laps built from real logger files."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QFont
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from reallaps import RealSession, aim_session, racechrono_session, with_distance_sectors

from desktop_app.analysis.formatting import format_delta, format_lap_time, format_sector_time, format_speed
from desktop_app.gui.lap_table import SORT_ROLE, LapTableModel, LapTableWidget


@pytest.fixture
def aim() -> RealSession:
    """The AiM file's 16 laps (import_file), with sector times measured on each timed lap."""
    return with_distance_sectors(aim_session())


@pytest.fixture
def model(aim: RealSession) -> LapTableModel:
    m = LapTableModel()
    m.set_laps(aim.records)
    return m


def test_qtmodeltester_real_empty_and_after_changes(qtmodeltester: ModelTester, aim: RealSession) -> None:
    model = LapTableModel()
    qtmodeltester.check(model)  # empty
    model.set_laps(aim.records)
    qtmodeltester.check(model)
    # fewer laps, and without sectors (the real file's lap 9 has automatic ones): fewer columns
    model.set_laps([dataclasses.replace(r, sectors_s=[]) for r in racechrono_session().records])
    assert (model.rowCount(), model.columnCount()) == (3, 7)
    qtmodeltester.check(model)
    model.set_laps([r for r in aim.records if not r.sectors_s])  # no sectors: fewer columns
    qtmodeltester.check(model)
    model.set_laps([])
    qtmodeltester.check(model)


def test_rows_columns_and_values(model: LapTableModel, aim: RealSession) -> None:
    assert model.rowCount() == 16  # out-lap, 14 timed laps, the in-lap to the end of the file
    assert model.columns() == ["lap", "kind", "time", "delta", "s1", "s2", "s3", "distance", "max_speed", "valid"]
    assert model.columnCount() == 10

    def cell(row: int, key: str) -> str:
        return str(model.data(model.index(row, model.column(key))))

    # lap 3: the file's beacon markers 211.432 -> 270.088
    row = model.row_of(3)
    assert cell(row, "lap") == "3"
    assert cell(row, "kind") == "flying"
    assert cell(row, "time") == "0:58.656"
    # best valid lap is 12 (58.510 in the file's Segment Times)
    assert model.best_valid_lap() is aim.records[12]
    assert cell(row, "delta") == "+0.146"
    assert cell(model.row_of(12), "delta") == "best"
    assert cell(row, "distance") == f"{aim.records[3].distance_m:.0f}"
    assert cell(row, "max_speed") == f"{aim.records[3].max_speed_kmh:.1f}"
    assert cell(model.row_of(0), "time") == "–"  # the out-lap is not timed
    assert cell(model.row_of(1), "time") == "1:11.928"
    assert cell(model.row_of(0), "kind") == "out"
    sectors = [float(cell(row, f"s{i}")) for i in (1, 2, 3)]
    assert sum(sectors) == pytest.approx(58.656, abs=0.002)
    # the slow lap 7 is proposed invalid with its reason as tooltip
    valid_col = model.column("valid")
    idx7 = model.index(model.row_of(7), valid_col)
    assert model.data(idx7) == "invalid"
    assert model.data(idx7, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    tip = model.data(idx7, Qt.ItemDataRole.ToolTipRole)
    assert "Proposed invalid" in tip and aim.records[7].reason in tip and "107 %" in tip
    assert model.flags(idx7) & Qt.ItemFlag.ItemIsUserCheckable


def test_speed_unit_converts_for_display_only(model: LapTableModel, aim: RealSession) -> None:
    col = model.column("max_speed")
    kmh = aim.records[3].max_speed_kmh
    assert kmh is not None
    model.set_speed_unit("mph")
    assert model.data(model.index(3, col)) == f"{kmh / 1.609344:.1f}"
    assert "mph" in model.headerData(col, Qt.Orientation.Horizontal)
    assert aim.records[3].max_speed_kmh == kmh
    with pytest.raises(ValueError, match="knots"):
        model.set_speed_unit("knots")


def test_sorting_is_numeric(qtbot: QtBot, aim: RealSession) -> None:
    widget = LapTableWidget()
    qtbot.addWidget(widget)
    widget.model().set_laps(aim.records)
    proxy = widget.proxy()
    model = widget.model()

    def sorted_by(key: str) -> list[float | None]:
        widget.view().sortByColumn(model.column(key), Qt.SortOrder.AscendingOrder)
        rows = [proxy.mapToSource(proxy.index(r, 0)).row() for r in range(proxy.rowCount())]
        recs = [model.lap_at(r) for r in rows]
        return [
            getattr(rec, {"time": "lap_time_s", "distance": "distance_m", "max_speed": "max_speed_kmh"}[key])
            for rec in recs
        ]

    for key in ("time", "distance", "max_speed"):
        values = sorted_by(key)
        present = [v for v in values if v is not None]
        assert present == sorted(present), key
        # untimed laps go last, not first
        assert values[len(present) :] == [None] * (len(values) - len(present))
    # distance strings do not sort like numbers here ("97" > "1102" as text): the proxy must
    distances = sorted_by("distance")
    assert distances[0] == pytest.approx(aim.records[15].distance_m)
    assert str(distances[0]) > str(distances[-1])
    assert isinstance(model.data(model.index(0, model.column("time")), SORT_ROLE), float)


def test_checkbox_sets_user_valid_and_emits(qtbot: QtBot, model: LapTableModel, aim: RealSession) -> None:
    row = model.row_of(12)
    idx = model.index(row, model.column("valid"))
    assert model.data(idx, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    with qtbot.waitSignal(model.userValidityChanged, timeout=1000) as blocker:
        assert model.setData(idx, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert blocker.args == [12, False]
    assert aim.records[12].user_valid is False
    assert aim.records[12].proposed_valid is True  # the proposal is untouched
    assert model.data(idx, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert model.data(idx) == "valid (overridden)"
    # the best valid lap moves to the next fastest valid one, lap 11 (58.622)
    assert model.best_valid_lap() is aim.records[11]
    assert model.data(model.index(row, model.column("delta"))) == f"{58.510 - 58.622:+.3f}"
    # ticking the proposed-invalid lap 7 makes it valid by the user's decision
    with qtbot.waitSignal(model.userValidityChanged, timeout=1000) as blocker:
        model.setData(
            model.index(model.row_of(7), model.column("valid")), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole
        )
    assert blocker.args == [7, True]
    assert aim.records[7].user_valid is True and aim.records[7].proposed_valid is False
    # other columns are not editable through setData
    assert not model.setData(model.index(row, model.column("time")), 1.0, Qt.ItemDataRole.EditRole)


def test_best_lap_highlighted_and_partial_laps_dimmed(model: LapTableModel, aim: RealSession) -> None:
    model.set_laps(aim.records)
    best_row = model.row_of(12)
    font = model.data(model.index(best_row, 2), Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert model.data(model.index(best_row, 2), Qt.ItemDataRole.BackgroundRole) is not None
    other = model.row_of(3)
    assert model.data(model.index(other, 2), Qt.ItemDataRole.FontRole) is None
    assert model.data(model.index(other, 2), Qt.ItemDataRole.BackgroundRole) is None
    # out-lap and partial last lap are greyed; timed laps use the normal text colour
    assert model.data(model.index(model.row_of(0), 0), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(model.row_of(15), 0), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(other, 0), Qt.ItemDataRole.ForegroundRole) is None


def test_selecting_laps_emits_lap_numbers_in_order(qtbot: QtBot, aim: RealSession) -> None:
    widget = LapTableWidget()
    qtbot.addWidget(widget)
    widget.model().set_laps(aim.records)
    view = widget.view()
    view.sortByColumn(widget.model().column("time"), Qt.SortOrder.AscendingOrder)
    sel = view.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    with qtbot.waitSignal(widget.selectedLapsChanged, timeout=1000) as blocker:
        sel.select(widget.proxy().index(0, 0), flags)  # fastest: lap 12
    assert blocker.args == [[12]]
    with qtbot.waitSignal(widget.selectedLapsChanged, timeout=1000) as blocker:
        sel.select(widget.proxy().index(1, 0), flags)  # next: lap 11
    assert blocker.args == [[12, 11]]
    with qtbot.waitSignal(widget.selectedLapsChanged, timeout=1000) as blocker:
        sel.select(
            widget.proxy().index(0, 0),
            QItemSelectionModel.SelectionFlag.Deselect | QItemSelectionModel.SelectionFlag.Rows,
        )
    assert blocker.args == [[11]]
    with qtbot.waitSignal(widget.selectedLapsChanged, timeout=1000) as blocker:
        widget.select_laps([5, 3, 99])
    assert blocker.args == [[5, 3]]
    assert widget.selected_laps() == [5, 3]
    rows = {widget.proxy().mapToSource(i).row() for i in sel.selectedRows()}
    assert rows == {widget.model().row_of(5), widget.model().row_of(3)}
    with qtbot.waitSignal(widget.selectedLapsChanged, timeout=1000) as blocker:
        widget.model().set_laps(racechrono_session().records)
    assert blocker.args == [[]]


def test_display_formatting() -> None:
    assert format_lap_time(83.4567) == "1:23.457"
    assert format_lap_time(59.9996) == "1:00.000"  # rounding carries into the minutes
    assert format_lap_time(605.0) == "10:05.000"
    assert format_lap_time(None) == format_lap_time(float("nan")) == "–"
    assert format_delta(0.4121) == "+0.412"
    assert format_delta(-1.0) == "-1.000"
    assert format_delta(75.5) == "+1:15.500"
    assert format_sector_time(23.4567) == "23.457"
    assert format_speed(160.9344, "mph") == "100.0"
    assert format_speed(160.9344, "km/h") == "160.9"


def _best_cells(model: LapTableModel) -> dict[str, int]:
    """Sector column -> the lap number whose cell is highlighted in it."""
    from desktop_app.gui.lap_table import BEST_SECTOR_COLOUR

    found: dict[str, int] = {}
    for key in (k for k in model.columns() if k.startswith("s") and k[1:].isdigit()):
        for row in range(model.rowCount()):
            brush = model.data(model.index(row, model.column(key)), Qt.ItemDataRole.BackgroundRole)
            if brush is not None and brush.color() == BEST_SECTOR_COLOUR:
                assert key not in found, f"two best cells in {key}"
                found[key] = model.lap_at(row).lap_number
    return found


def test_ideal_lap_and_best_sectors_highlighted(qtbot: QtBot, aim: RealSession) -> None:
    widget = LapTableWidget()
    qtbot.addWidget(widget)
    model = widget.model()
    model.set_laps(aim.records)
    full = [r for r in aim.records if r.complete and r.valid and len(r.sectors_s) == 3]
    assert len(full) >= 10
    best = {f"s{i + 1}": min(full, key=lambda r: r.sectors_s[i]) for i in range(3)}
    # the highlighted cell of each sector column is the fastest of the valid laps
    assert _best_cells(model) == {k: r.lap_number for k, r in best.items()}
    ideal = sum(best[f"s{i + 1}"].sectors_s[i] for i in range(3))
    assert model.ideal_lap_s() == pytest.approx(ideal)
    # no lap beats the ideal lap; the best lap (58.510) is not faster than it
    assert ideal <= 58.510 + 1e-9
    assert format_lap_time(ideal) in widget.ideal_label.text()
    assert "to best lap 12" in widget.ideal_label.text()
    assert not widget.ideal_label.isHidden()

    # the engineer rules out the lap holding the best S1: the highlight and the ideal lap follow
    s1_lap = best["s1"].lap_number
    model.set_user_valid(s1_lap, False)
    rest = [r for r in full if r.lap_number != s1_lap]
    new_s1 = min(rest, key=lambda r: r.sectors_s[0])
    assert _best_cells(model)["s1"] == new_s1.lap_number != s1_lap
    assert model.ideal_lap_s() == pytest.approx(ideal - best["s1"].sectors_s[0] + new_s1.sectors_s[0])
    assert format_lap_time(model.ideal_lap_s()) in widget.ideal_label.text()
    # a best cell is bold and says why in its tooltip
    row = model.row_of(new_s1.lap_number)
    assert model.data(model.index(row, model.column("s1")), Qt.ItemDataRole.FontRole).bold()
    assert "ideal lap" in model.data(model.index(row, model.column("s1")), Qt.ItemDataRole.ToolTipRole)


def test_no_sectors_no_ideal_lap(qtbot: QtBot) -> None:
    widget = LapTableWidget()
    qtbot.addWidget(widget)
    widget.model().set_laps([dataclasses.replace(r, sectors_s=[]) for r in racechrono_session().records])
    assert widget.model().ideal_lap_s() is None
    assert _best_cells(widget.model()) == {}
    assert "no sector times" in widget.ideal_label.text()
