"""The Dagster check specs of the code location, from the guard registry (pipelines/guards.py).

A check's name, what it proves and where it runs are declared once, in the registry; the spec
adds what a failure does in Dagster: every check is blocking (pipelines/defs/gate.py)."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.gate import gates
from pipelines.guards import CHECK, REFUSED, Guard, guard


def description(declared: Guard) -> str:
    """What the check proves, where it runs, and what its failure does."""
    fails = gates(declared.asset) if declared.on_failure == REFUSED else f"When it fails, {declared.on_failure}."
    return f"{declared.proves} Evaluated in {declared.step}. {fails}"


def check_spec(name: str, asset: str, partitions: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    """The spec of check ``name`` on ``asset``, as the registry declares it."""
    declared = guard(name, asset)
    if declared.kind != CHECK:
        raise ValueError(f"{name} on {asset} is a {declared.kind}, not a Dagster check")
    return dg.AssetCheckSpec(
        name, asset=asset, partitions_def=partitions, blocking=True, description=description(declared)
    )
