"""A ``FleetDiff`` as text for terminals, Markdown for PR comments, JSON for bots.

Also the unified diff of one resource with its Secret values masked (``unified``),
which ``pipeline.review.diff`` stores in each ``Change``.

Text and Markdown start with the fleet's counts, so the part that a size cap
cuts is always the tail. They stop at ``limit`` characters with a marker line,
as argocd-diff-preview caps PR comments at 65,536 characters. Every format ends
with a newline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipeline.review.diff import Change, FleetDiff

LIMIT = 65536  # argocd-diff-preview's --max-diff-length default


# --- Size cap ---------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Lines of output. When cut, ``head`` and ``tail`` are kept and ``body`` is shortened."""

    head: tuple[str, ...]
    body: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()
    resource: bool = True  # counted in the marker's "N more resources"


@dataclass(frozen=True)
class _Section:
    """A cluster: ``open`` and ``close`` frame its blocks even when the output is cut."""

    open: tuple[str, ...]
    blocks: tuple[_Block, ...]
    close: tuple[str, ...] = ()


def _cost(lines: Iterable[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _marker(limit: int, hidden: int) -> str:
    noun = "resource" if hidden == 1 else "resources"
    return f"[diff truncated at {limit} characters: {hidden} more {noun} not shown]"


def _assemble(sections: list[_Section], limit: int, spacer: tuple[str, ...] = ()) -> str:
    """Join the sections; past ``limit`` characters, cut at a line and end with ``spacer``
    and the marker. The result is at most ``limit`` characters unless ``limit`` is below
    the marker's own length."""
    whole = "".join(f"{line}\n" for section in sections for line in _section_lines(section))
    if len(whole) <= limit:
        return whole
    resources = sum(b.resource for s in sections for b in s.blocks)
    room = limit - len(_marker(limit, resources)) - 1 - _cost(spacer)
    out: list[str] = []
    shown = 0
    for section in sections:
        room -= _cost(section.open) + _cost(section.close)
        if room < 0:
            break
        out.extend(section.open)
        cut = False
        for block in section.blocks:
            room, taken = _take(block, room)
            out.extend(taken)
            shown += bool(taken) and block.resource
            if len(taken) < len(block.head) + len(block.body) + len(block.tail):
                cut = True
                break
        out.extend(section.close)
        if cut:
            break
    out += [*spacer, _marker(limit, resources - shown)]
    return "".join(f"{line}\n" for line in out)


def _take(block: _Block, room: int) -> tuple[int, list[str]]:
    """The lines of ``block`` that fit in ``room`` characters, and the room left after them."""
    room -= _cost(block.head) + _cost(block.tail)
    if room < 0:
        return room, []
    body = []
    for line in block.body:
        room -= len(line) + 1
        if room < 0:
            break
        body.append(line)
    return room, [*block.head, *body, *block.tail]


def _section_lines(section: _Section) -> list[str]:
    blocks = [line for b in section.blocks for line in (*b.head, *b.body, *b.tail)]
    return [*section.open, *blocks, *section.close]


# --- Shared pieces ----------------------------------------------------------


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[kind]} {kind}" for kind in ("added", "changed", "removed"))


def _headline(diff: FleetDiff) -> str:
    """``3 clusters changed: 1 added, 4 changed, 0 removed``."""
    clusters = len(diff.by_cluster())
    noun = "cluster" if clusters == 1 else "clusters"
    return f"{clusters} {noun} changed: {_tally(diff.total())}"


def _by_cluster(diff: FleetDiff) -> list[tuple[str, list[Change]]]:
    groups: dict[str, list[Change]] = {}
    for change in diff.changes:
        groups.setdefault(change.cluster, []).append(change)
    return list(groups.items())


# --- Text -------------------------------------------------------------------

_BOLD, _RED, _GREEN, _YELLOW, _CYAN, _RESET = (f"\x1b[{n}m" for n in (1, 31, 32, 33, 36, 0))
_PATHS_SHOWN = 10


def format_text(diff: FleetDiff, *, color: bool, limit: int = LIMIT) -> str:
    """The fleet's counts, then per cluster a counts line and per resource its changed
    fields, notes and unified diff. ANSI colours only when ``color``."""
    paint = _painter(color)
    counts = diff.by_cluster()
    sections = [_Section((), (_Block((paint(_BOLD, _headline(diff)),), resource=False),))]
    for cluster, changes in _by_cluster(diff):
        title = paint(_BOLD, f"cluster {cluster}: {_tally(counts[cluster])}")
        blocks = tuple(_text_block(change, paint) for change in changes)
        sections.append(_Section(("", title), blocks))
    return _assemble(sections, limit, spacer=("",))


def _painter(color: bool) -> Callable[[str, str], str]:
    def paint(code: str, line: str) -> str:
        return f"{code}{line}{_RESET}" if color and line else line

    return paint


def _text_block(change: Change, paint: Callable[[str, str], str]) -> _Block:
    head = ["", paint(_BOLD, f"{change.kind} {change.resource}")]
    head += [f"  field {path}" for path in change.paths[:_PATHS_SHOWN]]
    if len(change.paths) > _PATHS_SHOWN:
        head.append(f"  ... and {len(change.paths) - _PATHS_SHOWN} more fields")
    head += [paint(_YELLOW, f"  note: {note}") for note in change.notes]
    head += [paint(_BOLD, line) for line in change.lines[:2]]  # the ---/+++ labels
    return _Block(tuple(head), tuple(_paint_line(line, paint) for line in change.lines[2:]))


def _paint_line(line: str, paint: Callable[[str, str], str]) -> str:
    colour = {"+": _GREEN, "-": _RED, "@": _CYAN}.get(line[:1])
    return paint(colour, line) if colour else line


# --- Markdown ---------------------------------------------------------------


def format_markdown(diff: FleetDiff, *, limit: int = LIMIT) -> str:
    """The counts and a table (cluster | added | changed | removed), then per cluster a
    ``<details>`` block: per resource its changed fields, notes and a diff fence."""
    head = [f"**{_md(_headline(diff))}**"]
    counts = diff.by_cluster()
    if counts:
        head += ["", "| cluster | added | changed | removed |", "| --- | ---: | ---: | ---: |"]
        head += [f"| {_md(name)} | {_cells(row)} |" for name, row in counts.items()]
        head.append(f"| **total** | {_cells(diff.total())} |")
    sections = [_Section((), (_Block((), tuple(head), resource=False),))]
    for cluster, changes in _by_cluster(diff):
        notes = sum(len(change.notes) for change in changes)
        extra = f" ({notes} note{'s' if notes != 1 else ''})" if notes else ""
        summary = f"<b>{_md(cluster)}</b>: {_tally(counts[cluster])}{extra}"
        opening = ("", "<details>", f"<summary>{summary}</summary>", "")
        blocks = tuple(_markdown_block(change) for change in changes)
        sections.append(_Section(opening, blocks, ("</details>",)))
    return _assemble(sections, limit, spacer=("",))  # in Markdown, a paragraph of its own


def _cells(counts: dict[str, int]) -> str:
    return " | ".join(str(counts[kind]) for kind in ("added", "changed", "removed"))


def _markdown_block(change: Change) -> _Block:
    head = [f"**{change.kind}** {_code(change.resource)}", ""]
    if change.paths:
        shown = ", ".join(_code(path) for path in change.paths[:_PATHS_SHOWN])
        more = len(change.paths) - _PATHS_SHOWN
        head += [f"Fields: {shown}{f' and {more} more' if more > 0 else ''}", ""]
    if change.notes:
        head += [*(f"- **Note:** {_md(note)}" for note in change.notes), ""]
    fence = "`" * max(3, 1 + max((len(run) for run in _backtick_runs(change.lines)), default=0))
    return _Block((*head, f"{fence}diff"), change.lines, (fence, ""))


def _backtick_runs(lines: Iterable[str]) -> list[str]:
    return [run for line in lines for run in re.findall(r"`+", line)]


def _md(text: str) -> str:
    """Text for a Markdown paragraph or table cell: no HTML, no cell breaks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")


def _code(text: str) -> str:
    """An inline code span that holds any backticks in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}" if longest else f"{ticks}{text}{ticks}"


# --- JSON -------------------------------------------------------------------


def format_json(diff: FleetDiff) -> str:
    """``{"clusters": {name: counts}, "total": counts, "changes": [...]}``; each change has
    cluster, resource, kind, paths and notes (never the diff lines). Sorted keys, indent 2."""
    document = {
        "clusters": diff.by_cluster(),
        "total": diff.total(),
        "changes": [
            {
                "cluster": change.cluster,
                "resource": change.resource,
                "kind": change.kind,
                "paths": list(change.paths),
                "notes": list(change.notes),
            }
            for change in diff.changes
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
