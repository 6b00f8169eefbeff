"""Worker processes that map a function over items and yield the results in input order.

Nothing here knows what a cluster is: ``pipeline.flow`` hands in its worker's
start and step functions (module-level, so a worker process can import them).
Results come back in the order of the items whatever ``jobs`` is, so ``--jobs 1``
and ``--jobs N`` give the same bytes.  ``jobs <= 1`` (or a single item) runs in
this process: no pool, no pickling.  ``environment`` is set for the workers
before they start (the Go runtime of the embedded OPA reads it only then); a
variable the user set wins.

Interrupts: a Ctrl-C reaches the whole process group, but the workers ignore
it (programs they start do not), so it is this process that acts on it: it
stops the workers at once (SIGTERM, SIGKILL if one lingers), waits for them and lets the
``KeyboardInterrupt`` go on: no traceback from any worker, no wait for the
clusters still queued.  The same happens when the caller stops reading early
or fails.  There are no threads here: each worker has its own pipe, which only
it and this process hold, so a worker that dies, even half-way through a
message, is seen as dead (end of file) and never waited for forever.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any, TypeVar

from pipeline.interrupts import blocked

T = TypeVar("T")
R = TypeVar("R")

STOP_SECONDS = 2.0  # a worker asked to stop (or terminated) gets this long before SIGKILL
_WINDOW = 2  # chunks handed out per worker ahead of the one the caller waits for


class WorkerError(RuntimeError):
    """A worker process ended without sending its results (killed, crashed, out of memory)."""


class _RemoteTraceback(Exception):
    """The traceback of an error raised in a worker, kept as its ``__cause__``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def ordered_map(
    step: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    *,
    start: Callable[..., None],
    start_args: Iterable[object] = (),
    stop: Callable[[], None],
    environment: Mapping[str, str] | None = None,
) -> Iterator[R]:
    """``step(item)`` for every item, in order; each worker runs ``start(*start_args)``
    once first.  ``stop`` runs after the in-process path (workers just exit).

    A ``KeyboardInterrupt`` (or any error, or the caller closing the iterator)
    stops every worker before it propagates; an error raised by ``step`` or
    ``start`` in a worker is raised here, with the worker's traceback as its cause.
    """
    if jobs <= 1 or len(items) <= 1:
        start(*start_args)
        try:
            for item in items:
                yield step(item)
        finally:
            stop()
        return
    for key, value in (environment or {}).items():
        os.environ.setdefault(key, value)
    chunk = max(1, min(32, len(items) // (jobs * 8)))
    chunks = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
    pool = _Pool(min(jobs, len(chunks)), step, start, tuple(start_args))
    try:
        yield from pool.results(chunks)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        _stop_helpers()


class _Worker:
    def __init__(self, process: Any, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.task: int | None = None  # the chunk it works on


class _Pool:
    """Worker processes, each with its own pipe; chunks go to whichever is idle."""

    def __init__(
        self,
        size: int,
        step: Callable[[Any], Any],
        start: Callable[..., None],
        start_args: tuple[object, ...],
    ) -> None:
        self.workers: list[_Worker] = []
        context: Any = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
        if os.name == "posix":
            # Started here, not by the first worker's start below: starting it unblocks
            # SIGINT in this thread (CPython's resource_tracker.ensure_running does).
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
        # SIGINT stays blocked while the forkserver and the workers start: they inherit
        # the mask, so none can die of a Ctrl-C before it ignores SIGINT.  One that
        # arrives meanwhile is delivered here right after, and stops the new workers.
        try:
            with blocked():
                for _ in range(size):
                    mine, theirs = context.Pipe(duplex=True)
                    process = context.Process(
                        target=_serve, args=(theirs, step, start, start_args), daemon=True
                    )
                    process.start()
                    self.workers.append(_Worker(process, mine))
                    theirs.close()  # the worker's end is its own: its death is an EOF here
        except BaseException:
            self.terminate()
            raise

    def results(self, chunks: Sequence[list[Any]]) -> Iterator[Any]:
        """Every chunk's results, in order; at most ``_WINDOW`` chunks per worker ahead."""
        done: dict[int, list[Any]] = {}
        sent = 0
        for wanted in range(len(chunks)):
            while wanted not in done:
                for worker in self.workers:
                    limit = wanted + _WINDOW * len(self.workers)
                    if worker.task is None and sent < min(len(chunks), limit):
                        worker.conn.send((sent, chunks[sent]))
                        worker.task, sent = sent, sent + 1
                busy = [w for w in self.workers if w.task is not None]
                ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
                for worker in busy:
                    if worker.conn in ready or worker.process.sentinel in ready:
                        index, result = self._receive(worker)
                        done[index] = result
            yield from done.pop(wanted)

    def _receive(self, worker: _Worker) -> tuple[int, list[Any]]:
        try:
            index, ok, payload = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(STOP_SECONDS)
            code = worker.process.exitcode
            raise WorkerError(
                f"a worker process ended while rendering (exit code {code});"
                " out of memory, or killed?"
            ) from None
        worker.task = None
        if not ok:
            error, text = payload
            error.__cause__ = _RemoteTraceback(text)
            raise error
        return index, payload

    def close(self) -> None:
        """Ask every worker to stop, and wait for it (terminated if it does not)."""
        for worker in self.workers:
            with suppress(OSError):  # gone already
                worker.conn.send(None)
        self._reap()

    def terminate(self) -> None:
        """Stop every worker now (SIGTERM), and wait for it (SIGKILL if it lingers)."""
        for worker in self.workers:
            if worker.process.exitcode is None:
                worker.process.terminate()
        self._reap()

    def _reap(self) -> None:
        for worker in self.workers:
            worker.process.join(STOP_SECONDS)
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
            worker.process.close()
        self.workers = []


def _serve(
    conn: Connection,
    step: Callable[[Any], Any],
    start: Callable[..., None],
    start_args: tuple[object, ...],
) -> None:
    """A worker: ``start``, then each chunk sent, until told to stop (``None``) or orphaned."""
    # The parent decides what a Ctrl-C stops.  A handler that does nothing, not SIG_IGN:
    # programs a step runs get the default back (exec resets handlers, not SIG_IGN).
    signal.signal(signal.SIGINT, _ignore)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        start(*start_args)
    except BaseException as err:  # reported with the first chunk, as ``step``'s are
        failed: BaseException | None = err
    else:
        failed = None
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if task is None:
            return
        index, chunk = task
        try:
            if failed is not None:
                raise failed
            reply: tuple[int, bool, Any] = (index, True, [step(item) for item in chunk])
        except BaseException as err:
            reply = (index, False, _portable(err))
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception as err:  # a result that does not pickle
            conn.send((index, False, _portable(err)))


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A SIGINT in a worker: nothing to do (the parent stops the workers)."""


def _portable(err: BaseException) -> tuple[BaseException, str]:
    """``err`` as it can cross to the parent (or a stand-in that can), and its traceback."""
    import pickle

    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        err = RuntimeError(f"{type(err).__name__}: {err}")
    return err, text


def _stop_helpers() -> None:
    """Stop the forkserver and resource tracker multiprocessing started for the pool:
    they would otherwise live until this process ends, and a command must leave no
    process behind.  (Private hooks, present in CPython 3.11-3.14; missing ones are
    skipped, and the helpers then end with this process, as before.)"""
    from multiprocessing import forkserver, resource_tracker

    for helper in (
        getattr(forkserver, "_forkserver", None),
        getattr(resource_tracker, "_resource_tracker", None),
    ):
        stop = getattr(helper, "_stop", None)
        if stop is not None:
            stop()
