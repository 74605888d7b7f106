"""The Qt-free import list: every legal move of an entry's state machine, illegal ones
refused with a clear error and nothing changed, and the list's notifications."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realfiles import logger_file

from desktop_app.import_list import (
    TRANSITIONS,
    Event,
    IllegalTransition,
    ImportEntry,
    ImportList,
    Intent,
    State,
    describe,
)
from desktop_app.importing import ImportedFile, import_file

TIANMA = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"


@functools.cache
def _tianma() -> ImportedFile:
    return import_file(logger_file(TIANMA))


def _entry() -> ImportEntry:
    return ImportEntry(logger_file(TIANMA))


# --- each event as the GUI sends it -----------------------------------------------------
def _read(e: ImportEntry) -> None:
    e.read_finished(_tianma(), describe(_tianma()))


def _read_failed(e: ImportEntry) -> None:
    e.read_failed(f"{e.path}: line 3: not a number")


def _cancelled(e: ImportEntry) -> None:
    e.cancelled()


def _save_started(e: ImportEntry) -> None:
    e.save_started()


def _retry(e: ImportEntry) -> None:
    e.retry()


def _saved(e: ImportEntry) -> None:
    e.saved(7, "sessions/7.parquet")


def _save_failed(e: ImportEntry) -> None:
    e.save_failed("save failed: [Errno 28] No space left on device", session_id=7)


def _save_failed_no_row(e: ImportEntry) -> None:
    e.save_failed("save failed: database is locked")


def _save_refused(e: ImportEntry) -> None:
    e.save_refused("already in catalogue: session 3 'Tianma'")


def _discard_started(e: ImportEntry) -> None:
    e.discard_started()


def _discarded(e: ImportEntry) -> None:
    e.discarded()


def _discard_failed(e: ImportEntry) -> None:
    e.discard_failed("save failed: database is locked")


SENDERS: dict[str, Callable[[ImportEntry], None]] = {
    "read": _read,
    "read_failed": _read_failed,
    "cancelled": _cancelled,
    "save_started": _save_started,
    "retry": _retry,
    "saved": _saved,
    "save_failed": _save_failed,
    "save_failed_no_row": _save_failed_no_row,
    "save_refused": _save_refused,
    "discard_started": _discard_started,
    "discarded": _discarded,
    "discard_failed": _discard_failed,
}

#: how to bring a new entry into each state (the GUI's own sequences of events)
PATHS: dict[State, list[str]] = {
    State.READING: [],
    State.READY: ["read"],
    State.FAILED: ["read_failed"],
    State.CANCELLED: ["cancelled"],
    State.SAVING: ["read", "save_started"],
    State.SAVED: ["read", "save_started", "saved"],
    State.SAVE_FAILED: ["read", "save_started", "save_failed"],
    State.DISCARDING: ["read", "save_started", "save_failed", "discard_started"],
}


def _in(state: State) -> ImportEntry:
    e = _entry()
    for name in PATHS[state]:
        SENDERS[name](e)
    assert e.state is state
    return e


class _States:
    """A listener that notes the state of the changed row each time."""

    def __init__(self, items: ImportList) -> None:
        self.items = items
        self.seen: list[State] = []

    def about_to_insert(self, row: int) -> None: ...
    def inserted(self, row: int) -> None: ...
    def about_to_remove(self, row: int) -> None: ...
    def removed(self, row: int) -> None: ...

    def changed(self, row: int) -> None:
        self.seen.append(self.items[row].state)


def _watch(e: ImportEntry) -> list[State]:
    """The states the entry's list hears of from now on."""
    items = ImportList()
    items.append(e)
    listener = _States(items)
    items.listeners.append(listener)
    return listener.seen


#: every legal move, written out (not read back from the module's table), and what it leaves
LEGAL: list[tuple[State, str, State]] = [
    (State.READING, "read", State.READY),
    (State.READING, "read_failed", State.FAILED),
    (State.READING, "cancelled", State.CANCELLED),
    (State.READY, "save_started", State.SAVING),
    (State.SAVING, "saved", State.SAVED),
    (State.SAVING, "save_failed", State.SAVE_FAILED),
    (State.SAVING, "save_refused", State.READY),
    (State.SAVE_FAILED, "retry", State.SAVING),
    (State.SAVE_FAILED, "discard_started", State.DISCARDING),
    (State.SAVE_FAILED, "discarded", State.READY),
    (State.DISCARDING, "discarded", State.READY),
    (State.DISCARDING, "discard_failed", State.SAVE_FAILED),
]


