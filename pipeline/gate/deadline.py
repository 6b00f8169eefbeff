"""The policy-evaluation timeout: a gate that computes too long fails closed.

No engine can be told to stop: the embedded OPA bridge has no context or cancel
call (its C ABI is ``OpaNew``, ``OpaAddPolicy``, ``OpaAddData``, ``OpaEvalQuery``,
...), rego-cpp has none either, and an OPA server computes on after a client
gives up.  All three release the GIL while they compute, so ``within`` runs the
evaluation in a daemon thread and the caller waits for it with a deadline.  On
timeout the caller raises ``PolicyTimeout`` (exit 3) and the command ends; the
thread, still inside the engine, ends with the process (``pipeline.startup.fast_exit``
and worker processes exit without joining daemon threads), so a policy that
computes for minutes really stops.  An engine that timed out is never used or
closed again (``Gate.close``): its thread may still be in it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from pipeline.gate.engines.protocol import Engine, PolicyError
from pipeline.gate.policies import Policies
from pipeline.gate.semantics import EXCEPTION, Namespace

T = TypeVar("T")

DEFAULT_SECONDS = 60.0  # one cluster's gate; README documents it


class PolicyTimeout(PolicyError):
    """The policies did not finish within ``--policy-timeout``: never a pass."""


class TimedOut(Exception):
    """``within``'s deadline passed; the call is still running in its thread."""


class Call(Generic[T]):
    """``call()`` running in a daemon thread; ``result`` waits for it."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._done = threading.Event()
        self._box: dict[str, Any] = {}
        threading.Thread(target=self._run, name="netpack-policy-eval", daemon=True).start()

    def _run(self) -> None:
        try:
            self._box["value"] = self._call()
        except BaseException as exc:  # handed to the waiting thread
            self._box["error"] = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, seconds: float) -> T:
        """The call's value (or its exception, raised here); ``TimedOut`` after ``seconds``."""
        if not self._done.wait(max(seconds, 0.0)):
            raise TimedOut
        if "error" in self._box:
            raise self._box["error"]
        value: T = self._box["value"]
        return value


def within(seconds: float | None, call: Callable[[], T]) -> T:
    """``call()`` in a daemon thread, ``TimedOut`` once ``seconds`` have passed without
    it returning (``None``: no deadline, run here).  Its exception is raised here."""
    if seconds is None:
        return call()
    return Call(call).result(seconds)


def evaluate_within(
    timeout: float | None,
    engine: Engine,
    namespaces: Sequence[Namespace],
    evaluate: Callable[[list[Namespace]], T],
    files_of: Mapping[str, Sequence[str]],
    subject: str,
) -> T:
    """``evaluate(namespaces)`` within ``timeout`` seconds, else the ``PolicyTimeout``
    that names the rule (``timeout_error``); ``subject`` says what was being checked."""
    try:
        return within(timeout, lambda: evaluate(list(namespaces)))
    except TimedOut:
        assert timeout is not None
        raise timeout_error(timeout, engine, namespaces, evaluate, files_of, subject) from None


def timeout_error(
    timeout: float,
    engine: Engine,
    namespaces: Sequence[Namespace],
    evaluate: Callable[[list[Namespace]], object],
    files_of: Mapping[str, Sequence[str]],
    subject: str,
) -> PolicyTimeout:
    """The timeout, naming the rule that does not finish alone.

    Only a thread-safe engine is probed (the timed-out call still runs in
    it): ``exception`` alone and each rule alone, all at once, so that they
    share the cores alike with the stuck call; those still running once the
    others stop finishing (``_still_running``) are named, unless every probe
    is (then the whole package is).
    """
    assert timeout is not None
    where = [f"data.{ns.name}" for ns in namespaces]
    if engine.thread_safe:
        probes = [(ns.name, EXCEPTION, ()) for ns in namespaces] + [
            (ns.name, rule, (rule,)) for ns in namespaces for rule in ns.rules
        ]
        calls = [
            (f"data.{package}.{rule}", Call(partial(_probe, evaluate, package, rules)))
            for package, rule, rules in probes
        ]
        running = _still_running(calls)
        if running and len(running) < len(calls):
            where = running
    files = sorted({f for w in where for f in files_of.get(w, ())})
    return PolicyTimeout(
        f"the policies did not finish within {timeout:g} s (--policy-timeout);"
        " the gate fails closed and nothing is written",
        file=" ".join(files),
        operation=f"evaluate {', '.join(where)}",
        resource=subject,
    )


_QUIET_SECONDS = 2.0  # no probe finished for this long: the rest are the stuck ones
_PROBE_SECONDS = 30.0  # at most this long for the probes in all


def _still_running(calls: Sequence[tuple[str, Call[object]]]) -> list[str]:
    """The probes still running once none has finished for ``_QUIET_SECONDS``, or for
    twice as long as the last one to finish took (on a busy machine the quick ones
    finish late, but they keep finishing); ``_PROBE_SECONDS`` at most."""
    start = last = time.monotonic()
    done = 0
    while time.monotonic() - start < _PROBE_SECONDS:
        pending = [call for _, call in calls if not call.done()]
        if not pending:
            break
        if len(calls) - len(pending) > done:
            done, last = len(calls) - len(pending), time.monotonic()
        elif time.monotonic() - last >= max(_QUIET_SECONDS, 2 * (last - start)):
            break  # a busy machine: the quick ones took long, so wait as long again
        with contextlib.suppress(TimedOut, PolicyError):
            pending[0].result(0.1)
    return [query for query, call in calls if not call.done()]


def _probe(
    evaluate: Callable[[list[Namespace]], object], package: str, rules: tuple[str, ...]
) -> object:
    """One rule of ``package`` alone (none: ``exception`` alone), as the gate evaluates it."""
    return evaluate([Namespace(package, rules, len(rules))])


def rule_files(loaded: Policies) -> dict[str, tuple[str, ...]]:
    """``data.<package>.<rule>`` and ``data.<package>`` -> the files that define them."""
    files: dict[str, list[str]] = {}
    for module in loaded.scanned:
        if module.path.endswith("_test.rego"):
            continue
        files.setdefault(f"data.{module.package}", []).append(module.path)
        for rule in module.rules:
            files.setdefault(f"data.{module.package}.{rule.name}", []).append(module.path)
    return {k: tuple(dict.fromkeys(v)) for k, v in files.items()}


def parse_seconds(text: str) -> float:
    """``--policy-timeout``'s value: seconds, more than 0 (argparse ``type``)."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86400 or value != value:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value
