"""Light and dark themes: the Fusion style with a palette, following the system by default.

Fusion draws the same on every OS and honours the palette fully, so both themes stay
readable (the lap table and plots take their colours from the palette). Qt 6 scales for
high-DPI screens itself; the icon is SVG so it stays sharp.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def is_dark(name: str) -> bool:
    """Whether ``name`` ("system", "light", "dark") means a dark theme here."""
    if name == "dark":
        return True
    if name == "light":
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(45, 47, 50), QColor(30, 31, 34), QColor(225, 225, 225)
    disabled = QColor(120, 120, 120)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor(38, 40, 43)),
        (QPalette.ColorRole.ToolTipBase, QColor(60, 62, 66)),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140)),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
        (QPalette.ColorRole.Highlight, QColor(42, 130, 218)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, QColor(90, 160, 240)),
        # frame and check-box edges: Fusion draws them from these, keep them visible on dark
        (QPalette.ColorRole.Light, QColor(110, 112, 116)),
        (QPalette.ColorRole.Midlight, QColor(80, 82, 86)),
        (QPalette.ColorRole.Mid, QColor(95, 97, 101)),
        (QPalette.ColorRole.Dark, QColor(20, 21, 23)),
        (QPalette.ColorRole.Shadow, QColor(10, 10, 10)),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_theme(app: QApplication, name: str) -> None:
    """Apply "system", "light" or "dark" to the whole application."""
    app.setStyle("Fusion")
    if is_dark(name):
        app.setPalette(dark_palette())
    else:
        app.setPalette(app.style().standardPalette())
