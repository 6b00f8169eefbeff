"""What each command asks the flow to do, as typed records (the CLI parses arguments into them).

Nothing below the CLI sees ``argparse``: ``pipeline.cli`` builds one of the
``*Options`` records and hands it to ``pipeline.flow``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.publish.layout import Controllers

if TYPE_CHECKING:
    from pipeline.gate.check import Gate
    from pipeline.publish.git import Identity


@dataclass(frozen=True)
class GateSettings:
    """What opens a gate (picklable: each worker process opens its own).

    Empty ``policies``/``data`` mean the pack's ``policies/`` and ``policies/data``
    (``resolved``).
    """

    policies: tuple[Path, ...] = ()
    data: tuple[Path, ...] = ()
    engine: str | None = None
    opa_url: str | None = None
    timeout: float | None = 60.0  # seconds for one cluster's policies (--policy-timeout)

    def resolved(self, pack: Path) -> GateSettings:
        """The settings with the pack's policies and data where none were given."""
        return GateSettings(
            self.policies or (pack / "policies",),
            self.data or (pack / "policies" / "data",),
            self.engine,
            self.opa_url,
            self.timeout,
        )

    def open(self) -> Gate:
        from pipeline.gate.check import Gate

        return Gate.open(
            self.policies,
            self.data,
            engine=self.engine,
            opa_url=self.opa_url,
            timeout=self.timeout,
        )


@dataclass(frozen=True)
class Report:
    """How the gate's report is printed (``netpack test -o`` formats)."""

    format: str = "stdout"
    fail_on_warn: bool = False
    color: bool = True
    quiet: bool = False


@dataclass(frozen=True)
class Selection:
    """Which cluster files a run takes."""

    files: tuple[Path, ...] = ()
    all: bool = False  # every clusters/*.yaml of the pack
    pack: Path | None = None  # --pack; None: found from each cluster file
    changed_since: str | None = None
    shard: str | None = None  # "K/N"


@dataclass(frozen=True)
class RenderOptions:
    selection: Selection
    gate: GateSettings
    report: Report
    output: Path | None = None  # None: one YAML stream on stdout
    jobs: int = 1
    check: bool = False  # render and gate, write nothing (no files, no stream)


@dataclass(frozen=True)
class DeployOptions:
    """The deploy repo and what a publish writes there besides the clusters' files."""

    repo: str
    branch: str = "main"
    push: bool = False
    author: Identity | None = None
    sign: bool = False
    applicationset: bool = False
    flux: bool = False
    controllers: Controllers = field(default_factory=Controllers)


@dataclass(frozen=True)
class PublishOptions:
    selection: Selection
    deploy: DeployOptions
    gate: GateSettings
    report: Report
    jobs: int = 1
    full: bool = False  # render clusters whose inputs digest is unchanged too
    stage: Path | None = None  # write this shard here instead of committing
    from_stage: tuple[Path, ...] = ()  # commit these staged shards


@dataclass(frozen=True)
class DiffOptions:
    selection: Selection
    deploy: DeployOptions
    format: str = "text"  # text | markdown | json
    limit: int = 65536
    color: bool = True
    gate: GateSettings = GateSettings()  # the verdict in the summary table


@dataclass(frozen=True)
class DoctorOptions:
    """``netpack doctor``: which clusters, where their state comes from, the report."""

    selection: Selection
    snapshot: Path | None = None  # read this file instead of a live cluster
    collect: Path | None = None  # write the live snapshot here ("-": stdout), check nothing
    kubeconfig: str | None = None
    context: str | None = None
    kubectl: str | None = None  # None: kubectl on PATH, else beside netpack's Python
    deploy: DeployOptions | None = None  # compare with the deploy repo instead of a render
    format: str = "stdout"
    color: bool = True
    fail_on_warn: bool = False
    max_restarts: int = 5
