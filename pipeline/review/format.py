"""A ``FleetDiff`` as text for terminals, Markdown for PR comments, JSON for bots.

Also the unified diff of one resource with its Secret values masked (``unified``),
which ``pipeline.review.diff`` stores in each ``Change``.

Text and Markdown start with the fleet's counts and, from ``netpack diff``, a
table of each changed cluster's Calico settings and gate verdict; then per
cluster its resources in review order (workloads and their ConfigMap first, CRDs
last).  Past ``limit`` characters (argocd-diff-preview caps PR comments at
65,536) the diffs of CRDs are dropped first, then those of other resources
except the DaemonSet, Deployment and ConfigMap (their names stay); only then is
the tail cut.  A marker line says what was left out.  Every format ends with a
newline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipeline.review.diff import OTHER_RANK, Change, FleetDiff, review_rank
from pipeline.review.summary import COLUMNS, ClusterSummary

LIMIT = 65536  # argocd-diff-preview's --max-diff-length default


# --- Size cap ---------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Lines of output. When cut, ``head`` and ``tail`` are kept and ``body`` is shortened.

    A block of ``rank`` 3 or more (``review_rank``) can be collapsed to ``brief``: its
    resource named, its diff dropped; ``kind`` names it in the marker.
    """

    head: tuple[str, ...]
    body: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()
    resource: bool = True  # counted in the marker's "N more resources"
    rank: int = 0
    kind: str = ""
    brief: tuple[str, ...] | None = None
    folded: bool = False  # collapsed to ``brief``

    def collapsed(self) -> _Block:
        assert self.brief is not None
        return _Block(
            self.brief, resource=self.resource, rank=self.rank, kind=self.kind, folded=True
        )


@dataclass(frozen=True)
class _Section:
    """A cluster: ``open`` and ``close`` frame its blocks even when the output is cut."""

    open: tuple[str, ...]
    blocks: tuple[_Block, ...]
    close: tuple[str, ...] = ()


