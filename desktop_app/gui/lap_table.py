"""The lap table: one row per lap, its timing, and the user's validity decision.

``LapTableModel`` is a thin view of a list of :class:`storage.types.LapRecord`; the only
thing it changes in them is ``user_valid`` (the user's decision, kept apart from the
proposal). ``LapTableWidget`` wraps it in a sortable view, shows the ideal lap (the sum of
the best sector times, docs/laps.md#sectors) above it and reports the selected laps. The
best time of each sector is highlighted in its column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QMouseEvent, QPalette
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QVBoxLayout, QWidget

from desktop_app.analysis.formatting import (
    MISSING,
    SpeedUnit,
    check_speed_unit,
    format_delta,
    format_distance,
    format_lap_time,
    format_sector_time,
    format_speed,
)
from desktop_app.gui.tables import fit_columns
from desktop_app.laps import ideal_lap
from storage.types import LapRecord

#: Role holding a column's value as a number (or text for "kind") for sorting.
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: Kinds shown greyed out: not a full timed lap.
DIMMED_KINDS = frozenset({"out", "in", "partial", "pit"})
#: the tint of a sector's best time: timing screens show the fastest sector in purple
BEST_SECTOR_COLOUR = QColor(150, 60, 200, 90)

_Index = QModelIndex | QPersistentModelIndex


def _num(value: float | None) -> float:
    """Sort key: missing values sort after every real number."""
    return math.inf if value is None or not math.isfinite(value) else float(value)


class LapTableModel(QAbstractTableModel):
    """Laps as table rows: number, kind, time, delta to best, sectors, distance, max speed,
    validity. The validity column shows the proposal (its reason as tooltip) and a checkbox
    holding the user's decision."""

    #: (lap_number, user_valid: bool | None) after the user changed a lap's validity
    userValidityChanged = Signal(int, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._laps: list[LapRecord] = []
        self._sectors = 0
        self._columns = self._column_keys()
        self._speed_unit: SpeedUnit = "km/h"
        self._best: LapRecord | None = None
        #: per sector, the lap holding its best time among the laps the ideal lap sums
        self._best_sectors: list[LapRecord | None] = []

    # --- public API -------------------------------------------------------------------
    def set_laps(self, laps: Sequence[LapRecord]) -> None:
        """Show these laps (the model keeps the objects and writes ``user_valid`` into them)."""
        self.beginResetModel()
        self._laps = list(laps)
        self._sectors = max((len(lap.sectors_s) for lap in self._laps), default=0)
        self._columns = self._column_keys()
        self._best = self._find_best()
        self._best_sectors = self._find_best_sectors()
        self.endResetModel()

    def laps(self) -> list[LapRecord]:
        """The laps in model (row) order."""
        return list(self._laps)

    def lap_at(self, row: int) -> LapRecord:
        """The lap shown in source-model row ``row``."""
        return self._laps[row]

    def row_of(self, lap_number: int) -> int:
        """The row of a lap number, or -1."""
        for row, lap in enumerate(self._laps):
            if lap.lap_number == lap_number:
                return row
        return -1

    def best_valid_lap(self) -> LapRecord | None:
        """The fastest complete, timed lap that is valid (the user's decision first)."""
        return self._best

    def ideal_lap_s(self) -> float | None:
        """The sum of the best sector times of the valid complete laps (the user's validity
        decisions count); None without sectors."""
        return ideal_lap(self._laps)

    def best_sector_laps(self) -> list[int | None]:
        """Per sector, the number of the lap holding its best time (None: no such lap)."""
        return [None if lap is None else lap.lap_number for lap in self._best_sectors]

    def set_speed_unit(self, unit: str) -> None:
        """Show max speed in ``"km/h"`` or ``"mph"`` (the laps keep km/h)."""
        self._speed_unit = check_speed_unit(unit)
        col = self.column("max_speed")
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, col, col)
        if self._laps:
            self.dataChanged.emit(self.index(0, col), self.index(len(self._laps) - 1, col))

    def speed_unit(self) -> SpeedUnit:
        return self._speed_unit

    def set_user_valid(self, lap_number: int, valid: bool | None) -> None:
        """Record the user's decision for a lap (None: back to the proposal)."""
        row = self.row_of(lap_number)
        if row < 0:
            raise KeyError(f"no lap {lap_number} in the table")
        lap = self._laps[row]
        if lap.user_valid is valid:
            return
        lap.user_valid = valid
        best = self._find_best()
        best_sectors = self._find_best_sectors()
        if best is not self._best or best_sectors != self._best_sectors:
            # best lap or a best sector moved: every delta and the highlights change
            self._best = best
            self._best_sectors = best_sectors
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._laps) - 1, self.columnCount() - 1))
        else:
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        self.userValidityChanged.emit(lap_number, valid)

    def text(self, row: int, column: int) -> str:
        """What the cell at source ``row``, ``column`` shows."""
        return self._display(self._laps[row], self._columns[column])

    def columns(self) -> list[str]:
        """Column keys: lap, kind, time, delta, s1..sN, distance, max_speed, valid."""
        return list(self._columns)

    def _column_keys(self) -> tuple[str, ...]:
        sectors = [f"s{i + 1}" for i in range(self._sectors)]
        return ("lap", "kind", "time", "delta", *sectors, "distance", "max_speed", "valid")

    def column(self, key: str) -> int:
        """The column index of a key of :meth:`columns` (ValueError if absent)."""
        return self._columns.index(key)

    # --- Qt model API -----------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._laps)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 7 + self._sectors

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.columnCount():
            return None
        key = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._title(key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(key, f"sector {key[1:]} time")
        return None

    def _title(self, key: str) -> str:
        titles = {
            "lap": "Lap",
            "kind": "Kind",
            "time": "Lap time",
            "delta": "Δ best",
            "distance": "Distance [m]",
            "max_speed": f"Max speed [{self._speed_unit}]",
            "valid": "Valid",
        }
        return titles.get(key, key.upper())

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == self.columnCount() - 1:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._laps):
            return None
        lap = self._laps[index.row()]
        key = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(lap, key)
        if role == SORT_ROLE:
            return self._sort_value(lap, key)
        if role == Qt.ItemDataRole.CheckStateRole and key == "valid":
            return Qt.CheckState.Checked if lap.valid else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(lap, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and key not in ("kind", "valid"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        best_sector = self._is_best_sector(lap, key)
        if role == Qt.ItemDataRole.FontRole and (lap is self._best or best_sector):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole and best_sector:
            return QBrush(BEST_SECTOR_COLOUR)
        if role == Qt.ItemDataRole.BackgroundRole and lap is self._best:
            highlight = QColor(QGuiApplication.palette().color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(70)  # a tint that reads on light and dark bases
            return QBrush(highlight)
        if role == Qt.ItemDataRole.ForegroundRole and lap.kind in DIMMED_KINDS:
            grey = QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            return QBrush(grey)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            not index.isValid()
            or role != Qt.ItemDataRole.CheckStateRole
            or index.column() != self.columnCount() - 1
            or not 0 <= index.row() < len(self._laps)
        ):
            return False
        state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(int(value))
        self.set_user_valid(self._laps[index.row()].lap_number, state == Qt.CheckState.Checked)
        return True

    # --- helpers ----------------------------------------------------------------------
    def _find_best(self) -> LapRecord | None:
        timed = [
            lap
            for lap in self._laps
            if lap.valid and lap.complete and lap.lap_time_s is not None and math.isfinite(lap.lap_time_s)
        ]
        return min(timed, key=lambda lap: (lap.lap_time_s, lap.lap_number), default=None)

    def _find_best_sectors(self) -> list[LapRecord | None]:
        # the laps ideal_lap sums over: valid, complete, with every sector
        full = [lap for lap in self._laps if lap.complete and lap.valid and len(lap.sectors_s) == self._sectors]
        if self._sectors == 0 or not full:
            return [None] * self._sectors
        return [min(full, key=lambda lap: (lap.sectors_s[i], lap.lap_number)) for i in range(self._sectors)]

    def _is_best_sector(self, lap: LapRecord, key: str) -> bool:
        if not (key.startswith("s") and key[1:].isdigit()):
            return False
        i = int(key[1:]) - 1
        return i < len(self._best_sectors) and self._best_sectors[i] is lap

    def _delta(self, lap: LapRecord) -> float | None:
        if self._best is None or self._best.lap_time_s is None or lap.lap_time_s is None:
            return None
        return lap.lap_time_s - self._best.lap_time_s

    def _sector(self, lap: LapRecord, key: str) -> float | None:
        i = int(key[1:]) - 1
        return lap.sectors_s[i] if i < len(lap.sectors_s) else None

    def _display(self, lap: LapRecord, key: str) -> str:
        if key == "lap":
            return str(lap.lap_number)
        if key == "kind":
            return lap.kind
        if key == "time":
            return format_lap_time(lap.lap_time_s)
        if key == "delta":
            return "best" if lap is self._best else format_delta(self._delta(lap))
        if key == "distance":
            return format_distance(lap.distance_m)
        if key == "max_speed":
            return format_speed(lap.max_speed_kmh, self._speed_unit)
        if key == "valid":
            proposal = "valid" if lap.proposed_valid else "invalid"
            return (
                proposal
                if lap.user_valid is None or lap.user_valid == lap.proposed_valid
                else f"{proposal} (overridden)"
            )
        value = self._sector(lap, key)
        return format_sector_time(value) if value is not None else MISSING

    def _sort_value(self, lap: LapRecord, key: str) -> float | str:
        if key == "lap":
            return float(lap.lap_number)
        if key == "kind":
            return lap.kind
        if key == "time":
            return _num(lap.lap_time_s)
        if key == "delta":
            return _num(self._delta(lap))
        if key == "distance":
            return _num(lap.distance_m)
        if key == "max_speed":
            return _num(lap.max_speed_kmh)
        if key == "valid":
            return 1.0 if lap.valid else 0.0
        return _num(self._sector(lap, key))

    def _tooltip(self, lap: LapRecord, key: str) -> str | None:
        if key == "valid":
            proposal = "valid" if lap.proposed_valid else "invalid"
            text = f"Proposed {proposal}: {lap.reason or 'no reason given'}"
            if lap.user_valid is not None:
                text += f"\nYour decision: {'valid' if lap.user_valid else 'invalid'}"
            return text
        if key == "kind" and not lap.complete:
            return "This lap is incomplete (the recording starts or ends inside it)."
        if self._is_best_sector(lap, key):
            return f"Best {key.upper()} of the valid laps (part of the ideal lap)"
        return None


_HEADER_TIPS = {
    "lap": "Lap number (0 is the out-lap before the first line crossing)",
    "kind": "out, flying, in, partial or pit",
    "time": "Lap time (m:ss.sss)",
    "delta": "Difference to the best valid lap",
    "distance": "Lap distance in metres",
    "max_speed": "Highest speed in the lap",
    "valid": "Proposed validity (reason in the tooltip); tick to decide yourself",
}


def ideal_text(model: LapTableModel) -> str:
    """What the ideal-lap line says: the ideal lap and how far it is from the best lap."""
    ideal = model.ideal_lap_s()
    if ideal is None:
        if model.columns().count("s1"):
            return "Ideal lap: —  (no valid complete lap has every sector time)"
        return "Ideal lap: —  (the laps have no sector times)"
    text = f"<b>Ideal lap {format_lap_time(ideal)}</b>"
    best = model.best_valid_lap()
    if best is not None and best.lap_time_s is not None:
        text += f"  ({format_delta(ideal - best.lap_time_s)} to best lap {best.lap_number})"
    return text + "  ·  best sectors highlighted"


class LapTableWidget(QWidget):
    """A sortable table of laps; selecting rows reports their lap numbers in click order."""

    #: lap numbers of the selected laps, in the order the user selected them
    selectedLapsChanged = Signal(list)

    def __init__(self, model: LapTableModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model if model is not None else LapTableModel(self)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self._model)
        self._proxy.setSortRole(SORT_ROLE)
        self._order: list[int] = []

        self._view = _LapView(self)
        self._view.setModel(self._proxy)
        self._view.setSortingEnabled(True)
        self._view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self._view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._view.setAlternatingRowColors(True)
        self._view.verticalHeader().setVisible(False)
        # the columns are sized once per change of laps (_fit_columns), not by the header's
        # ResizeToContents, which asks the model for every role of every cell on each reset
        self._view.horizontalHeader().setStretchLastSection(True)
        self._view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._model.modelReset.connect(self._on_reset)

        #: the ideal lap next to the table, following every change of laps or validity
        self.ideal_label = QLabel()
        self.ideal_label.setObjectName("idealLap")
        self.ideal_label.setToolTip(
            "Ideal lap: the sum of the best sector times of the valid complete laps (the highlighted cells)"
        )
        self._model.modelReset.connect(self._update_ideal)
        self._model.dataChanged.connect(self._update_ideal)
        self._model.modelReset.connect(self._fit_columns)
        self._model.headerDataChanged.connect(self._fit_columns)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.ideal_label)
        layout.addWidget(self._view)
        self._update_ideal()

    def _fit_columns(self, *_: object) -> None:
        # the best lap and the best sectors are set in bold: measured in bold
        last = self._model.columnCount() - 1  # the validity check box
        fit_columns(self._view, self._model, self._model.text, bold=True, check_columns={last})

    def _update_ideal(self, *_: object) -> None:
        self.ideal_label.setText(ideal_text(self._model))
        self.ideal_label.setVisible(self._model.rowCount() > 0)

    def model(self) -> LapTableModel:
        """The source model (the view shows it through a sort proxy)."""
        return self._model

    def view(self) -> QTableView:
        return self._view

    def proxy(self) -> QSortFilterProxyModel:
        return self._proxy

    def selected_laps(self) -> list[int]:
        """Selected lap numbers in selection order."""
        return list(self._order)

    def select_laps(self, lap_numbers: Sequence[int]) -> None:
        """Select exactly these laps (unknown numbers are ignored); emits once."""
        wanted = [n for n in dict.fromkeys(lap_numbers) if self._model.row_of(n) >= 0]
        selection = QItemSelection()
        last = self._model.columnCount() - 1
        for number in wanted:
            row = self._model.row_of(number)
            top = self._proxy.mapFromSource(self._model.index(row, 0))
            bottom = self._proxy.mapFromSource(self._model.index(row, last))
            selection.select(top, bottom)
        model = self._view.selectionModel()
        model.blockSignals(True)
        try:
            model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        finally:
            model.blockSignals(False)
        self._view.viewport().update()
        self._set_order(wanted)

    def _rows_to_laps(self, selection: QItemSelection) -> list[int]:
        numbers: list[int] = []
        for index in selection.indexes():
            if index.column() != 0:
                continue
            source = self._proxy.mapToSource(index)
            numbers.append(self._model.lap_at(source.row()).lap_number)
        return sorted(set(numbers), key=numbers.index)

    def _on_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        gone = set(self._rows_to_laps(deselected))
        order = [n for n in self._order if n not in gone]
        order += [n for n in self._rows_to_laps(selected) if n not in order]
        # keep only what is really selected (Qt may merge ranges)
        current = set(self._rows_to_laps(self._view.selectionModel().selection()))
        self._set_order([n for n in order if n in current] + sorted(current - set(order)))

    def _on_reset(self) -> None:
        self._set_order([])

    def _set_order(self, order: list[int]) -> None:
        if order != self._order:
            self._order = order
            self.selectedLapsChanged.emit(list(order))


class _LapView(QTableView):
    """The lap table's view: a click in the validity column toggles the lap's check box only.

    A plain QTableView also makes the clicked row the whole selection, which replaced the
    overlay of several laps by the one whose validity was changed.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._swallow_release = False

    def _validity_index(self, event: QMouseEvent) -> QModelIndex | None:
        if event.button() != Qt.MouseButton.LeftButton:
            return None
        index = self.indexAt(event.position().toPoint())
        if not index.isValid() or not index.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            return None
        return index

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self._validity_index(event)
        if index is None:
            super().mousePressEvent(event)
            return
        state = index.data(Qt.ItemDataRole.CheckStateRole)
        checked = state == Qt.CheckState.Checked or state == Qt.CheckState.Checked.value
        new = Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked
        self.model().setData(index, new, Qt.ItemDataRole.CheckStateRole)
        self._swallow_release = True
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._swallow_release:
            self._swallow_release = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._validity_index(event) is not None:
            self.mousePressEvent(event)  # a fast second click toggles again, like a check box
            return
        super().mouseDoubleClickEvent(event)
