"""Steps a Ctrl-C must not cut in two.

Swapping a rendered output directory into place and moving a deploy repo's
branch together with its checkout are each a few calls that leave a mess when
only some of them ran.  ``deferred`` holds a SIGINT back until its block is
done and then delivers it, so the command still ends as interrupted (exit 130),
after the step.  Child processes the block starts must not get the signal either:
a Ctrl-C goes to the whole process group, so they start with SIGINT ``blocked``
and in a process group of their own (``pipeline.publish.git.Git.shielded``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deferred() -> Iterator[None]:
    """SIGINT held back meanwhile, then delivered once (as ``KeyboardInterrupt`` unless
    the process set another handler).  Only the main thread receives signals: elsewhere
    this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
        if caught:
            signal.raise_signal(signal.SIGINT)


@contextmanager
def blocked() -> Iterator[None]:
    """SIGINT blocked in this thread meanwhile (POSIX), and so in every process started
    meanwhile, whose mask it inherits, also across ``exec``; one that arrives meanwhile
    is delivered here when the block ends.  (Moving a child into its own process group
    alone is not enough: a Ctrl-C can reach it between its fork and its ``setpgid``.)"""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
