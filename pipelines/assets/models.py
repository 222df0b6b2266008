"""Groups ``staging`` and ``published``: the catalog seeds and one asset per SQL model file."""

import dagster as dg

from pipelines.metadata import table_metadata
from pipelines.partitions import yearly_partitions
from pipelines.resources import Warehouse
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


def _model_asset(model: SqlModel) -> dg.AssetsDefinition:
    published = model.layer == "published"

    @dg.asset(
        name=model.name,
        group_name=model.layer,
        partitions_def=yearly_partitions,
        deps=list(model.depends_on),
        description=model.description,
        kinds={"duckdb", "sql"},
        owners=["team:data-engineering"],
        metadata={"sql_file": dg.MetadataValue.path(f"sql/{model.layer}/{model.path.name}")},
    )
    def sql_model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect(int(context.partition_key)) as con:
            model.materialize(con)
            return dg.MaterializeResult(metadata=table_metadata(con, model.name, preview=published))

    return sql_model


staging_assets = [seeds, *(_model_asset(m) for m in models("staging"))]
published_assets = [_model_asset(m) for m in models("published")]