def _cost(lines: Iterable[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _marker(limit: int, hidden: int, collapsed: dict[str, int] | None = None) -> str:
    parts = []
    if collapsed:
        kinds = ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in collapsed.items())
        parts.append(f"the diffs of {kinds} are not shown (their names are)")
    if hidden or not collapsed:
        noun = "resource" if hidden == 1 else "resources"
        parts.append(f"{hidden} more {noun} not shown")
    return f"[diff truncated at {limit} characters: {'; '.join(parts)}]"


COLLAPSIBLE = 3  # review ranks from here (Secret, other kinds, CRDs) lose their diff first


def _assemble(sections: list[_Section], limit: int, spacer: tuple[str, ...] = ()) -> str:
    """Join the sections; past ``limit`` characters, collapse blocks by review rank (CRDs
    first, never a DaemonSet, Deployment or ConfigMap), then cut at a line, and end with
    ``spacer`` and the marker. The result is at most ``limit`` characters unless
    ``limit`` is below the marker's own length."""
    whole = _joined(sections)
    if len(whole) <= limit:
        return whole
    collapsed: dict[str, int] = {}
    ranks = {b.rank for s in sections for b in s.blocks if b.brief is not None}
    for rank in sorted((r for r in ranks if r >= COLLAPSIBLE), reverse=True):
        for section in sections:
            for block in section.blocks:
                if block.rank == rank and block.brief is not None:
                    collapsed[block.kind] = collapsed.get(block.kind, 0) + 1
        sections = [
            _Section(
                s.open,
                tuple(
                    b.collapsed() if b.rank == rank and b.brief is not None else b for b in s.blocks
                ),
                s.close,
            )
            for s in sections
        ]
        text = _joined(sections)
        tail = [*spacer, _marker(limit, 0, collapsed)]
        if len(text) + _cost(tail) <= limit:
            return text + "".join(f"{line}\n" for line in tail)
    return _cut(sections, limit, spacer, collapsed)


def _joined(sections: list[_Section]) -> str:
    return "".join(f"{line}\n" for section in sections for line in _section_lines(section))


def _cut(
    sections: list[_Section], limit: int, spacer: tuple[str, ...], collapsed: dict[str, int]
) -> str:
    """The sections cut at a line to fit ``limit`` with the marker."""
    resources = sum(b.resource for s in sections for b in s.blocks)
    room = limit - len(_marker(limit, resources, collapsed)) - 1 - _cost(spacer)
    out: list[str] = []
    shown = 0
    folded: dict[str, int] = {}  # the collapsed blocks that made it in, by kind
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
            if taken and block.folded:
                folded[block.kind] = folded.get(block.kind, 0) + 1
            if len(taken) < len(block.head) + len(block.body) + len(block.tail):
                cut = True
                break
        out.extend(section.close)
        if cut:
            break
    out += [
        *spacer,
        _marker(limit, resources - shown, {k: folded[k] for k in collapsed if k in folded}),
    ]
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


def _kind(change: Change) -> str:
    return change.resource.split("/", 1)[0]


def _summary_rows(summaries: Iterable[ClusterSummary]) -> list[list[str]]:
    return [[s.cluster, *(s.settings.get(c, "") for c in COLUMNS), s.gate] for s in summaries]


_SUMMARY_HEADER = ["cluster", *COLUMNS, "gate"]


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
    head = [paint(_BOLD, _headline(diff))]
    if diff.summaries:
        rows = [_SUMMARY_HEADER, *_summary_rows(diff.summaries)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_SUMMARY_HEADER))]
        head.append("")
        head += [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
        for summary in diff.summaries:
            head += [f"  {summary.cluster}: {message}" for message in summary.messages()]
    sections = [_Section((), (_Block(tuple(head), resource=False),))]
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
    brief = (*head, "  (diff not shown)")
    head += [paint(_BOLD, line) for line in change.lines[:2]]  # the ---/+++ labels
    body = tuple(_paint_line(line, paint) for line in change.lines[2:])
    return _block(change, tuple(head), body, (), brief)


def _block(
    change: Change,
    head: tuple[str, ...],
    body: tuple[str, ...],
    tail: tuple[str, ...],
    brief: tuple[str, ...],
) -> _Block:
    rank = review_rank(_kind(change))
    return _Block(
        head,
        body,
        tail,
        rank=rank,
        kind="other resource" if rank == OTHER_RANK else _kind(change),
        brief=brief if rank >= COLLAPSIBLE else None,
    )


def _paint_line(line: str, paint: Callable[[str, str], str]) -> str:
    colour = {"+": _GREEN, "-": _RED, "@": _CYAN}.get(line[:1])
    return paint(colour, line) if colour else line


# --- Markdown ---------------------------------------------------------------


def format_markdown(diff: FleetDiff, *, limit: int = LIMIT) -> str:
    """The counts and a table (cluster | added | changed | removed), then per cluster a
    ``<details>`` block: per resource its changed fields, notes and a diff fence."""
    head = [f"**{_md(_headline(diff))}**"]
    counts = diff.by_cluster()
    if diff.summaries:
        rows = _summary_rows(diff.summaries)
        head += ["", "| " + " | ".join(_SUMMARY_HEADER) + " |"]
        head.append("| " + " | ".join("---" for _ in _SUMMARY_HEADER) + " |")
        head += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
        messages = [(s.cluster, m) for s in diff.summaries for m in s.messages()]
        if messages:
            head.append("")
            head += [f"- {_md(cluster)}: {_md(message)}" for cluster, message in messages]
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
    brief = (f"**{change.kind}** {_code(change.resource)} (diff not shown)", "")
    return _block(change, (*head, f"{fence}diff"), change.lines, (fence, ""), brief)


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
    document: dict[str, object] = {
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
    if diff.summaries:
        document["summaries"] = {s.cluster: s.as_data() for s in diff.summaries}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
