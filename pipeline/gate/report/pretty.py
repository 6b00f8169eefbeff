"""``verify --report full|notes|fails``: OPA's PrettyReporter (opa tester/reporter.go).

::

    policies/mtu_test.rego:
    data.main.test_mtu_denied: PASS (1.2ms)
    --------------------------------------------------------------------------------
    PASS: 1/1

``full`` and ``notes`` list every test (failures first, under FAILURES);
``fails`` lists only tests that did not pass.  The Engine API returns no
evaluation traces, so the trace part of OPA's report is not shown.
"""

from __future__ import annotations

from pipeline.gate.engines.protocol import TestOutcome

MODES = ("full", "notes", "fails")
RULE = "-" * 80
_OUTCOMES = {"pass": "PASS", "fail": "FAIL", "skip": "SKIPPED", "error": "ERROR"}


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``: ``0s``, ``850ns``, ``1.5µs``, ``12.3ms``, ``1m2.5s``."""
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                whole, frac = divmod(ns, size)
                digits = str(frac).rjust(len(str(size)) - 1, "0").rstrip("0") if size > 1 else ""
                return f"{whole}{'.' + digits if digits else ''}{unit}"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _fraction_s(rest)
    head = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "")
    return f"{head}{seconds}s"


def _fraction_s(ns: int) -> str:
    whole, frac = divmod(ns, 1_000_000_000)
    digits = str(frac).rjust(9, "0").rstrip("0")
    return f"{whole}{'.' + digits if digits else ''}"


def _line(test: TestOutcome) -> str:
    text = f"data.{test.package}.{test.name}: {_OUTCOMES.get(test.status, test.status.upper())}"
    return text if test.status == "skip" else f"{text} ({go_duration(test.duration_ns)})"


def render(outcomes: list[TestOutcome], mode: str = "full") -> str:
    tests = sorted(outcomes, key=lambda t: (t.file, t.package, t.name))
    verbose = mode != "fails"
    lines: list[str] = []
    failed = [t for t in tests if t.status == "fail"]
    if verbose and failed:
        lines += ["FAILURES", RULE]
        for test in failed:
            lines += [_line(test), ""]
        lines += ["SUMMARY", RULE]
    shown = tests if verbose else [t for t in tests if t.status != "pass"]
    last = None
    for test in shown:
        if test.file != last:
            lines += ([""] if last is not None else []) + [f"{test.file}:"]
            last = test.file
        lines.append(_line(test))
    if shown:
        lines.append(RULE)
    for status in ("pass", "fail", "skip", "error"):
        count = sum(1 for t in tests if t.status == status)
        if count:
            lines.append(f"{_OUTCOMES[status]}: {count}/{len(tests)}")
    return "".join(f"{line}\n" for line in lines)
