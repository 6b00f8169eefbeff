"""netpack: render, gate and publish Kubernetes network packs (Calico) for a fleet."""

from __future__ import annotations

__version__ = "0.1.0"
