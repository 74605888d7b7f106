"""Column widths for the table views, measured from the texts they show.

``QHeaderView.ResizeMode.ResizeToContents`` re-measures every column on each model reset by
asking the model for a dozen roles of every cell (up to 1,000 rows): for a catalogue of a
thousand sessions that is a 200 ms stall of the GUI thread on every refresh. Measuring the
display texts ourselves, with the font the cells use, costs one string per cell.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QStyle, QTableView

#: rows measured at most, spread evenly over a longer table (Qt's own precision for sizing
#: a column to its contents is the same number of rows)
MEASURED_ROWS = 1000


def fit_columns(
    view: QTableView,
    model: QAbstractItemModel,
    text: Callable[[int, int], str],
    *,
    bold: bool = False,
    check_columns: Collection[int] = (),
) -> None:
    """Size each column of ``view`` to its title or its widest text, whichever is wider.

    ``text(row, column)`` is what a cell of ``model`` shows (the view may show it through a
    sort proxy); ``bold``: some cells are drawn in bold, so measure in bold;
    ``check_columns`` also hold a check box. Room is left for the header's sort arrow and
    the cell margins.
    """
    rows = model.rowCount()
    font = QFont(view.font())
    font.setBold(bold)
    metrics = QFontMetrics(font)
    style = view.style()
    margin = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    arrow = style.pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, view)
    check = style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, view)
    step = max(rows // MEASURED_ROWS, 1)
    header = view.horizontalHeader()
    for column in range(model.columnCount()):
        title = str(model.headerData(column, Qt.Orientation.Horizontal))
        widest = max((metrics.horizontalAdvance(text(row, column)) for row in range(0, rows, step)), default=0)
        if column in check_columns:
            widest += check + margin
        header.resizeSection(column, max(widest, metrics.horizontalAdvance(title) + arrow) + 2 * margin)
