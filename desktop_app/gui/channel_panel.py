"""The preview's channel list: a check box per channel, a search box, drag to reorder, and a
context menu to put a channel into another's graph.

It shows what :class:`desktop_app.analysis.preview_state.PreviewState` says and reports the
user's gestures as signals; it decides nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QVBoxLayout,
    QWidget,
)


class ChannelPanel(QWidget):
    """``toggled(name, on)``: the user ticked or unticked a channel; ``reordered(list)``:
    the user dragged a channel (the names in the list's new order); ``hostPicked(name,
    host)``: draw ``name`` in ``host``'s graph (``host`` "" = its own graph)."""

    toggled = Signal(str, bool)
    reordered = Signal(list)
    hostPicked = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search channels")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        # drag a channel up or down: the graphs follow the list's order
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        #: (the channels that have their own graph, which ones are guests) for the menu
        self.menu_choices: Callable[[], tuple[Sequence[str], set[str]]] = lambda: ([], set())
        self.list.model().rowsMoved.connect(self._on_moved)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemChanged.connect(self._on_changed)
        self.search.textChanged.connect(lambda _t: self.filter())

    def fill(self, channels: Sequence[tuple[str, str]], ticked: set[str]) -> None:
        """The list: (name, label) in order, ``ticked`` checked."""
        self.list.blockSignals(True)
        self.list.clear()
        for name, label in channels:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in ticked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.filter()

    def relabel(self, label: Callable[[str], str]) -> None:
        self.list.blockSignals(True)
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setText(label(str(item.data(Qt.ItemDataRole.UserRole))))
        self.list.blockSignals(False)

    def clear(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)

    def names(self) -> list[str]:
        return [str(self.list.item(r).data(Qt.ItemDataRole.UserRole)) for r in range(self.list.count())]

    def filter(self) -> None:
        """Show only the channels whose name holds every word typed (any case)."""
        words = self.search.text().lower().split()
        for row in range(self.list.count()):
            item = self.list.item(row)
            text = item.text().lower()
            item.setHidden(not all(w in text for w in words))

    def _on_changed(self, item: QListWidgetItem) -> None:
        self.toggled.emit(str(item.data(Qt.ItemDataRole.UserRole)), item.checkState() == Qt.CheckState.Checked)

    def _on_moved(self, *_: object) -> None:
        self.reordered.emit(self.names())

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        graphs, guests = self.menu_choices()
        menu = QMenu(self)
        into = menu.addMenu("Plot in the graph of")
        for other in graphs:
            if other != name:
                into.addAction(other, lambda other=other: self.hostPicked.emit(name, other))
        own = menu.addAction("Own graph", lambda: self.hostPicked.emit(name, ""))
        own.setEnabled(name in guests)
        menu.exec(self.list.viewport().mapToGlobal(pos))
