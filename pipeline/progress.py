"""Progress for fleet runs: a tqdm bar on a terminal, a few plain lines elsewhere.

On a TTY (and not in CI) a bar shows clusters done, the rate and the last
cluster's status.  Elsewhere (a CI log, a file) a line is printed every
``EVERY_SECONDS`` seconds or every tenth of the fleet (at least ``EVERY_CLUSTERS``
clusters), whichever comes first, and for each failed cluster:
``[300/5000] aws-00299: ok (0 failed, 12 s)``.  A 5,000-cluster log gets a few
dozen lines, not 5,000.  Both end with a one-line summary; ``quiet`` prints that
line only.  Everything goes to stderr: stdout belongs to the manifests or the report.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

EVERY_SECONDS = 10.0
EVERY_CLUSTERS = 100


class Progress:
    """Count clusters as they finish; a run of fewer than two clusters prints nothing.

    ``summary=False`` leaves out the closing line (a caller that prints its own).
    """

    def __init__(
        self,
        total: int,
        *,
        quiet: bool = False,
        summary: bool = True,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.silent = total < 2
        self.quiet = quiet
        self.summary = summary
        self.stream = stream or sys.stderr
        self.clock = clock
        self.start = self.last = clock()
        self.every = max(EVERY_CLUSTERS, -(-total // 10))
        self.mark = self.every  # the count that prints the next line
        self.bar: Any = None
        if not (self.silent or quiet) and self.stream.isatty() and not os.environ.get("CI"):
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="cluster", file=self.stream, leave=False)

    def update(self, name: str, status: str, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.silent or self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(f"{name}: {status}", refresh=False)
            self.bar.update(1)
            return
        now = self.clock()
        counted = self.done >= self.mark
        if failed or counted or now - self.last >= EVERY_SECONDS:
            self.stream.write(
                f"[{self.done}/{self.total}] {name}: {status}"
                f" ({self.failed} failed, {now - self.start:.0f} s)\n"
            )
            self.last = now
        if counted:
            self.mark += self.every

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.silent or not self.summary:
            return
        seconds = self.clock() - self.start
        rate = self.done / seconds if seconds > 0 else 0.0
        self.stream.write(
            f"{self.done} clusters in {seconds:.2f} s ({rate:.0f}/s): "
            f"{self.done - self.failed} passed the gate, {self.failed} failed\n"
        )
