"""The import list for Qt: a list model over :class:`~desktop_app.import_list.ImportList`,
the row widget that shows one index, and the delegate that sizes and backs the rows.

The model only translates: each entry's title, state, status text, progress, duplicate
note, error and offered buttons are roles, and the Qt-free list's notifications become
``beginInsertRows``/``dataChanged``/... A row's widget reads everything it shows from its
index (never from the entry), and its buttons emit :attr:`ImportRow.intent` with what the
user asked for; the panel turns that into an event of the model. See
docs/architecture.md#the-import-list.
"""

from __future__ import annotations

import html
from enum import IntEnum
from typing import cast

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.import_list import ImportEntry, ImportList, Intent, State

Index = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    TITLE = Qt.ItemDataRole.UserRole + 1
    STATE = Qt.ItemDataRole.UserRole + 2
    STATUS = Qt.ItemDataRole.UserRole + 3
    #: the read's progress 0..1, None while unknown (a busy bar)
    PROGRESS = Qt.ItemDataRole.UserRole + 4
    DUPLICATE = Qt.ItemDataRole.UserRole + 5
    ERROR = Qt.ItemDataRole.UserRole + 6
    #: the buttons the row offers (their texts, :class:`~desktop_app.import_list.Intent`)
    OFFERS = Qt.ItemDataRole.UserRole + 7
    ENTRY = Qt.ItemDataRole.UserRole + 8


#: states whose status text is an error (drawn in red)
_ERROR_STATES = (State.FAILED, State.SAVE_FAILED)


class ImportListModel(QAbstractListModel):
    """One row per entry of ``items``, kept current by listening to it."""

    def __init__(self, items: ImportList, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.items = items
        items.listeners.append(self)

    # --- the Qt-free list's notifications ------------------------------------------------
    def about_to_insert(self, row: int) -> None:
        self.beginInsertRows(QModelIndex(), row, row)

    def inserted(self, row: int) -> None:
        self.endInsertRows()

    def about_to_remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)

    def removed(self, row: int) -> None:
        self.endRemoveRows()

    def changed(self, row: int) -> None:
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    # --- the model --------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.items)

    def entry_at(self, row: int) -> ImportEntry:
        return self.items[row]

    def index_of(self, entry: ImportEntry) -> QModelIndex:
        return self.index(self.items.row(entry), 0)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        e = self.items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Role.TITLE):
            return e.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(str(p) for p in e.paths)
        if role == Role.STATE:
            return e.state.value
        if role == Role.STATUS:
            return e.status
        if role == Role.PROGRESS:
            return e.progress
        if role == Role.DUPLICATE:
            return e.duplicate
        if role == Role.ERROR:
            return e.error
        if role == Role.OFFERS:
            return [i.value for i in e.offers]
        if role == Role.ENTRY:
            return e
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in Role:
            names[int(role)] = QByteArray(role.name.lower().encode())
        return names


class ImportRow(QWidget):
    """What one row shows, read from its index; ``intent(str)`` carries the text of the
    button pressed (an :class:`~desktop_app.import_list.Intent`)."""

    intent = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #c07000;")
        # The labels take no mouse input, so a click anywhere on the row selects it and a
        # right-click opens the list's (merge) menu; and they never ask for more width than
        # the list has, so a long file name or path cannot widen the left pane.
        for label in (self.name, self.status, self.note):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            label.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)  # the list's menu
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(0)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.buttons = {i: QPushButton(i.value) for i in Intent}
        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        for intent, button in self.buttons.items():
            button.clicked.connect(lambda _c=False, i=intent: self.intent.emit(i.value))
            top.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.note)

    @property
    def cancel(self) -> QPushButton:
        return self.buttons[Intent.CANCEL]

    @property
    def retry(self) -> QPushButton:
        return self.buttons[Intent.RETRY]

    @property
    def discard(self) -> QPushButton:
        return self.buttons[Intent.DISCARD]

    def show_index(self, index: Index) -> None:
        """Show what the model holds for ``index`` (and only that)."""
        self.name.setText(f"<b>{html.escape(str(index.data(Role.TITLE)), quote=False)}</b>")
        self.name.setToolTip(str(index.data(Qt.ItemDataRole.ToolTipRole)))
        state = State(index.data(Role.STATE))
        progress = cast(float | None, index.data(Role.PROGRESS))
        if progress is None:
            self.progress.setRange(0, 0)  # busy until the reader says how far it is
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(progress * 1000))
        self.progress.setVisible(state is State.READING)
        offers = cast(list[str], index.data(Role.OFFERS))
        for intent, button in self.buttons.items():
            button.setVisible(intent.value in offers)
        self.status.setText(str(index.data(Role.STATUS)))
        sheet = "color: #d03030;" if state in _ERROR_STATES else ""
        if self.status.styleSheet() != sheet:  # a new sheet re-polishes the label
            self.status.setStyleSheet(sheet)
        note = cast(str | None, index.data(Role.DUPLICATE))
        self.note.setText(note or "")
        self.note.setVisible(bool(note))


class ImportRowDelegate(QStyledItemDelegate):
    """Sizes each row to its widget at the list's width (wrapped text gets the height it
    needs there) and paints only the row's background and selection under the widget."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # the list's own width once it is on screen (a row is never wider than the list);
        # before that the viewport's width is a placeholder, so assume a usable one
        width = self.view.viewport().width()
        if not self.view.isVisible():
            width = max(200, width)
        row = self.view.indexWidget(self.view.model().index(index.row(), 0))
        if row is None:
            return QSize(width, super().sizeHint(option, index).height())
        layout = row.layout()
        height = layout.heightForWidth(width) if layout is not None and layout.hasHeightForWidth() else -1
        return QSize(width, height if height > 0 else row.sizeHint().height())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # the row widget shows the text
        widget = opt.widget
        style = widget.style() if widget is not None else self.view.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: Index) -> None:
        editor.setGeometry(option.rect)

    def relayout(self, index: QModelIndex) -> None:
        """Lay the rows out again if this one's height changed (a progress step does not
        change it: the view is not laid out again for each one)."""
        if self.sizeHint(QStyleOptionViewItem(), index).height() != self.view.visualRect(index).height():
            self.sizeHintChanged.emit(index)