def test_the_table_is_the_one_written_out_here() -> None:
    # the table has one more row: a save again after a failed save that left no session row
    # (tested below), the other rows are the LEGAL moves
    events = {
        "read": Event.READ,
        "read_failed": Event.READ_FAILED,
        "cancelled": Event.CANCELLED,
        "save_started": Event.SAVE_STARTED,
        "retry": Event.RETRY,
        "saved": Event.SAVED,
        "save_failed": Event.SAVE_FAILED,
        "save_refused": Event.SAVE_REFUSED,
        "discard_started": Event.DISCARD_STARTED,
        "discarded": Event.DISCARDED,
        "discard_failed": Event.DISCARD_FAILED,
    }
    written = {(s, events[name]): t for s, name, t in LEGAL}
    written[(State.SAVE_FAILED, Event.SAVE_STARTED)] = State.SAVING
    assert written == TRANSITIONS


@pytest.mark.parametrize(("start", "event", "end"), LEGAL, ids=[f"{s}-{e}" for s, e, _ in LEGAL])
def test_every_legal_move(start: State, event: str, end: State) -> None:
    e = _in(start)
    seen = _watch(e)
    SENDERS[event](e)
    assert e.state is end
    assert seen == [end], "the list hears of the move once"
    assert e.status, "a row always says something"


def _offers(e: ImportEntry) -> tuple[Intent, ...]:
    return e.offers


def _outcome(e: ImportEntry) -> tuple[int | None, str | None, str | None]:
    return e.session_id, e.error, e.duplicate


def test_what_the_moves_leave_in_the_entry() -> None:
    e = _entry()
    assert (e.state, e.status, e.offers) == (State.READING, "reading…", (Intent.CANCEL,))
    e.set_progress(0.25)
    assert e.progress == 0.25
    _read(e)
    assert e.imported is _tianma() and e.progress == 0.25, "the bar shows what the reader reported"
    assert e.status == describe(_tianma()) and "laps" in e.status and _offers(e) == ()
    e.set_progress(0.5)  # a progress report that comes in after the read is ignored
    assert e.progress == 0.25
    e.set_duplicate("already in catalogue: session 3 'Tianma'")
    _save_started(e)
    assert e.status == "saving…"
    _save_failed(e)
    assert e.session_id == 7 and e.error is not None and "No space left" in e.status
    assert _offers(e) == (Intent.RETRY, Intent.DISCARD)
    e.retry()
    assert e.status == "writing telemetry again…" and _offers(e) == ()
    _saved(e)
    assert _outcome(e) == (7, None, None)
    assert e.status == "saved as session 7 → sessions/7.parquet"


def test_a_failed_read_keeps_its_error_and_no_draft() -> None:
    e = _entry()
    _read_failed(e)
    assert e.imported is None and e.error == e.status and "line 3" in e.status


def test_discard_forgets_the_session_row_and_keeps_the_draft() -> None:
    e = _in(State.DISCARDING)
    assert e.offers == (), "no Retry while the discard runs"
    e.discarded()
    assert (e.state, e.session_id, e.error) == (State.READY, None, None)
    assert e.imported is not None
    assert e.status == "save discarded (the draft is still here; Save to try again)"


def test_a_failed_save_without_a_session_row_saves_again() -> None:
    e = _in(State.SAVING)
    _save_failed_no_row(e)
    assert e.session_id is None
    e.save_started()
    assert e.state is State.SAVING


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (State.READING, "save_started"),
        (State.READING, "saved"),
        (State.READY, "read"),
        (State.READY, "retry"),
        (State.READY, "discarded"),
        (State.FAILED, "save_started"),
        (State.CANCELLED, "read"),
        (State.SAVING, "save_started"),
        (State.SAVING, "cancelled"),
        (State.SAVED, "save_started"),
        (State.SAVED, "saved"),
        (State.SAVE_FAILED, "save_started"),  # a session row exists: retry or discard it
        (State.DISCARDING, "retry"),
    ],
)
def test_illegal_moves_raise_and_change_nothing(state: State, event: str) -> None:
    e = _in(state)
    before = (e.state, e.status, e.error, e.session_id, e.imported)
    seen = _watch(e)
    with pytest.raises(IllegalTransition) as info:
        SENDERS[event](e)
    assert (e.state, e.status, e.error, e.session_id, e.imported) == before
    assert seen == []
    assert info.value.state is state
    message = str(info.value)
    assert e.path.name in message and f"while {state.value}" in message


