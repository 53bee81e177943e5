"""Where a round's trials run: local worker processes, or a Dask distributed cluster.

A runner yields one :class:`Outcome` per :class:`~.trial.TrialTask` as each finishes and
never retries: the tuning loop decides whether to run a lost trial again.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.connection import Connection, Pipe
from typing import Any

from .._checks import fail, positive_int
from .trial import TrialData, TrialTask, run_trial

logger = logging.getLogger("deeprecipe.recipe")

MAX_WORKERS = 1024  # local processes; more is a typo (past 2**31, multiprocessing overflows)

TrialFunction = Callable[[TrialTask, TrialData], dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    """How one task ended: ``result`` (a dict from the trial function), or ``error`` (the
    trial raised; ``lost`` is True when its worker died instead)."""

    task: TrialTask
    result: dict[str, Any] | None = None
    error: str | None = None
    lost: bool = False


class Runner:
    """Runs batches of trials (``function`` on ``data``); ``description`` says where, for
    reports. Use as a context manager, or call :meth:`close`."""

    description: str

    def __init__(self, data: TrialData, function: TrialFunction) -> None:
        self.data, self.function = data, function

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the processes, or the cluster's data and client."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def failure_text(error: BaseException) -> str:
    """``"ValueError: message"`` and the last line of the traceback that raised it."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


# --- local processes ------------------------------------------------------------------------

_WORKER_DATA: TrialData  # in a worker process: set by the pool's initializer


def _install_data(data: TrialData, lead: Connection) -> None:
    """The pool's initializer: keep the data, ignore Ctrl-C (the parent stops the pool; a
    worker would only print a traceback) and end with the lead process (:func:`_exit_with`)."""
    global _WORKER_DATA
    _WORKER_DATA = data
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(lead,), name="deeprecipe-lead-watch",
                     daemon=True).start()


def _exit_with(lead: Connection) -> None:
    """End this worker at once when the lead process closes its end of the pipe (it never
    writes to it): the lead has died, or stopped the pool."""
    with contextlib.suppress(EOFError, OSError):
        lead.recv_bytes()
    os._exit(1)  # nobody is left to take a result; no cleanup could block the exit


@contextlib.contextmanager
def _handled(handler: Any, signums: tuple[int, ...]) -> Iterator[None]:
    """Within it, ``handler`` handles ``signums``, then the handlers they had again (in the
    main thread only: elsewhere Python cannot set handlers, and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the pool starts its processes, then deliver them:
    interrupted halfway, a pool can leave a process it never registered, which its shutdown
    waits for forever, or which dies with a traceback once this process has gone."""
    received: list[int] = []
    with _handled(lambda got, frame: received.append(got), (signal.SIGINT, signal.SIGTERM)):
        yield
    for got in dict.fromkeys(received):  # once each, in the order they came
        signal.raise_signal(got)


def _call(function: TrialFunction, task: TrialTask) -> dict[str, Any]:
    """Run ``function`` on the data the initializer installed."""
    return function(task, _WORKER_DATA)


def check_workers(where: str, arg: str, value: Any) -> int:
    """``value`` if it is a number of local worker processes, 1 to :data:`MAX_WORKERS`."""
    workers = positive_int(where, arg, value)
    if workers > MAX_WORKERS:
        raise fail(where, arg, f"a positive integer up to {MAX_WORKERS}", value)
    return workers


def start_method(preferred: str | None = None) -> str:
    """``preferred``, else ``"forkserver"`` where available, else ``"spawn"``; never
    ``"fork"`` (a forked child inherits threads and locks in whatever state they were)."""
    methods = multiprocessing.get_all_start_methods()
    if preferred is not None:
        if preferred not in methods or preferred == "fork":
            allowed = [m for m in methods if m != "fork"]
            raise fail("LocalRunner", "start_method", "one of " + ", ".join(map(repr, allowed)),
                       preferred)
        return preferred
    return "forkserver" if "forkserver" in methods else "spawn"


