"""The worker vocabulary: progress, result, error, cancel, and the single write thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

from pytestqt.qtbot import QtBot

from desktop_app.gui.workers import InlineRunner, JobProgress, Workers


def _core(n: int, progress: Callable[[int, int], None]) -> int:
    for i in range(n):
        time.sleep(0.002)
        progress(i + 1, n)
    return threading.get_ident()


def test_core_job_reports_progress_and_result_on_the_gui_thread(qtbot: QtBot, workers: Workers) -> None:
    seen: list[tuple[JobProgress, bool]] = []
    gui = threading.get_ident()
    job = workers.read(_core, 50)
    job.progress.connect(lambda p: seen.append((p, threading.get_ident() == gui)))
    with qtbot.waitSignal(job.result, timeout=5000) as blocker:
        pass
    assert blocker.args[0] != gui, "the job ran on the GUI thread"
    assert seen and all(on_gui for _, on_gui in seen)
    assert seen[-1][0] == JobProgress(50, 50)


def test_errors_come_back_as_objects(qtbot: QtBot, workers: Workers) -> None:
    def boom() -> None:
        raise ValueError("bad line 3")

    job = workers.read(boom)
    with qtbot.waitSignal(job.error, timeout=5000) as blocker:
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

    job = workers.read(slow)
    results: list[object] = []
    job.result.connect(results.append)
    with qtbot.waitSignal(job.progress, timeout=5000):
        pass
    with qtbot.waitSignal(job.cancelled, timeout=5000):
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

    jobs = [workers.write(write, i) for i in range(5)]
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
    job = w.read(lambda: 42, on_result=results.append, on_finished=lambda: finished.append("r"))
    job2 = w.write(lambda x: x + 1, 1, on_result=results.append)
    assert results == [42, 2] and finished == ["r"]
    assert job.done and job2.done and not w.writing


def test_runtime_errors_end_the_job_like_any_error(qtbot: QtBot, workers: Workers) -> None:
    """superqt reads a RuntimeError as "worker deleted" and would never finish the job."""

    def plain() -> None:
        raise RuntimeError("database is locked")

    def gen() -> Generator[int, None, None]:
        yield 1
        raise NotImplementedError("no reader for this")

    for func in (plain, gen):
        job = workers.write(func)
        with qtbot.waitSignal(job.finished, timeout=5000):
            errors: list[Exception] = []
            job.error.connect(errors.append)
        assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
        assert job.done
    qtbot.waitUntil(lambda: not workers.writing, timeout=5000)
