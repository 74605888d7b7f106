"""Merging two files of one run into one session from the window.

Three ways in, one merge: :func:`desktop_app.importing.merge_files` on the read pool, its
outcome as a new row of the import list (``merged: A + B`` with the offset, drift,
confidence and method, or the :class:`~desktop_app.merging.MergeError` text in the row:
never a dialog per failure). The merged row's draft is shown and saved like any imported
file's (one ``telemetry_sources`` row per file).

- **Merge into one session…**: exactly two read files selected in the list; the file with
  a position (lat/long) is the primary, whatever the selection order.
- **Add source to this session…**: the draft on show is the primary, a file chosen in a
  file dialog the secondary.
- **Adjust merge offset…** on a merged row opens :class:`MergeOffsetDialog` (``open()``,
  no nested event loop); a changed offset merges again with ``offset_s=`` and the new row
  replaces the old one once it is ready. **Swap merged files** merges again the other
  way round (the other file's clock and channels first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QStatusBar, QWidget

from desktop_app.gui.import_panel import ImportPanel
from desktop_app.gui.merge_dialog import MergeOffsetDialog, ask_offset
from desktop_app.import_list import BUSY, SAVABLE, ImportEntry, State
from desktop_app.importing import ImportedFile, MergedImport, merge_files
from desktop_app.loggers.recording import Recording

#: what the file dialogs of File ▸ Open and "Add source" offer
FILE_FILTERS = [
    "Logger files (*.vbo *.VBO *.csv *.txt *.mf4 *.MF4 *.mdf *.xrk *.XRK *.xrz *.XRZ *.drk *.DRK *.ld *.LD)",
    "All files (*)",
]
#: an offset the dialog returns closer than this to the one found is "unchanged" (its
#: spin box shows milliseconds)
SAME_OFFSET_S = 5e-4


@dataclass
class MergedFile(ImportedFile):
    """A merge as an import-list entry holds it: the merged recording and draft (as for one
    file; ``path`` is the primary's) and the merge itself (alignment, the two sources)."""

    merged: MergedImport


def merge_job(paths: tuple[Path, Path], offset_s: float | None, *, progress: Callable[[int, int], None]) -> MergedFile:
    """Read, align and merge two files (a read-pool job; raises ``MergeError``)."""
    m = merge_files(list(paths), offset_s=offset_s, progress=progress)
    return MergedFile(m.paths[0], m.result.recording, m.draft, m)


def merge_summary(imported: ImportedFile) -> str:
    """A merged row's text: how the files were aligned, then what the session holds."""
    assert isinstance(imported, MergedFile)
    a = imported.merged.result.alignment
    draft = imported.draft
    method = a.method + (f" of {a.channel}" if a.channel else "")
    timed = sum(1 for lap in draft.laps if lap.lap_time_s is not None and lap.complete)
    lines = [
        f"offset {a.offset_s:+.3f} s · drift {a.drift_ppm:+.0f} ppm · confidence {a.confidence:.2f} · {method}",
        f"{len(draft.laps)} laps ({timed} timed) · {draft.telemetry.channel_count} channels"
        + (f" · {draft.track}" if draft.track else ""),
    ]
    # the draft repeats the merge's warnings: each once
    lines += [f"⚠ {w}" for w in list(dict.fromkeys([*a.warnings, *draft.warnings]))[:3]]
    return "\n".join(lines)


def has_position(recording: Recording) -> bool:
    return recording.standard("lat") is not None and recording.standard("long") is not None


def merge_order(entries: list[ImportEntry]) -> tuple[Path, Path] | None:
    """The (primary, secondary) paths to merge, or None unless exactly two single files
    are read: the one with a position goes first, otherwise the list order holds."""
    if len(entries) != 2:
        return None
    a, b = entries
    if a.imported is None or b.imported is None or is_merged(a) or is_merged(b):
        return None
    if not has_position(a.imported.recording) and has_position(b.imported.recording):
        a, b = b, a
    return a.path, b.path


def is_merged(entry: ImportEntry | None) -> bool:
    return entry is not None and isinstance(entry.imported, MergedFile)


class MergeFlow(QObject):
    """The merge actions and their rows. ``shown`` tells which unsaved entry the window
    shows (None for a saved session or nothing); ``mergeReady(object)`` carries a merged
    entry once its draft is in the list."""

    mergeReady = Signal(object)

    def __init__(
        self,
        parent: QWidget,
        panel: ImportPanel,
        status: QStatusBar,
        shown: Callable[[], ImportEntry | None],
    ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.panel = panel
        self.status = status
        self.shown = shown
        #: the offset dialog while it is open
        self.dialog: MergeOffsetDialog | None = None

        def action(text: str, tip: str, slot: Callable[[], object]) -> QAction:
            act = QAction(text, parent)
            act.setStatusTip(tip)
            act.triggered.connect(lambda _checked=False: slot())
            return act

        self.merge_action = action(
            "&Merge into One Session…", "merge the two selected files of one run", self.merge_selected
        )
        self.add_source_action = action(
            "&Add Source to This Session…",
            "merge another file of this run into the draft on show",
            self.add_source,
        )
        self.adjust_action = action(
            "Ad&just Merge Offset…", "move the second file along the first one's clock by eye", self.adjust_offset
        )
        self.swap_action = action("S&wap Merged Files", "merge again with the other file first", self.swap)
        self.actions = [self.merge_action, self.add_source_action, self.adjust_action, self.swap_action]
        # the list's context menu offers them (the panel shows the list's actions)
        panel.list.addActions(self.actions)
        panel.selectionChanged.connect(self.update_actions)
        panel.menuAboutToShow.connect(self.update_actions)
        panel.currentChanged.connect(lambda _e: self.update_actions())
        panel.entryReady.connect(self._on_ready)
        self.update_actions()

    def install(self, menu: QMenu, before: QAction) -> None:
        """Put the actions in ``menu`` (above ``before``) and keep them current as it opens."""
        for act in self.actions:
            menu.insertAction(before, act)
        menu.insertSeparator(before)
        menu.aboutToShow.connect(self.update_actions)

    # --- what can be done ---------------------------------------------------------------
    @property
    def pairs(self) -> dict[int, tuple[Path, Path]]:
        """The (primary, secondary) paths of each merged row in the list (by key), failed
        ones included."""
        return {e.key: e.merged_from for e in self.panel.items if e.merged_from is not None}

    def _target(self) -> ImportEntry | None:
        """The merged row the row actions work on: the current one."""
        entry = self.panel.current()
        return entry if entry is not None and entry.merged_from is not None else None

    def _add_source_target(self) -> ImportEntry | None:
        entry = self.shown()
        ok = entry is not None and entry.imported is not None and not is_merged(entry)
        return entry if ok and entry is not None and entry.state in SAVABLE else None

    def update_actions(self) -> None:
        self.merge_action.setEnabled(merge_order(self.panel.selected()) is not None)
        self.add_source_action.setEnabled(self._add_source_target() is not None)
        target = self._target()
        self.adjust_action.setEnabled(target is not None and is_merged(target) and target.state in SAVABLE)
        self.swap_action.setEnabled(target is not None and target.state not in BUSY)

    # --- actions ----------------------------------------------------------------------
    def merge(
        self, primary: Path, secondary: Path, *, offset_s: float | None = None, replaces: ImportEntry | None = None
    ) -> ImportEntry:
        """Merge two files on the read pool into a new row (which replaces ``replaces``
        once it is ready)."""
        entry = self.panel.add_file(
            primary,
            job=partial(merge_job, (primary, secondary), offset_s),
            title=f"merged: {primary.name} + {secondary.name}",
            summary=merge_summary,
            merged_from=(primary, secondary),
            replaces=replaces,
        )
        what = "again with your offset" if offset_s is not None else ""
        self.status.showMessage(f"Merging {secondary.name} into {primary.name} {what}…", 5000)
        self.update_actions()
        return entry

    def merge_selected(self) -> ImportEntry | None:
        order = merge_order(self.panel.selected())
        if order is None:
            self.status.showMessage("Select two files that have been read to merge them", 5000)
            return None
        return self.merge(*order)

    def add_source(self) -> QFileDialog | None:
        """Ask for the file to merge into the draft on show (``open()``, no nested loop)."""
        entry = self._add_source_target()
        if entry is None:
            self.status.showMessage("Show an imported file (not yet saved) to add a source to it", 5000)
            return None
        dialog = QFileDialog(self.parent_widget, f"Add a source to {entry.path.name}")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(FILE_FILTERS)
        dialog.fileSelected.connect(lambda f: self.merge(entry.path, Path(f)) if f else None)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        return dialog

    def adjust_offset(self) -> MergeOffsetDialog | None:
        """Open the offset dialog on the current merged row; OK with another offset merges again."""
        entry = self._target()
        if entry is None or not isinstance(entry.imported, MergedFile):
            return None
        result = entry.imported.merged.result
        primary, secondary = (s.recording for s in result.sources)
        found = result.alignment.offset_s
        self.dialog = ask_offset(
            primary,
            secondary,
            result.alignment,
            self.parent_widget,
            lambda offset: self._offset_chosen(entry, found, offset),
        )
        self.dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        return self.dialog

    def _offset_chosen(self, entry: ImportEntry, found: float, offset: float) -> None:
        if abs(offset - found) < SAME_OFFSET_S or entry.merged_from is None or not self.panel.has(entry):
            return
        self.merge(*entry.merged_from, offset_s=offset, replaces=entry)

    def swap(self) -> ImportEntry | None:
        entry = self._target()
        if entry is None or entry.merged_from is None:
            return None
        primary, secondary = entry.merged_from
        return self.merge(secondary, primary, replaces=entry)

    # --- outcomes ---------------------------------------------------------------------
    def _on_ready(self, entry: ImportEntry) -> None:
        if entry.merged_from is None:
            self.update_actions()
            return
        old, entry.replaces = entry.replaces, None
        self.panel.select(entry)  # the user asked for this merge: show it
        if old is not None and self.panel.has(old) and old.state in (State.READY, State.FAILED, State.CANCELLED):
            self.panel.remove(old)
        self.update_actions()
        self.mergeReady.emit(entry)