class LocalRunner(Runner):
    """Trials in ``workers`` local processes started by ``forkserver`` (else ``spawn``;
    never ``fork``); the data reaches each worker once, through the pool's initializer.
    A worker that dies breaks the pool: its unfinished tasks come back ``lost`` and the next
    batch gets a fresh pool. A worker ends with the process that started it, however that
    dies (it waits on a pipe only that process holds open)."""

    def __init__(self, data: TrialData, workers: int = 2, *,
                 function: TrialFunction = run_trial, method: str | None = None) -> None:
        super().__init__(data, function)
        self.workers = check_workers("LocalRunner", "workers", workers)
        self.method = start_method(method)
        processes = "process" if self.workers == 1 else "processes"
        self.description = f"{self.workers} local worker {processes} ({self.method})"
        self._pool: ProcessPoolExecutor | None = None
        self._lead: Connection | None = None  # the write end of the pool's pipe (see close)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context(self.method)
            # the workers get the read end; the write end stays in this process alone
            read, self._lead = Pipe(duplex=False)
            if self.method == "forkserver":
                # Workers fork from a server that has imported deeprecipe once: they start
                # in milliseconds instead of each importing NumPy and scikit-learn again.
                context.set_forkserver_preload([run_trial.__module__])
                # Ctrl-C ignored, which the server and every worker it forks inherit (a
                # terminal sends it to the whole process group; this process stops the pool)
                with _handled(signal.SIG_IGN, (signal.SIGINT,)):
                    forkserver.ensure_running()  # a fork and an exec: milliseconds
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_install_data,
                initargs=(self.data, read),
            )
        return self._pool

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[Outcome]:
        with _signals_deferred():  # submitting starts the worker processes
            pool = self._executor()
            pending: dict[Future[dict[str, Any]], TrialTask] = {
                pool.submit(_call, self.function, task): task for task in tasks
            }
        broken = False
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = self._outcome(pending.pop(future), future)
                broken = broken or outcome.lost
                yield outcome
        if broken:  # a broken pool runs nothing more: the next batch starts a new one
            self.close()

    def _outcome(self, task: TrialTask, future: Future[dict[str, Any]]) -> Outcome:
        if future.cancelled():
            return Outcome(task, error="cancelled: its worker pool broke", lost=True)
        error = future.exception()
        if error is None:
            return Outcome(task, result=future.result())
        if isinstance(error, BrokenProcessPool):
            logger.warning("trial %s: a worker process died (%s)", task.key, error)
            return Outcome(task, error=f"a worker process died: {error}", lost=True)
        return Outcome(task, error=failure_text(error))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._lead is not None:
            self._lead.close()  # a worker the shutdown did not end, ends now
            self._lead = None


# --- Dask distributed -----------------------------------------------------------------------


class DaskRunner(Runner):
    """Trials as tasks on a Dask distributed cluster: ``client`` is a ``distributed.Client``
    (left open) or a scheduler address such as ``"tcp://127.0.0.1:8786"`` (a client is made
    and closed with the runner). The data is scattered once (again if the cluster lost it);
    a task Dask gives up on (``KilledWorker``) comes back ``lost``."""

    def __init__(self, data: TrialData, client: Any, *,
                 function: TrialFunction = run_trial) -> None:
        try:
            from distributed import Client  # optional and heavy: imported when used
        except ImportError:  # pragma: no cover - depends on the installation
            raise ImportError("tune: a Dask client needs the distributed package. help: "
                              "pip install 'deeprecipe[dask]'.") from None
        super().__init__(data, function)
        self._owned = isinstance(client, str)
        if self._owned:
            client = Client(client, timeout="30s")
        elif not isinstance(client, Client):
            raise fail("tune", "client", "a distributed.Client or a scheduler address such as "
                       "'tcp://127.0.0.1:8786'", client, error=TypeError)
        self.client = client
        self.description = f"Dask cluster at {client.scheduler.address}"
        self._scattered: Any = None

    def _data(self) -> Any:
        """The data's future on the cluster, scattered again if the cluster lost it."""
        if self._scattered is None or self._scattered.status != "finished":
            self._scattered = self.client.scatter(self.data, broadcast=True, hash=False)
        return self._scattered

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[Outcome]:
        from distributed import as_completed  # optional and heavy, as above

        data = self._data()
        futures = {
            self.client.submit(
                self.function, task, data, pure=False,
                key=f"deeprecipe-trial-{task.key}-{task.attempt}-{uuid.uuid4().hex[:8]}",
            ): task
            for task in tasks
        }
        for future in as_completed(futures):
            yield self._outcome(futures[future], future)

    def _outcome(self, task: TrialTask, future: Any) -> Outcome:
        from distributed import KilledWorker  # optional and heavy, as above
        from distributed.client import FutureCancelledError

        try:
            return Outcome(task, result=future.result())
        except (KilledWorker, FutureCancelledError) as error:
            logger.warning("trial %s: its Dask worker was lost (%s)", task.key, error)
            self._scattered = None  # the data may have gone with the worker
            return Outcome(task, error=f"the Dask worker was lost: {failure_text(error)}",
                           lost=True)
        except Exception as error:
            return Outcome(task, error=failure_text(error))
        finally:
            future.release()

    def close(self) -> None:
        if self._scattered is not None:
            self._scattered.release()
            self._scattered = None
        if self._owned:
            self.client.close()

