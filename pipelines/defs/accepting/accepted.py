"""Which exports of a year were accepted, read back from the Dagster instance.

An export is accepted for a year when the ``export_contract`` check of its raw asset for that
year that completed last passed and the raw asset was materialized in the same run: that materialization
carries the SHA-256 of the file the run ingested. The publishing run's first step, the asset
``accepted_exports``, goes on only when every export of its year is accepted and the year's
warehouse holds exactly those files (its ``ingest_log``, written at ingest); every staging table
depends on it, and ``release`` asks again before publishing (pipelines/defs/publishing/assets.py).
A run that materializes the raw exports itself (the whole graph, from the UI) passes it when its
own raw steps accepted them.
"""

import dagster as dg
import duckdb
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import (
    COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)

from pipelines.core.contract import RAW_EXPORTS
from pipelines.defs.accepting.export_contract import CHECK_NAME
from pipelines.defs.jobs import record_content
from pipelines.defs.resources import Warehouse


class NotAccepted(Exception):
    """The year's exports, or the files its warehouse holds, are not the accepted ones."""


RECENT_EVALUATIONS = 20
"""Evaluations of a year's check read back to find the one that completed last: more than the
runs of a year ever started while another was under way."""


def latest_evaluation(
    instance: dg.DagsterInstance, key: dg.AssetCheckKey, partition: str
) -> AssetCheckExecutionRecord | None:
    """The check's evaluation for the year that completed last, or None. Dagster keeps a check's
    executions in the order their runs were launched, not run: a run launched by the daemon just
    before ``impact run`` took the year's lock runs after it, having waited for the lock, yet its
    execution is the older one. The year's runs run one at a time, so the evaluation that
    completed last is the one the year's warehouse and latest materialization come from."""
    completed = instance.event_log_storage.get_asset_check_execution_history(
        key,
        limit=RECENT_EVALUATIONS,
        status=COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
        partition_filter=PartitionKeyFilter(key=partition),
    )
    return max(
        completed, key=lambda record: record.event.timestamp if record.event else record.create_timestamp, default=None
    )


def accepted_sha256(instance: dg.DagsterInstance, year: int) -> tuple[dict[str, str], list[str]]:
    """The SHA-256 of each accepted export of the year, by file name, and one line per export
    that is not accepted."""
    partition = str(year)
    accepted, problems = {}, []
    for export in RAW_EXPORTS:
        check = latest_evaluation(instance, dg.AssetCheckKey(dg.AssetKey(export.table), CHECK_NAME), partition)
        if check is None or check.status != AssetCheckExecutionRecordStatus.SUCCEEDED:
            state = "never checked" if check is None else check.status.value.lower()
            problems.append(f"{export.file_name}: not accepted for {year} (its latest {CHECK_NAME} check: {state})")
            continue
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(export.table), asset_partitions=[partition]), limit=1
        ).records
        if not records or records[0].run_id != check.run_id:
            problems.append(f"{export.file_name}: not accepted for {year} (no materialization by its accepting run)")
            continue
        accepted[export.file_name] = records[0].asset_materialization.metadata["sha256"].value
    return accepted, problems


def ingested_sha256(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The SHA-256 of each file the year's warehouse holds, as ingest recorded it."""
    exists = con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ingest_log'").fetchall()[0][0]
    if not exists:
        return {}
    return dict(con.sql("SELECT file_name, sha256 FROM ingest_log ORDER BY file_name").fetchall())


def acceptance_problems(instance: dg.DagsterInstance, year: int, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Why the year may not be published from its warehouse: exports not accepted, or a
    warehouse holding other files than the accepted ones (e.g. ingested since by a run that
    refused them). Empty when it may."""
    accepted, problems = accepted_sha256(instance, year)
    ingested = ingested_sha256(con)
    for name, digest in sorted(accepted.items()):
        if ingested.get(name) != digest:
            problems.append(f"{name}: the warehouse of {year} does not hold the accepted export (SHA-256 differs)")
    return problems


def accepted_exports(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The publishing run's first step over the code location's yearly partitions."""

    @dg.asset(
        group_name="staging",
        partitions_def=partitions,
        deps=[export.table for export in RAW_EXPORTS],
        description=(
            "The year's accepted exports: the five files an accepting run (accept_exports) checked against the "
            "export contract and materialized, by SHA-256, which the year's warehouse holds. The first step of "
            "the publishing run: every staging table reads the exports through it, and a year whose exports "
            "are not the accepted ones fails here, before any table is built."
        ),
        kinds={"duckdb"},
        owners=["team:data-engineering"],
    )
    def accepted_exports(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        year = int(context.partition_key)
        with warehouse.connect(year) as con:
            problems = acceptance_problems(context.instance, year, con)
            accepted = ingested_sha256(con)
        if problems:
            lines = [f"not published: {line}" for line in problems]
            context.log.error(f"the exports of {year} are not accepted:\n" + "\n".join(lines))
            raise dg.Failure(description="\n".join(lines), allow_retries=False)
        record_content(context, year, accepted)
        return dg.MaterializeResult(metadata={f"sha256/{name}": digest for name, digest in sorted(accepted.items())})

    return accepted_exports
