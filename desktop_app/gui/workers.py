"""Background jobs of the GUI: superqt workers under superqt's own names, and no lost error.

The caller says what kind of job it submits, with one of three constructors:

* :func:`call` -- a plain function, run once (cancel works only before it starts);
* :func:`steps` -- a generator function; what it yields is reported, and a cancel is honoured
  between yields;
* :func:`reporting` -- a Qt-free core function that takes a ``progress(done, total)``
  callable as the keyword the caller names (the pipeline's protocol); each call is reported
  as a :class:`JobProgress` (throttled), and a cancel makes the next call raise
  :class:`Cancelled` inside the core.

Every job has superqt's signal names, on :class:`Job`: ``yielded`` (progress, any number of
times), then exactly one of ``returned`` (the result), ``errored`` (the exception) or
``aborted`` (cancelled), then ``finished``. Handlers are passed under the same names when the
job is submitted. A job submitted without an ``errored`` handler still never loses its
error: :class:`Workers` logs it and emits :attr:`Workers.unhandledError` with a message the
window shows in its status bar.

Two executors (docs/architecture.md#threads): :attr:`Workers.reads` runs reads and previews
in parallel (up to the core count) and :attr:`Workers.writes` runs every save and database
write on one thread, in submission order. Both are injectable, for tests of logic that is not
about threads (docs/architecture.md#testing): :class:`InlineRunner` runs a job inside the
submitting call; :class:`QueuedRunner` runs it on the GUI thread at a later turn of the event
loop, so the caller sees what a pool gives it (the submit returns first, the outcome comes
through the event loop) without a second thread.

Results cross into the GUI thread at one seam: the worker's signals, connected to the
GUI-thread :class:`Job`, are delivered queued.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a core job's ``progress`` callback when the user cancelled the job."""


class _Carried(Exception):
    """Carries a generator job's RuntimeError past superqt's GeneratorWorker, which takes a
    RuntimeError raised by the generator for "the worker was deleted" and then ends without
    ``errored`` or ``finished``. :class:`Job` unwraps it."""

    def __init__(self, original: RuntimeError) -> None:
        super().__init__(str(original))
        self.original = original


