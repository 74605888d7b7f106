"""The lap table and the preview of one session, a draft or a saved one.

A draft's telemetry is in memory. A saved session's laps are read from its Parquet file one
lap at a time (``read_lap``) on the read pool, as the user selects them; a new selection
cancels the previous read. The best valid lap is selected by default and is the reference
of the delta trace.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from desktop_app.analysis.export import write_laps_csv
from desktop_app.analysis.lap_selection import ComparedLap, LapSelection
from desktop_app.gui.exports import ask_laps_path
from desktop_app.gui.lap_table import LapTableWidget
from desktop_app.gui.preview import PreviewWidget
from desktop_app.gui.workers import Job, Workers, call, steps
from storage.parquet import ParquetTelemetryStorage
from storage.types import LapRecord, LapTelemetry, SessionDraft, TrackLine


def read_laps(
    storage: ParquetTelemetryStorage, session_id: int, lap_numbers: list[int]
) -> Generator[LapTelemetry | dict[str, tuple[str, ...]], None, int]:
    """Read laps one at a time (a generator job: cancel works between laps), after the
    text channels' label tables."""
    yield storage.read_labels(session_id)
    count = 0
    for number in lap_numbers:
        lap = storage.read_lap(session_id, number)
        if lap is not None:
            count += 1
            yield lap
    return count


def read_compared(storage: ParquetTelemetryStorage, session_id: int, lap_number: int, name: str) -> ComparedLap | None:
    """A lap of another saved session with its session's text tables (its codes are its
    own: the preview maps them by label), or None if the lap is not in its file."""
    lap = storage.read_lap(session_id, lap_number)
    return None if lap is None else ComparedLap(lap, name, storage.read_labels(session_id))


def default_selection(laps: list[LapRecord], best: LapRecord | None) -> list[int]:
    """What to overlay first: the best valid lap, else the longest lap."""
    if best is not None:
        return [best.lap_number]
    if not laps:
        return []
    longest = max(laps, key=lambda lap: (lap.distance_m or 0.0, lap.samples))
    return [longest.lap_number]


