"""Questions without nested event loops: window-modal message boxes opened with ``open()``.

``QMessageBox.exec()`` would spin a second event loop on the GUI thread (never done here:
docs/architecture.md#no-nested-event-loops); :func:`ask` shows the box and calls back when
the user answers.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def ask(
    parent: QWidget,
    title: str,
    text: str,
    on_yes: Callable[[], object],
    *,
    yes_text: str = "Yes",
    no_text: str = "Cancel",
    on_no: Callable[[], object] | None = None,
) -> QMessageBox:
    """Ask a yes/no question; ``on_yes`` (or ``on_no``) runs when the user answers."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("question")
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(no_text, QMessageBox.ButtonRole.RejectRole)

    def done(_result: int) -> None:
        if box.clickedButton() is yes:
            on_yes()
        elif on_no is not None:
            on_no()
        box.deleteLater()

    box.finished.connect(done)
    box.open()
    return box