@dataclass(frozen=True)
class JobProgress:
    """What a core job reports while it runs: ``done`` out of ``total`` (units are the job's)."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, max(0.0, self.done / self.total))


#: How often a core job's progress callback may cross into the GUI thread (seconds).
PROGRESS_INTERVAL_S = 0.03

Kind = Literal["call", "steps", "reporting"]


@dataclass(frozen=True)
class Task:
    """What to run and how: made by :func:`call`, :func:`steps` or :func:`reporting`."""

    kind: Kind
    func: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: the keyword that receives the progress callable (``reporting`` only)
    progress_arg: str = "progress"
    #: what the job does, for the message of an error nobody handles
    what: str = ""

    def describe(self) -> str:
        return self.what or getattr(self.func, "__name__", "background job").replace("_", " ")


def call(func: Callable[..., Any], /, *args: Any, what: str = "", **kwargs: Any) -> Task:
    """``func(*args, **kwargs)`` run once on a worker thread."""
    return Task("call", func, args, kwargs, what=what)


def steps(func: Callable[..., Generator[Any, Any, Any]], /, *args: Any, what: str = "", **kwargs: Any) -> Task:
    """A generator function: its yields are reported as ``yielded``; cancel works between them."""
    return Task("steps", func, args, kwargs, what=what)


def reporting(
    func: Callable[..., Any], /, *args: Any, progress_arg: str = "progress", what: str = "", **kwargs: Any
) -> Task:
    """A core function given a ``progress(done, total)`` callable as keyword ``progress_arg``."""
    return Task("reporting", func, args, kwargs, progress_arg=progress_arg, what=what)


class Runner(Protocol):
    """Where jobs run: a ``QThreadPool`` or :class:`InlineRunner`."""

    def start(self, job: Callable[[], None]) -> None: ...


class InlineRunner:
    """Runs each job synchronously, on the calling thread (for tests of non-thread logic)."""

    def start(self, job: Callable[[], None]) -> None:
        job()

    def waitForDone(self, msecs: int = -1) -> bool:
        return True


class QueuedRunner(QObject):
    """Runs each job on the thread that owns the runner (the GUI thread), one per turn of its
    event loop, in submission order; for GUI tests whose subject is not the threads.

    Unlike :class:`InlineRunner`, the submit returns before the job runs, as with a thread
    pool: the caller stores the :class:`Job` and connects to it first, a cancel before the
    job's turn ends it as a pool would (no ``returned``, then ``aborted``), and the handlers
    run from the event loop. What it does not give is a second thread: the GUI is blocked
    while a job runs, and a job runs from start to end, so a cancel can only come before it.
    :meth:`waitForDone` runs the jobs still queued, now (a pool's "block until done").
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: deque[Callable[[], None]] = deque()

    def start(self, job: Callable[[], None]) -> None:
        self._queue.append(job)
        # one timer per job, each taking the oldest: FIFO even for jobs submitted by a job
        QTimer.singleShot(0, self, self._run_next)

    def pending(self) -> int:
        """How many jobs are waiting for their turn."""
        return len(self._queue)

    def waitForDone(self, msecs: int = -1) -> bool:
        while self._queue:
            self._queue.popleft()()
        return True

    def _run_next(self) -> None:
        if self._queue:
            self._queue.popleft()()


def make_pool(threads: int) -> QThreadPool:
    pool = QThreadPool()
    pool.setMaxThreadCount(max(1, threads))
    return pool


class Job(QObject):
    """A submitted job: superqt's signals, and :meth:`cancel`.

    ``yielded(object)`` carries what the job reports (:class:`JobProgress` for ``reporting``
    jobs), then exactly one of ``returned(object)``, ``errored(object)`` (the exception) and
    ``aborted()``, then ``finished()`` -- which comes only once the worker thread is done
    with the job.
    """

    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    aborted = Signal()
    finished = Signal()

    def __init__(self, task: Task, worker: WorkerBase[Any], cancel: threading.Event) -> None:
        super().__init__()
        self.task = task
        self.worker = worker
        self.done = False
        self._outcome = False
        self._cancel = cancel
        # The one seam: the worker's signals are emitted on the worker thread and received by
        # this GUI-thread object, so every handler runs on the GUI thread.
        if isinstance(worker, GeneratorWorker):
            yielded: Any = worker.yielded  # superqt's stubs do not know signal-to-signal connects
            yielded.connect(self.yielded)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)

    def cancel(self) -> None:
        """Ask the job to stop at its next yield (or progress call)."""
        self._cancel.set()
        self.worker.quit()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def _on_returned(self, value: object) -> None:
        self._outcome = True
        self.returned.emit(value)

    def _on_errored(self, exc: Exception) -> None:
        if isinstance(exc, Cancelled):
            return  # reported as ``aborted`` when the run is over
        self._outcome = True
        self.errored.emit(exc.original if isinstance(exc, _Carried) else exc)

    def _on_ran(self) -> None:
        if not self._outcome:
            self.aborted.emit()  # cancelled: superqt emits no ``returned`` after a quit
        self.done = True
        self.finished.emit()


