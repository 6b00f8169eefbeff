"""Worker processes that map a function over items and yield the results in input order.

Nothing here knows what a cluster is: ``pipeline.flow`` hands in its worker's
start and step functions (module-level, so a worker process can import them).
Results come back in the order of the items whatever ``jobs`` is, so ``--jobs 1``
and ``--jobs N`` give the same bytes.  ``jobs <= 1`` (or a single item) runs in
this process: no pool, no pickling.  ``environment`` is set for the workers
before they start (the Go runtime of the embedded OPA reads it only then); a
variable the user set wins.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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
    once first.  ``stop`` runs after the in-process path (workers just exit)."""
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
    context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
    chunk = max(1, min(32, len(items) // (jobs * 8)))
    try:
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=start, initargs=tuple(start_args)
        ) as pool:
            yield from pool.map(step, items, chunksize=chunk)
    finally:
        _stop_helpers()


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
