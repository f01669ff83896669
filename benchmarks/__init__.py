"""Speed and memory benchmarks: ``python -m benchmarks NAME [--json] [--set KEY=VALUE]``.

Each benchmark is a module of this package with a ``run(options) -> dict`` function. The dict
holds what was measured and a ``targets`` member mapping each target an issue names to
``{"value", "target", "met"}``, computed from this run's measurements beside a baseline measured
in the same run: ratios, not absolute times, because the machines are shared and noisy.
"""

from __future__ import annotations

from typing import Any


def target(value: float, goal: float, *, at_least: bool = True) -> dict[str, Any]:
    """One target entry: ``met`` is computed, never written by hand."""
    met = value >= goal if at_least else value <= goal
    return {
        "value": round(value, 4),
        "target": f">= {goal}" if at_least else f"<= {goal}",
        "met": bool(met),
    }
