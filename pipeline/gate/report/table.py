"""``-o table``: conftest's table, drawn like olekukonko/tablewriter's default (v0.0.x) look.

::

    +---------+-----------+-----------+---------+
    | RESULT  |   FILE    | NAMESPACE | MESSAGE |
    +---------+-----------+-----------+---------+
    | success | a.yaml    | main      | SUCCESS |
    +---------+-----------+-----------+---------+

Headers are upper-cased and centred; cells are left-aligned (numbers right);
cells wider than 30 columns wrap at spaces with tablewriter's minimum-raggedness
rule.  Rows: successes, exceptions, warnings, skipped, failures.  No rows, no table.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.model.results import CheckResult

HEADERS = ("result", "file", "namespace", "message")
MAX_WIDTH = 30  # tablewriter's MAX_ROW_WIDTH
_PENALTY = 100_000  # tablewriter's penalty for a line longer than the limit
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?")


def width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _wrap_words(words: list[str], limit: int) -> list[list[str]]:
    """Break ``words`` into lines minimising the sum of squared slack (tablewriter WrapWords)."""
    n = len(words)
    sizes = [width(w) for w in words]
    cost = [0] * (n + 1)
    breaks = [n] * n
    for i in range(n - 1, -1, -1):
        length = sum(sizes[i:]) + (n - 1 - i)
        if length <= limit:
            continue  # the rest fits on one line: cost 0, break at the end
        best = None
        length = sizes[i]
        for j in range(i + 1, n):
            slack = limit - length
            total = slack * slack + cost[j] + (_PENALTY if length > limit else 0)
            if best is None or total < best:
                best, breaks[i] = total, j
            length += 1 + sizes[j]
        cost[i] = best if best is not None else 0
    lines, i = [], 0
    while i < n:
        lines.append(words[i : breaks[i]])
        i = breaks[i]
    return lines


def cell_lines(text: str) -> list[str]:
    """A cell's lines: reflowed into one paragraph and wrapped at 30 columns."""
    raw = text.split("\n")
    limit = min(max(width(line) for line in raw), MAX_WIDTH)
    words = " ".join(raw).split(" ")
    limit = max([limit, *(width(w) for w in words)])
    return [" ".join(line) for line in _wrap_words(words, limit)]


def _pad(text: str, size: int, align: str) -> str:
    gap = size - width(text)
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return " " * gap + text if align == "right" else text + " " * gap


def draw(headers: list[str], rows: list[list[str]]) -> str:
    """The table as text, ending in a newline."""
    head = [cell_lines(h.replace("_", " ").strip().upper()) for h in headers]
    body = [[cell_lines(cell) for cell in row] for row in rows]
    sizes = [
        max(width(line) for cell in column for line in cell)
        for column in zip(head, *body, strict=True)
    ]
    rule = "+" + "+".join("-" * (s + 2) for s in sizes) + "+\n"

    def block(cells: list[list[str]], header: bool) -> str:
        out = ""
        for y in range(max(len(c) for c in cells)):
            out += "|"
            for cell, size in zip(cells, sizes, strict=True):
                line = cell[y] if y < len(cell) else ""
                align = (
                    "center" if header else "right" if _NUMBER.fullmatch(line.strip()) else "left"
                )
                out += f" {_pad(line, size, align)} |"
            out += "\n"
        return out

    return rule + block(head, True) + rule + "".join(block(r, False) for r in body) + rule


def render(results: list[CheckResult]) -> str:
    rows: list[list[str]] = []
    for result in results:
        where = [result.filename, result.namespace]
        rows += [["success", *where, "SUCCESS"] for _ in range(result.successes)]
        rows += [["exception", *where, r.msg] for r in result.exceptions]
        rows += [["warning", *where, r.msg] for r in result.warnings]
        rows += [["skipped", *where, r.msg] for r in result.skipped]
        rows += [["failure", *where, r.msg] for r in result.failures]
    return draw(list(HEADERS), rows) if rows else ""
