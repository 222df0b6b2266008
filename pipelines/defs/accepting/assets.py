"""Group ``raw``: one asset per raw export of raw/README.md, ingested into the year's warehouse."""

import dagster as dg

from pipelines.accepting.ingest import RawExportError, ingest
from pipelines.core.contract import RAW_EXPORTS, RawExport
from pipelines.defs.accepting.export_contract import export_contract, export_contract_spec, unreadable_export
from pipelines.defs.gate import materialize_if_passed
from pipelines.defs.metadata import table_metadata
from pipelines.defs.partitions import yearly_partitions
from pipelines.defs.resources import ProjectFolders, Warehouse


def _raw_asset(export: RawExport) -> dg.AssetsDefinition:
    @dg.asset(
        name=export.table,
        group_name="raw",
        partitions_def=yearly_partitions,
        description=f"{export.description} Source file: raw/{{year}}/{export.file_name}.",
        kinds={"duckdb", "csv" if export.is_csv else "parquet"},
        owners=["team:data-engineering"],
        check_specs=[export_contract_spec(export)],
        # Not materialized for a year whose export breaks its contract (pipelines/defs/gate.py).
        output_required=False,
    )
    def raw_export(context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse):
        year = int(context.partition_key)
        with warehouse.connect(year) as con:
            try:
                ingested = ingest(con, export, folders.raw_year_dir(year))
            except RawExportError as error:
                yield from materialize_if_passed(context, {}, [unreadable_export(export, error)])
                return
            context.log.info(
                f"{export.file_name}: {ingested.rows:,} rows ingested, the same count as "
                + ("Python's csv module streamed" if export.is_csv else "the Parquet footer states")
            )
            contract = export_contract(con, export, year, folders, warehouse)
            context.log.info(contract.description)
            metadata = {
                **table_metadata(con, export.table),
                "dagster/row_count": dg.MetadataValue.int(ingested.rows),
                "file": dg.MetadataValue.path(str(ingested.file)),
                "sha256": ingested.sha256,
                "bytes": ingested.bytes,
            }
            yield from materialize_if_passed(context, metadata, [contract])

    return raw_export


raw_assets = [_raw_asset(export) for export in RAW_EXPORTS]