def test_the_message_says_what_is_allowed() -> None:
    e = _in(State.SAVED)
    with pytest.raises(IllegalTransition, match=r"cannot take 'save started' while saved \(allowed: nothing\)"):
        e.save_started()
    e = _in(State.READING)
    with pytest.raises(IllegalTransition, match=r"allowed: cancelled, read, read failed"):
        e.saved(1, "x")
    e = _in(State.SAVE_FAILED)
    with pytest.raises(IllegalTransition, match=r"save started' while save-failed \(retry or discard the failed save"):
        e.save_started()
    e = _in(State.SAVING)
    _save_failed_no_row(e)
    with pytest.raises(IllegalTransition, match="no session row to write the telemetry of"):
        e.retry()


def test_states_compare_as_the_words_the_gui_used() -> None:
    e = _in(State.SAVE_FAILED)
    assert e.state == "save-failed" and e.state in ("saved", "save-failed")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(SENDERS)), max_size=25))
def test_any_sequence_of_events_keeps_the_entry_consistent(events: list[str]) -> None:
    e = _entry()
    for name in events:
        before = e.state
        try:
            SENDERS[name](e)
        except IllegalTransition as exc:
            assert e.state is before and exc.state is before
            continue
        # what each state promises, whatever the path to it
        if e.state not in (State.READING, State.FAILED, State.CANCELLED):
            assert e.imported is not None
        if e.state is State.FAILED:
            assert e.imported is None and e.error == e.status
        if e.state is State.SAVED:
            assert e.session_id is not None and e.error is None
        if e.state is State.SAVE_FAILED:
            assert e.error == e.status
        if e.state is State.READY and before is not State.READING:
            assert e.error is None or before is State.SAVING  # refused as a duplicate
        assert e.offers == {State.READING: (Intent.CANCEL,), State.SAVE_FAILED: (Intent.RETRY, Intent.DISCARD)}.get(
            e.state, ()
        )


# --- the list ------------------------------------------------------------------------------
@dataclass
class Recorder:
    calls: list[tuple[str, int, int]] = field(default_factory=list)
    items: ImportList | None = None

    def _note(self, what: str, row: int) -> None:
        assert self.items is not None
        self.calls.append((what, row, len(self.items)))

    def about_to_insert(self, row: int) -> None:
        self._note("about_to_insert", row)

    def inserted(self, row: int) -> None:
        self._note("inserted", row)

    def about_to_remove(self, row: int) -> None:
        self._note("about_to_remove", row)

    def removed(self, row: int) -> None:
        self._note("removed", row)

    def changed(self, row: int) -> None:
        self._note("changed", row)


def test_the_list_tells_before_and_after_each_change() -> None:
    items = ImportList()
    rec = Recorder(items=items)
    items.listeners.append(rec)
    a, b, c = _entry(), _entry(), _entry()
    for e in (a, b, c):
        items.append(e)
    assert items.entries() == [a, b, c] and [items.row(e) for e in (a, b, c)] == [0, 1, 2]
    assert items.get(b.key) is b and b in items
    # the length each listener saw: before the insert, then after it
    assert rec.calls == [
        ("about_to_insert", 0, 0),
        ("inserted", 0, 1),
        ("about_to_insert", 1, 1),
        ("inserted", 1, 2),
        ("about_to_insert", 2, 2),
        ("inserted", 2, 3),
    ]
    rec.calls.clear()
    _read(c)
    b.set_progress(0.5)
    assert rec.calls == [("changed", 2, 3), ("changed", 1, 3)]
    rec.calls.clear()
    items.remove(b)
    assert rec.calls == [("about_to_remove", 1, 3), ("removed", 1, 2)]
    assert items.entries() == [a, c] and b not in items and items.get(b.key) is None
    rec.calls.clear()
    # a removed entry still takes its events (a save may report late) but the list is quiet
    _read(b)
    assert b.state is State.READY and rec.calls == []
    with pytest.raises(ValueError, match="not in the import list"):
        items.row(b)
    with pytest.raises(ValueError, match="already"):
        items.append(a)
    other = ImportList()
    with pytest.raises(ValueError, match="another import list"):
        other.append(c)
    items.append(b)  # a removed entry can come back
    assert items.entries() == [a, c, b]
