"""Progress for fleet runs: a tqdm bar on a terminal, plain lines elsewhere.

On a TTY (and not in CI) a bar shows clusters done, the rate and the last
cluster's status; otherwise one line per cluster (``[3/7] azure-eu-1: ok``) so
CI logs stay readable.  Both end with a one-line summary.  Everything goes to
stderr: stdout belongs to the manifests or the report.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO


class Progress:
    """Count clusters as they finish; ``quiet`` prints nothing at all."""

    def __init__(self, total: int, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.quiet = quiet or total < 2
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.bar: Any = None
        if not self.quiet and self.stream.isatty() and not os.environ.get("CI"):
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="cluster", file=self.stream, leave=False)

    def update(self, name: str, status: str, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(f"{name}: {status}", refresh=False)
            self.bar.update(1)
        else:
            self.stream.write(f"[{self.done}/{self.total}] {name}: {status}\n")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.quiet:
            return
        seconds = time.perf_counter() - self.start
        rate = self.done / seconds if seconds > 0 else 0.0
        self.stream.write(
            f"{self.done} clusters in {seconds:.2f} s ({rate:.0f}/s): "
            f"{self.done - self.failed} passed the gate, {self.failed} failed\n"
        )
