"""The two jobs of a year, over the same assets: accepting its exports, then publishing it.

``accept_exports`` ingests the five raw exports and checks each against its contract; a broken
export fails it (pipelines/defs/gate.py). ``yearly_release`` builds the staging and published
tables, proves them, makes the public copy and publishes the release; it starts only for
exports that an accepting run accepted (pipelines/defs/accepting/accepted.py): the schedule and
``raw_exports_sensor`` start an accepting run, ``accepted_exports_sensor`` the publishing run
once it succeeded, and ``impact run`` runs both in its own process. A refused export therefore
fails one raw asset of one run; the tables, never planned, keep their last good state.
"""

import hashlib
from collections.abc import Mapping

import dagster as dg

from pipelines.core.contract import RAW_EXPORTS

RAW_GROUP = "raw"

accepting_job = dg.define_asset_job(
    name="accept_exports",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    description=(
        "Ingest a year's five raw exports into its warehouse and check every row against the export "
        "contract (raw/README.md). When it succeeds, the year's publishing run (yearly_release) follows."
    ),
)

publishing_job = dg.define_asset_job(
    name="yearly_release",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP),
    description=(
        "Build, prove and publish one year's impact statistics from its accepted exports: the staging "
        "and published tables and their checks, the public copy and the release."
    ),
)

STARTED_BY_TAG = "impact/started_by"
"""``impact run`` on the runs it executes in its own process (it publishes what it accepted)."""
ACCEPTED_TAG = "impact/accepted_by"
"""The accepting run whose exports a publishing run publishes."""
YEAR_TAG = "impact/year"
"""The year of a run the daemon starts (the sensor's, the schedule's, and the publishing run that
follows them): the run queue runs one such run of a year at a time (dagster.yaml)."""
EXPORTS_TAG = "impact/exports"
"""The content a run ran: the year and the digest of its five exports' SHA-256s
(:func:`content_key`). Whoever starts the run (``impact run``, the sensor, the schedule, the
UI, a backfill), its accepting step and its publishing run's first step put it on the run, so
that the sensor and the schedule see every run of a content and run a content once."""


def content_key(year: int, hashes: Mapping[str, str]) -> str:
    """``release-<year>-<16 hex digits>``: the year and the digest of its exports' SHA-256s, by
    file name (the sensor's run key)."""
    digest = hashlib.sha256("".join(f"{name}:{hashes[name]}\n" for name in sorted(hashes)).encode())
    return f"release-{year}-{digest.hexdigest()[:16]}"


def record_content(context: dg.AssetExecutionContext, year: int, hashes: Mapping[str, str]) -> None:
    """Tag the step's run with the content it read (:data:`EXPORTS_TAG`): all five exports of
    the year, by SHA-256. A run of some of the exports says nothing: it ran no year's content."""
    if sorted(hashes) == sorted(export.file_name for export in RAW_EXPORTS):
        context.instance.add_run_tags(context.run.run_id, {EXPORTS_TAG: content_key(year, hashes)})
