"""Process start-up: every trick netpack plays to start fast, in one place, each with its figure.

``netpack build`` must be no slower than ``kubectl kustomize`` as a whole process
(``nox -s bench`` measures both, ~50 ms).  Python's start and PyYAML's import are
most of that, so each millisecond here is a visible share.  The figures are
``python -X importtime`` / ``time.perf_counter`` readings on the project's 2-core
machines (2026-12); remeasure before adding to or removing from this list.

1. ``import_yaml``: PyYAML's pure-Python reader compiles a regex of every printable
   character at import (7.5 ms), for a class the C loader never uses; that one regex
   is compiled on first use instead.
2. ``HelpFormatter``: argparse asks ``shutil.get_terminal_size`` for the width on
   every ``add_argument``; importing ``shutil`` costs 2.3 ms, so the width is read
   with ``os`` alone.
3. ``fast_exit``: the console script skips the interpreter's teardown (freeing every
   module and object one by one, ~7 ms) once everything observable is done.

Other start-up rules live where they apply and cost nothing to keep: commands import
their modules inside their handlers, only the command being run gets its parser
(``pipeline.cli.main``), and the records of the build path are NamedTuples or plain
classes rather than dataclasses (``pipeline.model.resource``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any, NoReturn

_PRINTABLE_CHECK = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


class _CompiledOnUse:
    def __init__(self, pattern: str) -> None:
        self._pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern)
        return getattr(self._compiled, name)


def import_yaml() -> None:
    """Import PyYAML with its reader's printable-character regex compiled on first use.

    ``re.compile`` is replaced only while ``yaml.reader`` is imported, and only that
    one pattern is deferred; any other ``re.compile`` runs as usual.
    """
    if "yaml" in sys.modules:
        return
    compile_now = re.compile

    def compile_(pattern: Any, flags: int = 0) -> Any:
        if pattern == _PRINTABLE_CHECK and not flags:
            return _CompiledOnUse(pattern)
        return compile_now(pattern, flags)

    re.compile = compile_
    try:
        import yaml.reader  # noqa: F401
    finally:
        re.compile = compile_now


def terminal_width() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the width so it never imports shutil."""

    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        if len(args) < 3 and kwargs.get("width") is None:
            kwargs["width"] = terminal_width() - 2  # as argparse does
        super().__init__(prog, *args, **kwargs)


class RawDescriptionHelpFormatter(argparse.RawDescriptionHelpFormatter, HelpFormatter):
    pass


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help formatter (and its sub-commands') needs no shutil."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def fast_exit(code: int) -> NoReturn:
    """Exit with ``code`` without the interpreter's teardown.

    Everything a normal exit does that anyone can observe still happens: the
    atexit handlers run (temporary directories, finalizers) and stdout and stderr
    are flushed.  A process with other non-daemon threads still running exits
    normally, joining them; a daemon thread (a timed-out policy evaluation,
    ``pipeline.gate.deadline``) ends with the process, as a daemon does.
    """
    threading = sys.modules.get("threading")
    if threading is not None and any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        sys.exit(code)
    import atexit
    import contextlib

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # a reader that went away, a closed stream: nothing left to tell anyone
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)
