"""Group ``raw``: one asset per raw export of raw/README.md, ingested into the year's warehouse.

The five assets are accepted in one step, ``raw_exports``, each with its own materialization and
its own ``export_contract`` check: a broken export leaves only its own asset unmaterialized, and
the step yields the others before it fails (pipelines/defs/gate.py). One step, so that the work
overlaps: the CyberTipline Parquet export is scanned by DuckDB (native code, every core, the GIL
released) while another thread loads the four CSV exports and validates them with Great
Expectations (Python), instead of one after the other.
Selecting some of the assets (the UI, ``asset_selection``) accepts those exports only.

A run of all five tags itself with the content it read, refused or not (``impact/exports``,
pipelines/defs/jobs.py), whoever started it: the sensor and the schedule then run a content once.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import dagster as dg

from pipelines.accepting.ingest import RawExportError, ingest, prepare_ingest_log
from pipelines.core.contract import RAW_EXPORTS, RawExport
from pipelines.core.files import sha256_file
from pipelines.defs.accepting.export_contract import export_contract, export_contract_spec, unreadable_export
from pipelines.defs.gate import checked, refuse
from pipelines.defs.jobs import record_content
from pipelines.defs.metadata import table_metadata
from pipelines.defs.resources import ProjectFolders, Warehouse


def _spec(export: RawExport) -> dg.AssetSpec:
    return dg.AssetSpec(
        export.table,
        group_name="raw",
        description=f"{export.description} Source file: raw/{{year}}/{export.file_name}.",
        kinds={"duckdb", "csv" if export.is_csv else "parquet"},
        owners=["team:data-engineering"],
        skippable=True,  # a subset of the exports may be selected (the UI, ``asset_selection``)
    )


@dataclass
class Accepted:
    """One export's outcome, gathered on whichever thread accepted it and reported by the step."""

    export: RawExport
    metadata: dict = field(default_factory=dict)
    checks: list[dg.AssetCheckResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    sha256: str | None = None
    """The file's SHA-256, refused or not; None when it is missing."""


def accept(export: RawExport, year: int, folders: ProjectFolders, warehouse: Warehouse) -> Accepted:
    """Ingest one export and evaluate its contract, on its own connection to the warehouse."""
    with warehouse.connect(year) as con:
        try:
            ingested = ingest(con, export, folders.raw_year_dir(year))
        except RawExportError as error:
            path = folders.raw_year_dir(year) / export.file_name
            # Which content was refused: ingest keeps no digest of a file it refuses (a refusal only).
            digest = sha256_file(path) if path.is_file() else None
            return Accepted(export, checks=[unreadable_export(export, error)], sha256=digest)
        read = "Python's csv module streamed" if export.is_csv else "the Parquet footer states"
        contract = export_contract(con, export, year, folders, warehouse)
        # One line per export (each is an event in the instance): the ingest, then the check.
        outcome = (contract.description or "").removeprefix(f"{export.file_name}: ")
        messages = [f"{export.file_name}: {ingested.rows:,} rows ingested, the same count as {read}; {outcome}"]
        metadata = {
            **table_metadata(con, export.table),
            "dagster/row_count": dg.MetadataValue.int(ingested.rows),
            "file": dg.MetadataValue.path(str(ingested.file)),
            "sha256": ingested.sha256,
            "bytes": ingested.bytes,
        }
        return Accepted(export, metadata, [contract], messages, ingested.sha256)


def accept_all(exports: list[RawExport], year: int, folders: ProjectFolders, warehouse: Warehouse) -> list[Accepted]:
    """The Parquet export on this thread, the CSV exports one after the other on another."""
    with warehouse.connect(year) as con:
        prepare_ingest_log(con)
    csv_exports = [e for e in exports if e.is_csv]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-exports") as pool:
        csv_accepted = pool.submit(lambda: [accept(e, year, folders, warehouse) for e in csv_exports])
        accepted = [accept(e, year, folders, warehouse) for e in exports if not e.is_csv]
        accepted += csv_accepted.result()
    order = {e.table: i for i, e in enumerate(exports)}
    return sorted(accepted, key=lambda a: order[a.export.table])


def raw_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The raw exports' assets over the code location's yearly partitions."""

    @dg.multi_asset(
        name="raw_exports",
        specs=[_spec(export) for export in RAW_EXPORTS],
        check_specs=[export_contract_spec(export, partitions) for export in RAW_EXPORTS],
        partitions_def=partitions,
        can_subset=True,
    )
    def raw_exports(
        context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        year = int(context.partition_key)
        selected = {key.to_user_string() for key in context.selected_asset_keys}
        problems = []
        accepted_all = accept_all([e for e in RAW_EXPORTS if e.table in selected], year, folders, warehouse)
        record_content(context, year, {a.export.file_name: a.sha256 for a in accepted_all if a.sha256 is not None})
        for accepted in accepted_all:
            for message in accepted.messages:
                context.log.info(message)
            # The contract's lines name their file, column, rule and rows.
            problems += yield from checked(
                accepted.export.table, accepted.metadata, accepted.checks, several=True, name_the_check=False
            )
        refuse(context, problems)

    return [raw_exports]
