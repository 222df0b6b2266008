"""How a year is refused: a failed check leaves its asset unmaterialized, and the run says so.

Every check of the product gates the release. It runs in its asset's own step, right after the
asset is built; when it fails, the step yields the checks' results but no materialization
(the asset is declared with ``output_required=False``). Dagster then skips every step
downstream, ``release`` among them, so nothing of the year is published. The run ends as
Dagster's "success" with the run tag ``impact/outcome=refused``; a published year's run is tagged
``impact/outcome=published`` and ``impact/release=<release id> (new|revises ...|unchanged)``.

Why not Dagster's ``blocking=True``: a failed blocking check fails its step and the run, and
Dagster records every asset and check that such a run planned but never reached as *failed* for
the year (its partition status, and "execution failed" for the checks). The tables downstream
of a broken ``cases.csv`` would show failed although they never ran, and every view that
summarizes a table over its years would turn red for a problem of one export of one year. Here
a year's failure is where it happened: the failed check on the asset it guards, for that year.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg

OUTCOME_TAG = "impact/outcome"
RELEASE_TAG = "impact/release"
REFUSED = "refused"
PUBLISHED = "published"

GATES = "When it fails, the year's {asset} is not materialized: what reads it is skipped and nothing is published."
"""The sentence every check's description ends with (pipelines/defs/<stage>/)."""


def gates(asset: str) -> str:
    return GATES.format(asset=asset)


def materialize_if_passed(
    context: dg.AssetExecutionContext,
    metadata: Mapping[str, Any],
    checks: Sequence[dg.AssetCheckResult],
    asset_key: str | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The results of a checked asset's step: its materialization with its checks when every
    check passed; otherwise the checks alone, and the run tagged refused. ``asset_key`` names the
    asset when the step materializes several."""
    if all(check.passed for check in checks):
        yield dg.MaterializeResult(asset_key=asset_key, metadata=dict(metadata), check_results=list(checks))
        return
    context.instance.add_run_tags(context.run.run_id, {OUTCOME_TAG: REFUSED})
    yield from checks
