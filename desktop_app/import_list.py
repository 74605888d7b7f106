"""The import list without Qt: each dropped or opened file, its state, and the list of them.

An :class:`ImportEntry` moves through an explicit state machine: the legal moves are the
rows of :data:`TRANSITIONS` and nowhere else, one method per event (``read_finished``,
``save_started``, ``saved``...) takes them, and an event the entry's state does not allow
raises :class:`IllegalTransition` instead of leaving a row in a state nobody planned. The
entry also holds the text its row shows, so every view (the GUI's list model, a test) reads
one truth. :class:`ImportList` keeps the entries in order, keyed, and tells its listeners
(plain callbacks) before and after rows come and go and when one changes. See
docs/architecture.md#the-import-list.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from desktop_app.importing import ImportedFile
from desktop_app.loggers import LoggerFileError
from desktop_app.merging import MergeError
from storage.errors import LaptraceError


class State(StrEnum):
    """Where a file is. The values are the words the GUI and its tests have always used."""

    READING = "reading"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SAVING = "saving"
    SAVED = "saved"
    SAVE_FAILED = "save-failed"
    DISCARDING = "discarding"


class Event(StrEnum):
    """What can happen to a file."""

    READ = "read"
    READ_FAILED = "read failed"
    CANCELLED = "cancelled"
    SAVE_STARTED = "save started"
    RETRY = "retry"
    SAVED = "saved"
    SAVE_FAILED = "save failed"
    SAVE_REFUSED = "save refused"
    DISCARD_STARTED = "discard started"
    DISCARDED = "discarded"
    DISCARD_FAILED = "discard failed"


#: The state machine, whole: (state, event) -> the next state. Any pair not here is illegal.
#: A save of a file already in the catalogue is refused (back to ready, the user is asked);
#: a retry writes only the telemetry of a session row a failed save left behind.
TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.READING, Event.READ): State.READY,
    (State.READING, Event.READ_FAILED): State.FAILED,
    (State.READING, Event.CANCELLED): State.CANCELLED,
    (State.READY, Event.SAVE_STARTED): State.SAVING,
    (State.SAVE_FAILED, Event.SAVE_STARTED): State.SAVING,
    (State.SAVE_FAILED, Event.RETRY): State.SAVING,
    (State.SAVING, Event.SAVED): State.SAVED,
    (State.SAVING, Event.SAVE_FAILED): State.SAVE_FAILED,
    (State.SAVING, Event.SAVE_REFUSED): State.READY,
    (State.SAVE_FAILED, Event.DISCARD_STARTED): State.DISCARDING,
    (State.SAVE_FAILED, Event.DISCARDED): State.READY,
    (State.DISCARDING, Event.DISCARDED): State.READY,
    (State.DISCARDING, Event.DISCARD_FAILED): State.SAVE_FAILED,
}

#: rows that "Clear finished" removes: nothing in them is still to be done
FINISHED = frozenset({State.FAILED, State.CANCELLED, State.SAVED})
#: a draft in these states can be saved (again)
SAVABLE = frozenset({State.READY, State.SAVE_FAILED})
#: a job (read, save, discard) is running for the entry
BUSY = frozenset({State.READING, State.SAVING, State.DISCARDING})


class Intent(StrEnum):
    """What a row offers the user to do about its file (the GUI draws a button for each)."""

    CANCEL = "Cancel"
    RETRY = "Retry"
    DISCARD = "Discard"


#: the buttons a row offers in each state
OFFERS: dict[State, tuple[Intent, ...]] = {
    State.READING: (Intent.CANCEL,),
    State.SAVE_FAILED: (Intent.RETRY, Intent.DISCARD),
}


class IllegalTransition(LaptraceError, RuntimeError):
    """An event the entry's state does not allow: a bug in the caller, not bad input, but
    in the one family so that whoever catches Laptrace's errors shows its message."""

    def __init__(self, entry: ImportEntry, event: Event, why: str = "") -> None:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s is entry.state)
        reason = why or f"allowed: {', '.join(allowed) or 'nothing'}"
        super().__init__(f"{entry.label}: cannot take '{event.value}' while {entry.state.value} ({reason})")
        self.state = entry.state
        self.event = event


