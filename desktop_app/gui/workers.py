"""The one worker vocabulary of the GUI, on top of :mod:`superqt.utils` workers.

Every background job is a superqt worker with the same signals, whatever it does:

``started`` -> ``yielded`` (progress, any number of times) -> ``returned`` (the result) or
``errored`` (the exception object) or ``aborted`` (cancelled) -> ``finished``.

Jobs are generator functions (cancellation is honoured between yields), or core functions
that take a ``progress(done, total)`` callable (the Qt-free pipeline's protocol): for those,
:func:`progress_job` adapts the callback to ``yielded`` and raises :class:`Cancelled` in the
core when the user cancels, so cancellation works between progress calls.

Two executors (docs/architecture.md#threads): :attr:`Workers.reads` runs reads and previews in parallel
(up to the core count) and :attr:`Workers.writes` runs every save and database write on one
thread, in submission order. Both are injectable: :class:`InlineRunner` runs a job
synchronously on the calling thread, for tests of logic that is not about threads.

Results cross into the GUI thread at one seam: the worker's signals, connected on the GUI
thread to GUI-thread receivers, are delivered queued.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import GeneratorWorker, WorkerBase, create_worker
from superqt.utils._qthreading import GeneratorWorkerSignals


class Cancelled(Exception):
    """Raised inside a core job's ``progress`` callback when the user cancelled the job."""


class _Carried(Exception):
    """Carries a job's RuntimeError past superqt's GeneratorWorker, which takes any
    RuntimeError for "the worker was deleted" and then ends without ``errored`` or
    ``finished`` (the job would never end). :class:`Job` unwraps it."""

    def __init__(self, original: RuntimeError) -> None:
        super().__init__(str(original))
        self.original = original


