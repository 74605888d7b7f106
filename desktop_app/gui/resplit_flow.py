"""Laps split anew at the lines the engineer moved or placed on the track map.

The map emits the lines as they now stand; the laps are computed on a worker, never on the
GUI thread (docs/architecture.md#threads), with the Qt-free jobs the command line uses:

* a file not yet saved: :func:`desktop_app.importing.resplit_draft` re-splits the recording
  in memory on the read pool; the import entry's draft is replaced and shown again;
* a saved session (opened from the sessions browser, or a file saved from the list):
  :func:`desktop_app.resplitting.resplit_session`, the same re-split as ``laptrace
  resplit`` (the file rewritten, the catalogue updated, docs/laps.md), on the write thread;
  the session is then opened again.

A line the car never crosses (nowhere near the driven line) is refused with a message in
the status bar, nothing changes, and the map's lines go back where they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStatusBar

from desktop_app.analysis.formatting import format_lap_time
from desktop_app.gui.session_view import SessionView
from desktop_app.gui.workers import Job, Workers, call
from desktop_app.importing import resplit_draft
from desktop_app.laps import LineSet
from desktop_app.laps.resplit import LineError, LinePoints, user_lines
from desktop_app.resplitting import Resplit, resplit_session
from storage.types import SessionDraft, TrackLine

if TYPE_CHECKING:
    from desktop_app.gui.import_panel import ImportEntry
    from desktop_app.gui.main_window import MainWindow


def _points(line: TrackLine) -> LinePoints:
    return line.lat1, line.lon1, line.lat2, line.lon2


def line_set(lines: list[TrackLine]) -> LineSet:
    """The engineer's lines from the map's (the start line, the split lines in order);
    :class:`LineError` when there is no start line or a line has zero length."""
    start = [x for x in lines if x.kind == "start"]
    if not start:
        raise LineError("place a start/finish line first (the laps are timed from it)")
    return user_lines(_points(start[0]), [_points(x) for x in lines if x.kind == "split"])


def summary(draft: SessionDraft) -> str:
    """A status-bar line: how many laps, and the ideal lap."""
    timed = sum(1 for lap in draft.laps if lap.complete)
    text = f"{len(draft.laps)} laps ({timed} timed)"
    if draft.ideal_lap_s is not None:
        text += f", ideal lap {format_lap_time(draft.ideal_lap_s)}"
    return text


def ticks_note(old: SessionDraft, new: SessionDraft) -> str:
    """What became of the engineer's validity ticks (docs/laps.md#validity-ticks-across-a-re-split):
    kept on the laps the new lines cut at the same samples; empty when there were none."""
    before = sum(1 for lap in old.laps if lap.user_valid is not None)
    if not before:
        return ""
    kept = sum(1 for lap in new.laps if lap.user_valid is not None)
    note = f"; {kept} of your {before} validity tick(s) kept"
    if kept == before:
        return note
    return note + f", {before - kept} dropped (laps now cut elsewhere: the proposal stands)"


class ResplitFlow(QObject):
    """Runs the re-split of what the window shows when the map's lines change."""

    #: what became of a re-split (the status bar's message)
    finished = Signal(str)
    #: a saved session's laps changed in the catalogue
    changed = Signal()

    def __init__(self, window: MainWindow, workers: Workers, view: SessionView, status: QStatusBar) -> None:
        super().__init__(window)
        self._window = window
        self._workers = workers
        self._view = view
        self._status = status
        #: bumped by every edit: only the newest edit's laps are shown
        self._generation = 0
        self.job: Job | None = None
        self.finished.connect(lambda message: self._status.showMessage(message, 10_000))

    def resplit(self, lines: list[TrackLine]) -> Job | None:
        """Split the laps on show anew at ``lines`` (on a worker); None if refused at once."""
        self._generation += 1
        gen = self._generation
        try:
            wanted = line_set(lines)
        except LineError as exc:
            self._refuse(gen, exc)
            return None
        win = self._window
        entry = win.entry if win.saved is None else None
        if entry is not None and entry.state == "saving":
            self._refuse(gen, LineError("the session is being saved: move the line again once it is saved"))
            return None
        saved_id = win.saved.summary.id if win.saved is not None else None
        if entry is not None and entry.state == "saved" and entry.session_id is not None:
            saved_id = entry.session_id  # the file is in the catalogue now: re-split what was saved
        if saved_id is not None:
            return self._resplit_saved(gen, saved_id, wanted)
        if entry is None or entry.imported is None:
            return None
        self._status.showMessage("Splitting the laps again at your lines…")
        imported = entry.imported
        self.job = self._workers.read(
            call(resplit_draft, imported.recording, imported.draft, wanted, what="splitting the laps again"),
            returned=lambda draft: self._draft_done(gen, entry, draft),
            errored=lambda exc: self._refuse(gen, exc),
        )
        return self.job

    def _resplit_saved(self, gen: int, session_id: int, lines: LineSet) -> Job | None:
        catalogue = self._window.catalogue
        if catalogue is None:
            self._refuse(gen, LineError("the catalogue is not open"))
            return None
        self._status.showMessage(f"Session {session_id}: splitting the laps again at your lines…")
        self.job = self._workers.write(
            call(
                resplit_session,
                catalogue.engine,
                catalogue.storage,
                session_id,
                lines,
                what=f"splitting session {session_id} again",
            ),
            returned=lambda result: self._saved_done(gen, result),
            errored=lambda exc: self._refuse(gen, exc),
        )
        return self.job

    def _draft_done(self, gen: int, entry: ImportEntry, draft: SessionDraft) -> None:
        if gen != self._generation or entry.imported is None:
            return  # a newer edit is on its way
        ticks = ticks_note(entry.imported.draft, draft)
        entry.imported.draft = draft
        if self._window.entry is entry and self._window.saved is None:
            self._view.keep_selection()  # the overlay stays, on the new laps
            self._view.show_draft(draft)
        self.finished.emit(f"Laps split again at your lines: {summary(draft)}{ticks}")

    def _saved_done(self, gen: int, result: Resplit) -> None:
        self.changed.emit()
        message = (
            f"Session {result.session_id}: laps split again and saved (revision {result.revision}): "
            f"{summary(result.draft)}"
        )
        shown = self._window.saved is not None and self._window.saved.summary.id == result.session_id
        entry = self._window.entry
        if gen == self._generation and (shown or (entry is not None and entry.session_id == result.session_id)):
            self._view.keep_selection()
            self._window.open_session(result.session_id, message)  # says so once it is shown
            return
        self.finished.emit(message)

    def _refuse(self, gen: int, exc: Exception) -> None:
        if gen == self._generation:
            self._view.restore_lines()
        self.finished.emit(f"Lines not used, nothing changed: {exc}")
