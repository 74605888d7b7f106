"""The worker vocabulary (superqt's names, kind chosen by the caller), no lost error, one write thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.gui.workers import InlineRunner, JobProgress, QueuedRunner, Workers, call, reporting, steps

# the subject is the executors themselves: which thread runs a job, order and overlap on the
# write thread, a cancel mid-run (the runners without threads are built in their own tests)
pytestmark = pytest.mark.threaded(reason="tests the thread pools themselves")


def _core(n: int, progress: Callable[[int, int], None]) -> int:
    for i in range(n):
        time.sleep(0.002)
        progress(i + 1, n)
    return threading.get_ident()


def test_core_job_reports_progress_and_result_on_the_gui_thread(qtbot: QtBot, workers: Workers) -> None:
    seen: list[tuple[JobProgress, bool]] = []
    gui = threading.get_ident()
    job = workers.read(reporting(_core, 50))
    job.yielded.connect(lambda p: seen.append((p, threading.get_ident() == gui)))
    with qtbot.waitSignal(job.returned, timeout=5000) as blocker:
        pass
    assert blocker.args[0] != gui, "the job ran on the GUI thread"
    assert seen and all(on_gui for _, on_gui in seen)
    assert seen[-1][0] == JobProgress(50, 50)


def test_errors_come_back_as_objects(qtbot: QtBot, workers: Workers) -> None:
    def boom() -> None:
        raise ValueError("bad line 3")

    job = workers.read(call(boom), errored=lambda _exc: None)
    with qtbot.waitSignal(job.errored, timeout=5000) as blocker:
        pass
    assert isinstance(blocker.args[0], ValueError) and "line 3" in str(blocker.args[0])


def test_cancel_stops_a_core_job_between_progress_calls(qtbot: QtBot, workers: Workers) -> None:
    calls: list[int] = []

    def slow(progress: Callable[[int, int], None]) -> str:
        for i in range(10_000):
            calls.append(i)
            time.sleep(0.001)
            progress(i, 10_000)
        return "finished everything"

    job = workers.read(reporting(slow))
    results: list[object] = []
    job.returned.connect(results.append)
    with qtbot.waitSignal(job.yielded, timeout=5000):
        pass
    with qtbot.waitSignal(job.aborted, timeout=5000):
        job.cancel()
    qtbot.waitUntil(lambda: job.done, timeout=5000)
    assert results == [] and len(calls) < 10_000


def test_writes_run_one_at_a_time_in_order(qtbot: QtBot, workers: Workers) -> None:
    active: list[int] = []
    overlap: list[bool] = []
    order: list[int] = []

    def write(i: int) -> Generator[None, None, int]:
        active.append(i)
        overlap.append(len(active) > 1)
        time.sleep(0.01)
        yield None
        order.append(i)
        active.remove(i)
        return i

    jobs = [workers.write(steps(write, i)) for i in range(5)]
    assert workers.writing
    with qtbot.waitSignal(workers.busyChanged, timeout=5000) as blocker:
        pass
    assert blocker.args == [False]
    assert order == [0, 1, 2, 3, 4] and not any(overlap)
    assert all(j.done for j in jobs)


def test_inline_runner_runs_synchronously(qapp: object) -> None:
    w = Workers(reads=InlineRunner(), writes=InlineRunner())
    results: list[object] = []
    finished: list[str] = []
    job = w.read(call(lambda: 42), returned=results.append, finished=lambda: finished.append("r"))
    job2 = w.write(call(lambda x: x + 1, 1), returned=results.append)
    assert results == [42, 2] and finished == ["r"]
    assert job.done and job2.done and not w.writing


def test_runtime_errors_end_the_job_like_any_error(qtbot: QtBot, workers: Workers) -> None:
    """superqt reads a RuntimeError as "worker deleted" and would never finish the job."""

    def plain() -> None:
        raise RuntimeError("database is locked")

    def gen() -> Generator[int, None, None]:
        yield 1
        raise NotImplementedError("no reader for this")

    for task in (call(plain), steps(gen)):
        errors: list[Exception] = []
        job = workers.write(task, errored=errors.append)
        with qtbot.waitSignal(job.finished, timeout=5000):
            pass
        assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
        assert job.done
    qtbot.waitUntil(lambda: not workers.writing, timeout=5000)


def test_an_error_without_a_handler_is_reported_and_logged(
    qtbot: QtBot, workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    def read_session_file() -> None:
        raise OSError("session 7: Parquet magic bytes not found")

    with qtbot.waitSignal(workers.unhandledError, timeout=5000) as blocker:
        workers.read(call(read_session_file))
    message, exc = blocker.args
    assert isinstance(exc, OSError)
    assert "read session file failed" in message.lower() and "magic bytes" in message
    assert any("magic bytes" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


def test_a_handled_error_is_not_reported_twice(qapp: object) -> None:
    w = Workers(reads=InlineRunner(), writes=InlineRunner())
    unhandled: list[str] = []
    handled: list[Exception] = []
    w.unhandledError.connect(lambda message, _exc: unhandled.append(message))
    w.read(call(int, "not a number"), errored=handled.append)
    w.read(call(int, "x", what="parsing the lap count"))
    assert len(handled) == 1 and isinstance(handled[0], ValueError)
    assert len(unhandled) == 1 and unhandled[0].startswith("Parsing the lap count failed")


def test_the_caller_chooses_how_a_job_runs(qapp: object) -> None:
    """A plain function is called as it is, even with a parameter named ``progress``."""
    w = Workers(reads=InlineRunner(), writes=InlineRunner())
    got: list[object] = []

    def plain(progress: object = "untouched") -> object:
        return progress

    w.read(call(plain), returned=got.append)
    assert got == ["untouched"]
    reports: list[object] = []

    def core(*, report: Callable[[int, int], None]) -> str:
        report(1, 1)
        return "done"

    w.read(reporting(core, progress_arg="report"), yielded=reports.append, returned=got.append)
    assert got[-1] == "done" and reports == [JobProgress(1, 1)]


def test_queued_runner_runs_each_job_later_on_the_gui_thread_in_order(qtbot: QtBot) -> None:
    """The submit returns first (as with a pool); the jobs then run one per event-loop turn."""
    reads = QueuedRunner()
    w = Workers(reads=reads, writes=QueuedRunner())
    ran: list[tuple[int, int]] = []
    returned: list[object] = []

    def job(i: int) -> int:
        ran.append((i, threading.get_ident()))
        if i == 0:  # a job submitted by a running job waits behind the ones already queued
            w.read(call(job, 3), returned=returned.append)
        return i

    jobs = [w.read(call(job, i), returned=returned.append) for i in range(3)]
    assert ran == [] and reads.pending() == 3 and not any(j.done for j in jobs)
    qtbot.waitUntil(lambda: len(returned) == 4, timeout=5000)
    assert [i for i, _ in ran] == [0, 1, 2, 3] and returned == [0, 1, 2, 3]
    assert {thread for _, thread in ran} == {threading.get_ident()}
    assert all(j.done for j in jobs) and reads.pending() == 0


def test_queued_runner_honours_a_cancel_before_the_jobs_turn(qtbot: QtBot) -> None:
    w = Workers(reads=QueuedRunner(), writes=QueuedRunner())
    work: list[int] = []
    outcome: list[object] = []

    def core(progress: Callable[[int, int], None]) -> str:
        progress(0, 10)
        work.append(1)
        return "finished everything"

    job = w.read(reporting(core), returned=outcome.append, aborted=lambda: outcome.append("aborted"))
    job.cancel()
    qtbot.waitUntil(lambda: job.done, timeout=5000)
    assert outcome == ["aborted"] and work == []


def test_queued_runner_reports_progress_and_wait_runs_what_is_queued(qapp: object) -> None:
    w = Workers(reads=QueuedRunner(), writes=QueuedRunner())
    events: list[object] = []
    busy: list[bool] = []
    w.busyChanged.connect(busy.append)

    def core(progress: Callable[[int, int], None]) -> str:
        for i in range(3):
            progress(i + 1, 3)
        return "saved"

    job = w.write(reporting(core), yielded=events.append, returned=events.append)
    assert w.writing and events == [] and busy == [True]
    assert w.wait()  # without an event loop: the queued job runs now
    # the first report and the last (done == total) always cross; the ones between are throttled
    assert events[0] == JobProgress(1, 3) and events[-2:] == [JobProgress(3, 3), "saved"]
    assert job.done and not w.writing and busy == [True, False]