def error_text(path: Path, exc: BaseException) -> str:
    """The message a row shows: the reader's own (it names file, line, what) or a labelled one."""
    if isinstance(exc, (LoggerFileError, MergeError)):
        return str(exc)
    return f"{path}: unexpected {type(exc).__name__}: {exc}"


def describe(imported: ImportedFile) -> str:
    """One line about what a file holds: laps, channels, rate, duration."""
    draft = imported.draft
    tel = draft.telemetry
    timed = [lap for lap in draft.laps if lap.lap_time_s is not None and lap.complete]
    source = draft.sources[0] if draft.sources else None
    parts = [f"{len(draft.laps)} laps ({len(timed)} timed)", f"{tel.channel_count} channels"]
    if source is not None:
        parts.insert(0, source.source_type)
        if source.sample_rate_hz:
            parts.append(f"{source.sample_rate_hz:g} Hz")
    if draft.track:
        parts.append(draft.track)
    text = " · ".join(parts)
    if draft.warnings:
        text += "\n" + "\n".join(f"⚠ {w}" for w in draft.warnings[:3])
    return text


_keys = itertools.count(1)


@dataclass(eq=False)
class ImportEntry:
    """One file in the list and what became of it. Change it only through its event methods
    (GUI thread only); the list it is in hears of every change."""

    path: Path
    #: what the row's name says (the file name unless set, e.g. ``merged: A + B``)
    title: str | None = None
    #: the two files a merged row was made from (primary first), None for a plain file
    merged_from: tuple[Path, Path] | None = None
    #: the entry a merge replaces once it is read (a changed offset, a swap)
    replaces: ImportEntry | None = None
    state: State = field(default=State.READING, init=False)
    imported: ImportedFile | None = field(default=None, init=False)
    #: the row's message: what the file holds, how a save went, or the error
    status: str = field(default="reading…", init=False)
    error: str | None = field(default=None, init=False)
    duplicate: str | None = field(default=None, init=False)
    #: how far the read is, 0..1, None while unknown
    progress: float | None = field(default=None, init=False)
    #: the session row a save created (set on success, and on a failed Parquet write)
    session_id: int | None = field(default=None, init=False)
    key: int = field(default=0, init=False)
    _notify: Callable[[ImportEntry], None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.key = next(_keys)

    @property
    def label(self) -> str:
        return self.title or self.path.name

    @property
    def paths(self) -> tuple[Path, ...]:
        """The files on disk behind the row."""
        return self.merged_from if self.merged_from is not None else (self.path,)

    @property
    def offers(self) -> tuple[Intent, ...]:
        return OFFERS.get(self.state, ())

    def can(self, event: Event) -> bool:
        return (self.state, event) in TRANSITIONS

    # --- events (each one legal move of the state machine) ----------------------------
    def read_finished(self, imported: ImportedFile, summary: str) -> None:
        self._go(Event.READ)
        self.imported = imported
        self._show(summary)

    def read_failed(self, error: str) -> None:
        self._go(Event.READ_FAILED)
        self.error = error
        self._show(error)

    def cancelled(self) -> None:
        self._go(Event.CANCELLED)
        self._show("cancelled")

    def save_started(self) -> None:
        # a session row of a failed save exists: a new save would leave it orphaned
        self._go(Event.SAVE_STARTED, self.session_id is not None and "retry or discard the failed save first")
        self._show("saving…")

    def retry(self) -> None:
        """Write the telemetry again for the session row a failed save left."""
        self._go(Event.RETRY, self.session_id is None and "no session row to write the telemetry of")
        self._show("writing telemetry again…")

    def saved(self, session_id: int, where: object) -> None:
        self._go(Event.SAVED)
        self.session_id, self.error, self.duplicate = session_id, None, None
        self._show(f"saved as session {session_id} → {where}")

    def save_failed(self, error: str, session_id: int | None = None) -> None:
        self._go(Event.SAVE_FAILED)
        if session_id is not None:
            self.session_id = session_id
        self.error = error
        self._show(error)

    def save_refused(self, reason: str) -> None:
        """The catalogue holds the file already: back to ready, with the reason in the row."""
        self._go(Event.SAVE_REFUSED)
        self._show(reason)

    def discard_started(self) -> None:
        self._go(Event.DISCARD_STARTED)
        self._show("discarding the failed save…")

    def discarded(self) -> None:
        self._go(Event.DISCARDED)
        self.session_id, self.error = None, None
        self._show("save discarded (the draft is still here; Save to try again)")

    def discard_failed(self, error: str) -> None:
        self._go(Event.DISCARD_FAILED)
        self.error = error
        self._show(error)

    # --- data that is not a state ------------------------------------------------------
    def set_progress(self, fraction: float) -> None:
        """The read's progress (a late report after the read ended is ignored)."""
        if self.state is State.READING:
            self.progress = min(1.0, max(0.0, fraction))
            self._changed()

    def set_duplicate(self, note: str | None) -> None:
        self.duplicate = note
        self._changed()

    def _go(self, event: Event, refused: str | bool = False) -> None:
        """Take the table's move for ``event``; ``refused``: why this entry may not, although
        its state would allow it."""
        target = TRANSITIONS.get((self.state, event))
        if target is None:
            raise IllegalTransition(self, event)
        if refused:
            raise IllegalTransition(self, event, str(refused))
        self.state = target

    def _show(self, status: str) -> None:
        self.status = status
        self._changed()

    def _changed(self) -> None:
        if self._notify is not None:
            self._notify(self)


class ListListener(Protocol):
    """What a view of an :class:`ImportList` hears (Qt's models want before and after)."""

    def about_to_insert(self, row: int) -> None: ...
    def inserted(self, row: int) -> None: ...
    def about_to_remove(self, row: int) -> None: ...
    def removed(self, row: int) -> None: ...
    def changed(self, row: int) -> None: ...


class ImportList:
    """The entries in list order, by key, with listeners told of every change."""

    def __init__(self) -> None:
        self._entries: list[ImportEntry] = []
        self._by_key: dict[int, ImportEntry] = {}
        self.listeners: list[ListListener] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[ImportEntry]:
        return iter(list(self._entries))

    def __getitem__(self, row: int) -> ImportEntry:
        return self._entries[row]

    def __contains__(self, entry: object) -> bool:
        return isinstance(entry, ImportEntry) and self._by_key.get(entry.key) is entry

    def get(self, key: int) -> ImportEntry | None:
        return self._by_key.get(key)

    def row(self, entry: ImportEntry) -> int:
        """The entry's row; ValueError if it is not in the list."""
        if entry not in self:
            raise ValueError(f"{entry.label} is not in the import list")
        return self._entries.index(entry)

    def entries(self) -> list[ImportEntry]:
        return list(self._entries)

    def append(self, entry: ImportEntry) -> None:
        if entry.key in self._by_key:
            raise ValueError(f"{entry.label} is in the import list already")
        if entry._notify is not None:
            raise ValueError(f"{entry.label} is in another import list")
        row = len(self._entries)
        for listener in self.listeners:
            listener.about_to_insert(row)
        self._entries.append(entry)
        self._by_key[entry.key] = entry
        entry._notify = self._on_entry_changed
        for listener in self.listeners:
            listener.inserted(row)

    def remove(self, entry: ImportEntry) -> None:
        """Take the entry out; it keeps its state (a save may still report on it) but the
        list hears no more of it."""
        row = self.row(entry)
        for listener in self.listeners:
            listener.about_to_remove(row)
        del self._entries[row]
        del self._by_key[entry.key]
        entry._notify = None
        for listener in self.listeners:
            listener.removed(row)

    def _on_entry_changed(self, entry: ImportEntry) -> None:
        row = self._entries.index(entry)
        for listener in self.listeners:
            listener.changed(row)