@dataclass(frozen=True)
class JobProgress:
    """What a job reports while it runs: ``done`` out of ``total`` (units are the job's)."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, max(0.0, self.done / self.total))


#: How often a core job's progress callback may cross into the GUI thread (seconds).
PROGRESS_INTERVAL_S = 0.03


class ProgressWorker(WorkerBase[Any]):
    """A superqt worker for a core function taking ``progress(done, total)``.

    It has the same signals as :class:`superqt.utils.GeneratorWorker`: each (throttled)
    progress call is ``yielded`` as a :class:`JobProgress`, and a cancel request makes the
    next progress call raise :class:`Cancelled`, which ends the job with ``aborted``.
    """

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(SignalsClass=GeneratorWorkerSignals)
        self._func = func
        self._args = args
        self._kwargs = kwargs
        self._last_emit = 0.0

    def _progress(self, done: int, total: int) -> None:
        if self.abort_requested:
            raise Cancelled()
        now = time.monotonic()
        # Throttled: a reader may call this thousands of times; the GUI needs a few a second.
        if done >= total or now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self.yielded.emit(JobProgress(int(done), int(total)))

    def work(self) -> Any:
        try:
            return self._func(*self._args, progress=self._progress, **self._kwargs)
        except Cancelled:
            self.aborted.emit()
            return None


class Runner(Protocol):
    """Where workers run: a ``QThreadPool`` or :class:`InlineRunner`."""

    def start(self, worker: WorkerBase[Any]) -> None: ...


class InlineRunner:
    """Runs each worker synchronously, on the calling thread (for tests of non-thread logic)."""

    def start(self, worker: WorkerBase[Any]) -> None:
        worker.run()

    def waitForDone(self, msecs: int = -1) -> bool:
        return True


def make_pool(threads: int) -> QThreadPool:
    pool = QThreadPool()
    pool.setMaxThreadCount(max(1, threads))
    return pool


class Job(QObject):
    """A handle on a submitted worker: its signals under plain names, and :meth:`cancel`.

    ``progress(object)`` carries whatever the job yields (:class:`JobProgress` for core jobs),
    ``result(object)`` the return value, ``error(object)`` the exception; ``finished()``
    always comes last, also after a cancel.
    """

    progress = Signal(object)
    result = Signal(object)
    error = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, worker: WorkerBase[Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.done = False
        # The one seam: worker signals (emitted on the worker thread) are re-emitted by this
        # GUI-thread object, so every receiver runs on the GUI thread.
        signals: Any = worker.signals  # superqt's stubs do not know signal-to-signal connects
        signals.yielded.connect(self.progress)
        signals.returned.connect(self.result)
        signals.errored.connect(self._on_error)
        signals.aborted.connect(self.cancelled)
        signals.finished.connect(self._on_finished)

    def cancel(self) -> None:
        """Ask the job to stop at its next yield (or progress call)."""
        self.worker.quit()

    @property
    def cancel_requested(self) -> bool:
        return bool(self.worker.abort_requested)

    def _on_error(self, exc: Exception) -> None:
        self.error.emit(exc.original if isinstance(exc, _Carried) else exc)

    def _on_finished(self) -> None:
        self.done = True
        self.finished.emit()


class Workers(QObject):
    """The GUI's two executors and the jobs running on them.

    ``reads`` is parallel (core count by default); ``writes`` has exactly one thread so
    that saves and catalogue writes never race and run in the order they were asked for.
    """

    busyChanged = Signal(bool)

    def __init__(
        self,
        reads: Runner | None = None,
        writes: Runner | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.reads: Runner = reads if reads is not None else make_pool(os.cpu_count() or 1)
        self.writes: Runner = writes if writes is not None else make_pool(1)
        self._jobs: set[Job] = set()
        self._write_jobs: set[Job] = set()

    def read(
        self,
        func: Callable[..., Any],
        *args: Any,
        on_progress: Callable[[Any], object] | None = None,
        on_result: Callable[[Any], object] | None = None,
        on_error: Callable[[Exception], object] | None = None,
        on_cancel: Callable[[], object] | None = None,
        on_finished: Callable[[], object] | None = None,
        **kwargs: Any,
    ) -> Job:
        """Run ``func(*args, **kwargs)`` on the parallel read pool.

        The ``on_*`` callbacks are connected before the job starts (so they also work with
        :class:`InlineRunner`) and always run on the GUI thread.
        """
        hooks = _Hooks(on_progress, on_result, on_error, on_cancel, on_finished)
        return self._submit(self.reads, func, args, kwargs, hooks, write=False)

    def write(
        self,
        func: Callable[..., Any],
        *args: Any,
        on_progress: Callable[[Any], object] | None = None,
        on_result: Callable[[Any], object] | None = None,
        on_error: Callable[[Exception], object] | None = None,
        on_cancel: Callable[[], object] | None = None,
        on_finished: Callable[[], object] | None = None,
        **kwargs: Any,
    ) -> Job:
        """Run ``func(*args, **kwargs)`` on the single write thread (see :meth:`read`)."""
        hooks = _Hooks(on_progress, on_result, on_error, on_cancel, on_finished)
        return self._submit(self.writes, func, args, kwargs, hooks, write=True)

    @property
    def writing(self) -> bool:
        """True while a write job is queued or running."""
        return bool(self._write_jobs)

    @property
    def jobs(self) -> frozenset[Job]:
        return frozenset(self._jobs)

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until both pools are idle (tests and shutdown only, never mid-session)."""
        ok = True
        for pool in (self.reads, self.writes):
            wait = getattr(pool, "waitForDone", None)
            if wait is not None:
                ok = bool(wait(msecs)) and ok
        return ok

    def _submit(
        self,
        runner: Runner,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        hooks: _Hooks,
        *,
        write: bool,
    ) -> Job:
        if inspect.isgeneratorfunction(func):
            worker = create_worker(
                _carry_runtime_errors(func), *args, _start_thread=False, _ignore_errors=True, **kwargs
            )
        elif "progress" in inspect.signature(func).parameters:
            worker = ProgressWorker(func, *args, **kwargs)
        else:
            worker = create_worker(
                _as_generator(func),
                *args,
                _start_thread=False,
                _ignore_errors=True,
                _worker_class=GeneratorWorker,
                **kwargs,
            )
        job = Job(worker, self)
        was_busy = self.writing
        self._jobs.add(job)
        if write:
            self._write_jobs.add(job)
        hooks.connect(job)
        # Let go of the worker only on its very last signal (``_finished``, emitted after
        # ``finished``): dropping it earlier frees its signal object while the worker thread
        # may still be emitting through it (superqt keeps the same reference for the same reason).
        worker.signals._finished.connect(lambda _w: self._forget(job))
        if write and not was_busy:
            self.busyChanged.emit(True)
        # Start only after connecting: an inline runner emits everything right here.
        runner.start(worker)
        return job

    def _forget(self, job: Job) -> None:
        self._jobs.discard(job)
        if job in self._write_jobs:
            self._write_jobs.discard(job)
            if not self._write_jobs:
                self.busyChanged.emit(False)
        job.deleteLater()


@dataclass(frozen=True)
class _Hooks:
    progress: Callable[[Any], object] | None
    result: Callable[[Any], object] | None
    error: Callable[[Exception], object] | None
    cancel: Callable[[], object] | None
    finished: Callable[[], object] | None

    def connect(self, job: Job) -> None:
        if self.progress is not None:
            job.progress.connect(self.progress)
        if self.result is not None:
            job.result.connect(self.result)
        if self.error is not None:
            job.error.connect(self.error)
        if self.cancel is not None:
            job.cancelled.connect(self.cancel)
        if self.finished is not None:
            job.finished.connect(self.finished)


def _carry_runtime_errors(func: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Generator[Any, Any, Any]]:
    def job(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        try:
            return (yield from func(*args, **kwargs))
        except RuntimeError as exc:
            raise _Carried(exc) from exc

    job.__name__ = getattr(func, "__name__", "job")
    return job


def _as_generator(func: Callable[..., Any]) -> Callable[..., Generator[None, None, Any]]:
    """A plain function as a one-step generator job (cancellable before it starts)."""

    def job(*args: Any, **kwargs: Any) -> Generator[None, None, Any]:
        if False:  # pragma: no cover - makes this a generator function
            yield None
        try:
            return func(*args, **kwargs)
        except RuntimeError as exc:
            raise _Carried(exc) from exc

    job.__name__ = getattr(func, "__name__", "job")
    return job
