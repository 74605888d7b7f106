"""The preview's export actions: a plot to PNG or SVG, and where to write a file.

The laps' CSV is written by :func:`desktop_app.analysis.export.write_laps_csv` (on the write
thread, from ``SessionView.export_laps``); here are the parts that need Qt.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import QFileDialog, QWidget


def export_plot(item: pg.GraphicsObject, path: str | Path) -> Path:
    """``item`` (a plot or a layout of plots) as PNG or SVG, by the file's suffix."""
    from pyqtgraph.exporters import ImageExporter, SVGExporter  # only when the user exports

    target = Path(path)
    exporter = SVGExporter(item) if target.suffix.lower() == ".svg" else ImageExporter(item)
    exporter.export(str(target))
    return target


def ask_plot_path(parent: QWidget) -> str:
    """Where to export a plot ("" if the user cancelled)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export plot", "laps.png", "PNG image (*.png);;SVG (*.svg)")
    return path


def ask_laps_path(parent: QWidget) -> str:
    """Where to export the laps as CSV ("" if the user cancelled)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export laps", "laps.csv", "CSV (*.csv)")
    return path