class SessionView(QWidget):
    """Lap table above the preview. ``validityChanged(int, object)`` relays the user's
    lap decisions; ``lapsShown(list)`` fires when the preview has drawn a selection."""

    validityChanged = Signal(int, object)
    lapsShown = Signal(list)
    #: a saved session's laps could not be read (the message says which and why)
    readFailed = Signal(str)
    #: what became of an export (a message for the status bar)
    exportDone = Signal(str)
    #: the engineer moved or placed a line on the map: list[TrackLine] (start line first)
    linesEdited = Signal(object)

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.table = LapTableWidget()
        self.preview = PreviewWidget()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("lapSplitter")
        splitter.addWidget(self.table)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([250, 750])  # room for a dozen laps above the plots
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self._units: Mapping[str, str] = {}
        self._labels: dict[str, tuple[str, ...]] = {}  #: text channel -> its codes' labels
        #: which laps are wanted: the table's selection, the reference, compared laps
        self.selection = LapSelection()
        self._telemetry: dict[int, LapTelemetry] = {}
        self._storage: ParquetTelemetryStorage | None = None
        self._session_id = 0
        self._job: Job | None = None
        self._generation = 0
        self._quiet = False
        #: the lines the laps on show were timed at (what a refused edit goes back to)
        self._lines: list[TrackLine] = []
        #: laps to select when the next laps are shown, instead of the default
        self._keep: list[int] | None = None
        # a selection's draw comes one event-loop turn after the selection: the lap table and
        # the form it changed are painted first, and a burst of changes is drawn once
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._draw)
        self.preview.track_map.linesEdited.connect(self.linesEdited)
        self.table.selectedLapsChanged.connect(self._on_selection)
        self.preview.export_laps_button.clicked.connect(self._ask_export_laps)
        self.table.model().userValidityChanged.connect(self.validityChanged)
        # a validity decision can move the best lap, the delta's reference: redraw the same laps
        self.table.model().userValidityChanged.connect(lambda *_: self._on_selection(self.table.selected_laps()))

    # --- what to show -----------------------------------------------------------------
    def show_draft(self, draft: SessionDraft) -> None:
        """A draft: laps and telemetry are in memory."""
        self._reset(draft.telemetry.units, storage=None, session_id=0)
        self._labels = dict(draft.telemetry.labels)
        self._telemetry = {lap.lap_number: lap for lap in draft.telemetry.laps}
        self.set_lines(draft.lines)
        self._show_laps(draft.laps)

    def show_saved(
        self,
        laps: list[LapRecord],
        units: Mapping[str, str],
        storage: ParquetTelemetryStorage,
        session_id: int,
        lines: list[TrackLine] | None = None,
    ) -> None:
        """A saved session: lap telemetry is read from its Parquet file on demand."""
        self._reset(units, storage=storage, session_id=session_id)
        self.set_lines(lines or [])
        # the previous laps go now: they are not this session's, whatever its file holds
        self.preview.hold(f"Reading the laps of session {session_id}…")
        self._show_laps(laps)

    def clear(self) -> None:
        self._reset({}, storage=None, session_id=0)
        self.set_lines([])
        self.table.model().set_laps([])
        self.preview.clear()

    def set_lines(self, lines: list[TrackLine]) -> None:
        """The lines the laps on show were timed at, drawn on the map."""
        self._lines = list(lines)
        self.preview.track_map.set_lines(self._lines)

    def keep_selection(self) -> None:
        """Select the laps selected now again when the next laps are shown (the same
        session split anew), where their numbers still exist."""
        self._keep = self.table.selected_laps()

    def restore_lines(self) -> None:
        """Put the map's lines back where the laps on show were timed (an edit was refused)."""
        self.preview.track_map.set_lines(self._lines)

    def set_speed_unit(self, unit: str) -> None:
        self.table.model().set_speed_unit(unit)
        self.preview.set_speed_unit(unit)

    @property
    def session_id(self) -> int:
        """The saved session shown (0 for a draft or nothing)."""
        return self._session_id

    # --- internals --------------------------------------------------------------------
    def _reset(self, units: Mapping[str, str], *, storage: ParquetTelemetryStorage | None, session_id: int) -> None:
        self._generation += 1
        self._draw_timer.stop()
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self._units = dict(units)
        self._labels = {}  # a saved session's come with its first lap read
        self._telemetry = {}
        self.selection.reset()
        self.preview.new_session()
        self._storage = storage
        self._session_id = session_id

    def _show_laps(self, laps: list[LapRecord]) -> None:
        model = self.table.model()
        # the model reset empties the selection first: don't clear the plots only to
        # redraw them a moment later (each preview draw costs the GUI thread)
        self._quiet = True
        try:
            model.set_laps(laps)
        finally:
            self._quiet = False
        keep, self._keep = self._keep, None
        wanted = [n for n in keep or [] if model.row_of(n) >= 0] or default_selection(laps, model.best_valid_lap())
        self.table.select_laps(wanted)
        if not wanted:
            self._on_selection([])

    def _on_selection(self, numbers: list[int]) -> None:
        if self._quiet:
            return
        best = self.table.model().best_valid_lap()
        self.selection.select(numbers, best.lap_number if best is not None else None)
        missing = [n for n in self.selection.wanted() if n not in self._telemetry]
        if self._job is not None:
            self._job.cancel()  # a new selection replaces the previous read
            self._job = None
        if not missing or self._storage is None:
            self._draw_timer.start()
            return
        self._draw_timer.stop()  # the read's end draws
        self._generation += 1
        gen = self._generation
        self._job = self.workers.read(
            steps(read_laps, self._storage, self._session_id, missing),
            yielded=partial(self._on_lap_read, gen),
            returned=partial(self._on_laps_read, gen),
            errored=partial(self._on_read_failed, gen),
        )

    def _on_lap_read(self, generation: int, lap: object) -> None:
        # laps of a cancelled or replaced read may still arrive: keep only the current ones
        if generation == self._generation and isinstance(lap, LapTelemetry):
            self._telemetry[lap.lap_number] = lap
        elif generation == self._generation and isinstance(lap, dict):
            self._labels = lap

    def _on_laps_read(self, generation: int, _count: object) -> None:
        if generation == self._generation:
            self._draw()

    def export_laps(self, path: str | Path) -> Job | None:
        """Write the laps on show (every sample, units in the header) to ``path`` as CSV, on
        the write thread; ``exportDone`` says how it went."""
        laps = self.preview.shown_laps()
        if not laps:
            self.exportDone.emit("No laps to export: select laps in the table first.")
            return None
        target = Path(path)
        numbers = ", ".join(str(lap.lap_number) for lap in laps)
        return self.workers.write(
            call(write_laps_csv, target, laps, self.preview.units()),
            returned=lambda _p: self.exportDone.emit(f"Laps {numbers} exported to {target}"),
            errored=lambda exc: self.exportDone.emit(f"Cannot export laps to {target}: {exc}"),
        )

    def _ask_export_laps(self) -> None:
        path = ask_laps_path(self)
        if path:
            self.export_laps(path)

    def _on_read_failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        message = f"Cannot read the laps of session {self._session_id}: {exc}"
        self.preview.show_message(message)
        self.readFailed.emit(message)

    def compare_lap(
        self, storage: ParquetTelemetryStorage, session_id: int, lap_number: int, *, as_reference: bool = False
    ) -> Job:
        """Add lap ``lap_number`` of saved session ``session_id`` (another driver, day or car)
        to the overlay, or make it the delta's reference; read from its Parquet file with
        its session's text tables."""
        name = f"S{session_id} lap {lap_number}"
        return self.workers.read(
            call(read_compared, storage, session_id, lap_number, name, what=f"reading {name}"),
            returned=lambda lap: self._on_compare_read(lap, name, as_reference),
            errored=lambda exc: self.readFailed.emit(f"Cannot read {name}: {exc}"),
        )

    def _on_compare_read(self, lap: ComparedLap | None, name: str, as_reference: bool) -> None:
        if lap is None:
            self.readFailed.emit(f"{name}: no such lap in its telemetry file")
            return
        self.selection.compare(lap, as_reference=as_reference)
        self._on_selection(self.table.selected_laps())

    def clear_compared(self) -> None:
        """Drop the laps of other sessions from the overlay (and an external reference)."""
        self.selection.clear_compared()
        self._on_selection(self.table.selected_laps())

    def _draw(self) -> None:
        shown = self.selection.resolve(self._telemetry)
        if not shown.laps and shown.reference is None:
            self.preview.clear()
        else:
            self.preview.show_laps(
                shown.laps, shown.reference, self._units, shown.names, self._labels, shown.lap_labels
            )
        self.lapsShown.emit(shown.own)
