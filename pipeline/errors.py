"""The one error hierarchy.  Every expected failure is a ``NetpackError``.

A ``NetpackError`` prints as one line that names the file, the operation and the
resource, e.g.::

    overlays/azure/kustomization.yaml patches[1] op 3 (remove /spec/x): \
target apps/v1/DaemonSet/kube-system/calico-node (base/calico-node.yaml doc 0): path not found

The CLI maps the class to an exit code (documented in README.md) and never
shows a traceback for these.
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_GATE = 1  # the gate found failures (conftest's meaning of 1)
EXIT_USAGE = 2  # bad command line (argparse's own code)
EXIT_INPUT = 3  # bad input: files, YAML, kustomizations, patches, values
EXIT_INTERNAL = 4  # a bug in netpack: reported with a traceback
EXIT_ENGINE = 5  # the policy engine failed (crashed, answered nonsense): not the input's fault
EXIT_INTERRUPTED = 130


class NetpackError(Exception):
    """An expected failure with its context; ``str()`` is the one-line message."""

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        operation: str = "",
        resource: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.operation = operation
        self.resource = resource

    def __str__(self) -> str:
        location = " ".join(p for p in (self.file, self.operation) if p)
        return ": ".join(p for p in (location, self.resource, self.message) if p)

    def lines(self) -> list[str]:
        """What the CLI prints, one ``netpack: error:`` line each (several for a batch)."""
        return [str(self)]

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the context when an error crosses a process boundary (--jobs workers).
        return (_rebuild, (type(self), self.message, self.file, self.operation, self.resource))


def _rebuild(
    cls: type[NetpackError], message: str, file: str, operation: str, resource: str
) -> NetpackError:
    return cls(message, file=file, operation=operation, resource=resource)


class InputError(NetpackError):
    """A file cannot be read or parsed (missing, not UTF-8, bad YAML, duplicate key)."""


class KustomizationError(NetpackError):
    """A kustomization.yaml is malformed or refers to something it may not."""


class PatchError(NetpackError):
    """A JSON patch cannot be applied (bad op, failed test, missing path, no target)."""


class ValuesError(NetpackError):
    """A cluster file or its pack values are invalid."""


class Problems(ValuesError):
    """Several bad inputs (the problems of cluster files, a missing one among them),
    reported together: one line each (``lines``), exit 3."""

    def __init__(self, errors: Sequence[NetpackError]) -> None:
        super().__init__(f"{len(errors)} problems", file=errors[0].file if errors else "")
        self.errors = list(errors)

    def lines(self) -> list[str]:
        return [line for err in self.errors for line in err.lines()]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __reduce__(self) -> tuple[object, ...]:
        return (Problems, (self.errors,))


def raise_all(errors: Sequence[NetpackError]) -> None:
    """Raise ``errors``: none, nothing; one, as it is; several, as one ``Problems``."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise Problems(errors)


class UsageError(NetpackError):
    """The command line asks for something impossible."""

    exit_code = EXIT_USAGE
