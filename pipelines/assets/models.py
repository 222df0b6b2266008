"""Groups ``staging`` and ``published``: the catalog seeds and one asset per SQL model file.

A published table's Pandera check (``schema_and_totals``, pipelines/checks/published_tables.py)
runs in the table's own step, right after the model built it: blocking, so a failure keeps
``release`` from running.
"""

import warnings

import dagster as dg

from pipelines.checks.published_tables import schema_and_totals, schema_and_totals_spec
from pipelines.metadata import table_metadata
from pipelines.partitions import yearly_partitions
from pipelines.resources import ProjectFolders, Warehouse
from pipelines.seeds import load_seeds
from pipelines.sql_models import SqlModel, models


@dg.asset(
    group_name="staging",
    partitions_def=yearly_partitions,
    description=(
        "Category catalogs (codes, labels, published order) from sql/seeds/, US states and "
        "ISO 3166 countries from pycountry, loaded into the year's warehouse as seed_* tables."
    ),
    kinds={"duckdb", "csv"},
    owners=["team:data-engineering"],
)
def seeds(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect(int(context.partition_key)) as con:
        counts = load_seeds(con)
    return dg.MaterializeResult(metadata={f"rows/{t}": n for t, n in counts.items()})


with warnings.catch_warnings():
    # The parameter is beta in Dagster 1.13 and warns at every import of this module (the CLI, the
    # UI, every test). Its behaviour here is pinned by tests/test_across_years.py.
    warnings.simplefilter("ignore", dg.BetaWarning)
    PREVIOUS_YEAR = dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
    )
"""Year Y depends on year Y-1; the first year has no previous partition, which is allowed."""


def _deps(model: SqlModel) -> list[dg.AssetDep]:
    deps = [dg.AssetDep(name) for name in model.depends_on]
    if model.previous_year is not None:
        deps.append(dg.AssetDep(model.previous_year.table, partition_mapping=PREVIOUS_YEAR))
    return deps


def _model_asset(model: SqlModel) -> dg.AssetsDefinition:
    published = model.layer == "published"

    @dg.asset(
        name=model.name,
        group_name=model.layer,
        partitions_def=yearly_partitions,
        deps=_deps(model),
        description=model.description,
        kinds={"duckdb", "sql"},
        owners=["team:data-engineering"],
        metadata={"sql_file": dg.MetadataValue.path(f"sql/{model.layer}/{model.path.name}")},
        check_specs=[schema_and_totals_spec(model.name)] if published else None,
    )
    def sql_model(
        context: dg.AssetExecutionContext, warehouse: Warehouse, folders: ProjectFolders
    ) -> dg.MaterializeResult:
        year = int(context.partition_key)
        metadata = {}
        with warehouse.connect(year) as con:
            if model.previous_year is not None:
                previous = str(year - 1)
                found = model.previous_year.create_view(con, folders.published_root() / previous)
                metadata["previous_year_release"] = previous if found else "none"
                context.log.info(
                    f"{model.previous_year.view}: "
                    + (f"read from the {previous} release" if found else f"no {previous} release, empty")
                )
            model.materialize(con)
            metadata.update(table_metadata(con, model.name, preview=published))
            checks = [schema_and_totals(con, model.name, year)] if published else None
            return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return sql_model


staging_assets = [seeds, *(_model_asset(m) for m in models("staging"))]
published_assets = [_model_asset(m) for m in models("published")]
