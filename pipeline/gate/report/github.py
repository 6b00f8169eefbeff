"""``-o github``: GitHub Actions workflow commands (output/github.go).

::

    ::group::Testing "deploy.yaml" against 3 policies in namespace "main"
    ::error file=deploy.yaml,line=1::Deployment/web: runs as root
    ::warning file=deploy.yaml,line=1::Deployment/web: no probes
    ::notice file=deploy.yaml,line=1::Number of successful checks: 1
    ::endgroup::
    3 tests, 1 passed, 1 warning, 1 failure, 0 exceptions

A result with ``_loc`` is annotated twice: at its location, and on the input
file with ``(ORIGINATING FROM <file> L<line>)``.  A result whose ``source`` the
gate knows (the cluster file line or the overlay file a user edits, not a render
path that is not in the repo) is annotated once, there.  A structured finding's
rule id is the annotation's ``title``.  Unlike conftest we escape
``%``, CR and LF (and ``:`` and ``,`` in properties) as GitHub requires, so a
multi-line message stays one annotation.
"""

from __future__ import annotations

from pipeline.gate.report.standard import summary
from pipeline.model.results import CheckResult, Result


def go_quote(text: str) -> str:
    """Go's ``%q``: double quotes, backslash escapes for quotes and non-printables."""
    named = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    out = []
    for char in text:
        if char in named:
            out.append(named[char])
        elif not char.isprintable():
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _annotate(level: str, filename: str, result: Result) -> list[str]:
    title = f",title={_prop(result.rule_id)}" if result.rule_id else ""
    if result.source is not None:
        where = result.source
        return [
            f"::{level} file={_prop(where.file)},line={where.line or 1}{title}::{_data(result.msg)}"
        ]
    lines = []
    message = result.msg
    if result.loc is not None:
        loc = result.loc
        line = str(loc.line) if loc.line else ""
        lines.append(f"::{level} file={_prop(loc.file)},line={line}{title}::{_data(message)}")
        message = f"(ORIGINATING FROM {loc.file} L{line}) {message}"
    lines.append(f"::{level} file={_prop(filename)},line=1{title}::{_data(message)}")
    return lines


def render(results: list[CheckResult], *, hide_passed: bool = False) -> str:
    lines = []
    for result in results:
        if hide_passed and not (result.failures or result.warnings or result.exceptions):
            continue
        lines.append(
            f"::group::Testing {go_quote(result.filename)} against {result.tests} policies "
            f"in namespace {go_quote(result.namespace)}"
        )
        for level, items in (
            ("error", result.failures),
            ("warning", result.warnings),
            ("notice", [*result.exceptions, *result.skipped]),
        ):
            for item in items:
                lines += _annotate(level, result.filename, item)
        if result.successes:
            lines.append(
                f"::notice file={_prop(result.filename)},line=1::"
                f"Number of successful checks: {result.successes}"
            )
        lines.append("::endgroup::")
    lines.append(summary(results))
    return "".join(f"{line}\n" for line in lines)
