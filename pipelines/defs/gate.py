"""How a year is refused: a failed check fails its step, and with it the run, red.

Every check of the product that can refuse a year is a blocking check of severity ERROR. It
runs in its asset's step, right after the asset is built. When every such check passed, the
step yields the asset's materialization with the checks' results. When one failed, the step
yields the checks' results without a materialization and, once its other assets are done, logs
its one-line problems as an ERROR event and raises ``dagster.Failure`` with the same lines as
its description: the step fails, what reads the asset does not run, the run fails, and the
run-failure sensor reports it (pipelines/defs/alerts.py). A check that fails with severity WARN
refuses nothing: the asset is materialized and the run goes on. A step that materializes several
assets (the raw exports, the published tables) yields every asset that passed before it fails
for those that did not.

The year runs as two runs so that a failure shows where it happened (pipelines/defs/jobs.py):
the accepting run holds only the raw exports and their contract, and the publishing run, which
builds the tables, starts only once the exports are accepted. Dagster counts an asset that a
failed run planned and never materialized as failed for the year; a broken ``cases.csv`` thus
fails the raw asset that holds it, and no table is planned, let alone shown failed.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

import dagster as dg

RELEASE_TAG = "impact/release"
"""The tag of a publishing run that published its year: ``<release id> (new|revises ...|unchanged)``."""

GATES = (
    "When it fails, {asset} is not materialized for the year, its step fails and the run with it, red: "
    "nothing of the year is published."
)
"""The sentence every blocking check's description ends with (pipelines/defs/checks.py)."""

Results = Generator[dg.MaterializeResult | dg.AssetCheckResult, None, list[str]]


def gates(asset: str) -> str:
    return GATES.format(asset=asset)


def refuses(check: dg.AssetCheckResult) -> bool:
    """Whether the check's result refuses the year: failed with severity ERROR."""
    return not check.passed and check.severity == dg.AssetCheckSeverity.ERROR


def problem_lines(asset: str, checks: Sequence[dg.AssetCheckResult], *, name_the_check: bool = True) -> list[str]:
    """One line per problem of the checks that refuse the year, as ``impact run`` prints them:
    each failure line of the check's metadata ``failure`` (or its description when it has
    none), preceded by ``check <asset>:<check> failed: `` unless the lines name what they are
    about themselves (the export contract's: file, column, rule)."""
    lines = []
    for check in checks:
        if not refuses(check):
            continue
        text = check.metadata.get("failure")
        found = text.value.splitlines() if text is not None and text.value else [check.description or ""]
        prefix = f"check {asset}:{check.check_name} failed: " if name_the_check else ""
        lines.extend(prefix + line for line in found)
    return lines


def checked(
    asset: str,
    metadata: Mapping[str, Any],
    checks: Sequence[dg.AssetCheckResult],
    *,
    several: bool = False,
    name_the_check: bool = True,
) -> Results:
    """The results of a checked asset: its materialization with its checks unless one of them
    refuses the year, otherwise the checks alone; returns the problem lines (none when it
    passed). ``several``: the step materializes several assets, so the result names its asset."""
    if not any(refuses(check) for check in checks):
        yield dg.MaterializeResult(
            asset_key=asset if several else None, metadata=dict(metadata), check_results=list(checks)
        )
        return []
    yield from checks
    return problem_lines(asset, checks, name_the_check=name_the_check)


def refuse(context: dg.AssetExecutionContext, problems: Sequence[str]) -> None:
    """Fail the step when there is a problem: one ERROR event and ``dagster.Failure``, both with
    one line per problem. Not retried by itself: the input must change first."""
    if not problems:
        return
    context.log.error(f"{context.partition_key} refused:\n" + "\n".join(problems))
    raise dg.Failure(description="\n".join(problems), allow_retries=False)