class _Reporter:
    """A ``reporting`` job's ``progress(done, total)``: throttled, raises :class:`Cancelled`.

    It holds no Qt object of the job (only the long-lived :class:`Workers` and a key), so the
    worker thread never holds the last reference to anything the GUI thread owns.
    """

    def __init__(self, workers: Workers, key: int, cancel: threading.Event) -> None:
        self._workers = workers
        self._key = key
        self._cancel = cancel
        self._last_emit = 0.0

    def __call__(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise Cancelled()
        now = time.monotonic()
        # Throttled: a reader may call this thousands of times; the GUI needs a few a second.
        if done >= total or now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self._workers._reported.emit(self._key, JobProgress(int(done), int(total)))


Handler = Callable[[Any], object]


class Workers(QObject):
    """The GUI's two executors and the jobs running on them.

    ``reads`` is parallel (core count by default); ``writes`` has exactly one thread so
    that saves and catalogue writes never race and run in the order they were asked for.
    """

    busyChanged = Signal(bool)
    #: (message, exception) for a job's error that no handler was given for
    unhandledError = Signal(str, object)
    #: emitted on a worker thread once a job's run is over (delivered queued, by job key)
    _ran = Signal(int)
    #: a ``reporting`` job's progress, emitted on its worker thread (delivered queued)
    _reported = Signal(int, object)

    def __init__(
        self,
        reads: Runner | None = None,
        writes: Runner | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.reads: Runner = reads if reads is not None else make_pool(os.cpu_count() or 1)
        self.writes: Runner = writes if writes is not None else make_pool(1)
        self._jobs: dict[int, Job] = {}
        self._write_jobs: set[int] = set()
        self._keys = itertools.count(1)
        self._ran.connect(self._on_ran)
        self._reported.connect(self._on_reported)

    def read(
        self,
        task: Task,
        *,
        yielded: Handler | None = None,
        returned: Handler | None = None,
        errored: Callable[[Exception], object] | None = None,
        aborted: Callable[[], object] | None = None,
        finished: Callable[[], object] | None = None,
    ) -> Job:
        """Run ``task`` on the parallel read pool.

        The handlers are connected before the job starts (so they also work with
        :class:`InlineRunner`) and always run on the GUI thread. Without ``errored`` an
        error is logged and reported through :attr:`unhandledError`.
        """
        return self._submit(self.reads, task, (yielded, returned, errored, aborted, finished), write=False)

    def write(
        self,
        task: Task,
        *,
        yielded: Handler | None = None,
        returned: Handler | None = None,
        errored: Callable[[Exception], object] | None = None,
        aborted: Callable[[], object] | None = None,
        finished: Callable[[], object] | None = None,
    ) -> Job:
        """Run ``task`` on the single write thread (see :meth:`read`)."""
        return self._submit(self.writes, task, (yielded, returned, errored, aborted, finished), write=True)

    @property
    def writing(self) -> bool:
        """True while a write job is queued or running."""
        return bool(self._write_jobs)

    @property
    def jobs(self) -> frozenset[Job]:
        return frozenset(self._jobs.values())

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until both pools are idle (tests and shutdown only, never mid-session)."""
        ok = True
        for pool in (self.reads, self.writes):
            wait = getattr(pool, "waitForDone", None)
            if wait is not None:
                ok = bool(wait(msecs)) and ok
        return ok

    def _submit(self, runner: Runner, task: Task, handlers: _Handlers, *, write: bool) -> Job:
        key = next(self._keys)
        cancel = threading.Event()
        worker: WorkerBase[Any]
        if task.kind == "steps":
            worker = GeneratorWorker(_carry_runtime_errors(task.func), *task.args, **task.kwargs)
        elif task.kind == "reporting":
            kwargs = {**task.kwargs, task.progress_arg: _Reporter(self, key, cancel)}
            worker = FunctionWorker(task.func, *task.args, **kwargs)
        else:
            worker = FunctionWorker(task.func, *task.args, **task.kwargs)
        job = Job(task, worker, cancel)
        self._connect(job, *handlers)
        was_busy = self.writing
        self._jobs[key] = job
        if write:
            self._write_jobs.add(key)
        if write and not was_busy:
            self.busyChanged.emit(True)
        # Start only after connecting: an inline runner emits everything right here.
        runner.start(_Run(worker, self, key))
        return job

    def _connect(
        self,
        job: Job,
        yielded: Handler | None,
        returned: Handler | None,
        errored: Callable[[Exception], object] | None,
        aborted: Callable[[], object] | None,
        finished: Callable[[], object] | None,
    ) -> None:
        if yielded is not None:
            job.yielded.connect(yielded)
        if returned is not None:
            job.returned.connect(returned)
        job.errored.connect(errored if errored is not None else partial(self._unhandled, job.task))
        if aborted is not None:
            job.aborted.connect(aborted)
        if finished is not None:
            job.finished.connect(finished)

    def _unhandled(self, task: Task, exc: Exception) -> None:
        message = f"{task.describe().capitalize()} failed: {exc}"
        log.error("%s", message, exc_info=(type(exc), exc, exc.__traceback__))
        self.unhandledError.emit(message, exc)

    def _on_reported(self, key: int, progress: object) -> None:
        job = self._jobs.get(key)
        if job is not None:
            job.yielded.emit(progress)

    def _on_ran(self, key: int) -> None:
        job = self._jobs.pop(key, None)
        if job is None:
            return
        job._on_ran()
        if key in self._write_jobs:
            self._write_jobs.discard(key)
            if not self._write_jobs:
                self.busyChanged.emit(False)
        # The worker thread let go of the worker before it reported, and the job has no Qt
        # parent: the job and its worker are freed here, on the GUI thread, once no caller
        # holds the job any more.


_Handlers = tuple[
    Handler | None,
    Handler | None,
    Callable[[Exception], object] | None,
    Callable[[], object] | None,
    Callable[[], object] | None,
]


class _Run:
    """What a runner runs: the worker's whole run, then "done" to the GUI thread.

    It drops its reference to the worker before it reports, so the worker (and its signal
    object, which lives on the GUI thread) is always released on the GUI thread.
    """

    def __init__(self, worker: WorkerBase[Any], workers: Workers, key: int) -> None:
        self._worker: WorkerBase[Any] | None = worker
        self._workers = workers
        self._key = key

    def __call__(self) -> None:
        worker, self._worker = self._worker, None
        try:
            if worker is not None:
                worker.run()
        finally:
            del worker
            self._workers._ran.emit(self._key)


def _carry_runtime_errors(func: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Generator[Any, Any, Any]]:
    def job(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        try:
            return (yield from func(*args, **kwargs))
        except RuntimeError as exc:
            raise _Carried(exc) from exc

    job.__name__ = getattr(func, "__name__", "job")
    return job
