"""Size limits on what netpack reads and renders, each with the reason for its figure.

- ``MAX_VALUE_BYTES``: any one string value of a cluster file (a name, a CIDR, an
  env value, an image...).  The longest legitimate value, an
  ``ipAutodetectionMethod`` with a list of CIDRs or an image reference with a
  digest, is a few hundred bytes; 4 KiB leaves room and keeps a pasted file or
  a 50 MB string out of the DaemonSet.
- ``MAX_OBJECT_BYTES``: one rendered object.  The API server refuses a request
  larger than etcd's default ``--max-request-bytes`` (1.5 MiB) with "etcdserver:
  request is too large", so a render that holds a bigger object could never be
  applied; it is refused before anything is written.
"""

from __future__ import annotations

MAX_VALUE_BYTES = 4 * 1024
MAX_OBJECT_BYTES = 3 * 1024 * 1024 // 2


def size(n: int) -> str:
    """``n`` bytes in the unit the limits are stated in: ``4 KiB``, ``1.5 MiB``."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    return f"{n / 1024:.1f} KiB".replace(".0 KiB", " KiB")
