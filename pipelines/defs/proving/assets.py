"""Groups ``staging`` and ``published``: the catalog seeds and one asset per SQL model file.

A published table's checks run in the table's own step, right after the model built it: its
Pandera schema (``schema_and_totals``, pipelines/proving/schemas.py), its second computation
from the raw exports (``second_computation``, pipelines/proving/second_computation.py), the cells it shares
with other tables (``shared_cells``, pipelines/proving/shared_cells.py) and, for
``headline_metrics``, the rules across years (pipelines/defs/proving/across_years.py). When one
fails the table is not materialized for the year, its step and the publishing run fail and
``release`` does not run (pipelines/defs/gate.py). Checks are partitioned like their asset, so Dagster records their
result per year.
"""

import hashlib
import inspect
import warnings
from pathlib import Path

import dagster as dg

from pipelines.core.config import REPO_ROOT
from pipelines.core.seeds import load_seeds
from pipelines.core.sql_models import SqlModel, models
from pipelines.defs.gate import materialize_if_passed
from pipelines.defs.metadata import table_metadata
from pipelines.defs.proving.across_years import TABLE as ACROSS_YEARS_TABLE
from pipelines.defs.proving.across_years import across_years_checks, across_years_specs
from pipelines.defs.proving.schema_and_totals import schema_and_totals, schema_and_totals_spec
from pipelines.defs.proving.second_computation import second_computation, second_computation_spec
from pipelines.defs.proving.shared_cells import shared_cells, shared_cells_spec, shared_tables
from pipelines.defs.resources import ProjectFolders, Warehouse, YearOverYear
from pipelines.tables import specs
from pipelines.tables.raw_year import raw_year

ACCEPTED = "accepted_exports"
"""The publishing run's first step (pipelines/defs/accepting/accepted.py): the seeds and every model
that reads a raw export come after it."""


def _seeds(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The catalog seeds over the code location's yearly partitions."""

    @dg.asset(
        group_name="staging",
        partitions_def=partitions,
        deps=[ACCEPTED],
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

    return seeds


with warnings.catch_warnings():
    # The parameter is beta in Dagster 1.13 and warns at every import of this module (the CLI, the
    # UI, every test). Its behaviour here is pinned by tests/e2e/test_across_years.py.
    warnings.simplefilter("ignore", dg.BetaWarning)
    PREVIOUS_YEAR = dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
    )
"""Year Y depends on year Y-1; the first year has no previous partition, which is allowed."""


def _deps(model: SqlModel) -> list[dg.AssetDep]:
    """The tables the SQL reads, the tables whose cells the table shares (its ``shared_cells``
    check reads them), ``accepted_exports`` when it reads a raw export, and last year's release
    of a table when the SQL compares with it."""
    shared = shared_tables(model.name) if model.layer == "published" else []
    reads_raw = any(name.startswith("raw_") for name in model.depends_on)
    deps = [dg.AssetDep(name) for name in dict.fromkeys([*model.depends_on, *shared, *([ACCEPTED] * reads_raw)])]
    if model.previous_year is not None:
        deps.append(dg.AssetDep(model.previous_year.table, partition_mapping=PREVIOUS_YEAR))
    return deps


def _sources(model: SqlModel) -> list[Path]:
    """The files that define a model: its SQL file and, for a published table, its spec."""
    files = [model.path]
    if model.layer == "published":
        files.append(Path(inspect.getfile(inspect.getmodule(specs()[model.name].second_computation))))
    return files


def code_version(model: SqlModel) -> str:
    """Changes when the model's SQL file or its table's spec changes, so Dagster marks the table
    (and what reads it) as changed since its last materialization."""
    digest = hashlib.sha256()
    for path in _sources(model):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_references(model: SqlModel) -> dg.CodeReferencesMetadataValue:
    return dg.CodeReferencesMetadataValue(
        code_references=[
            dg.LocalFileCodeReference(file_path=str(path), line_number=1, label=str(path.relative_to(REPO_ROOT)))
            for path in _sources(model)
        ]
    )


def sql_text(model: SqlModel) -> dg.MarkdownMetadataValue:
    """The model's SQL file as a code block, readable in the UI's browser tab; the code
    reference opens it in an editor only on the machine that serves the UI."""
    return dg.MetadataValue.md(f"```sql\n{model.path.read_text(encoding='utf-8').strip()}\n```")


def _check_specs(model: SqlModel, partitions: dg.PartitionsDefinition) -> list[dg.AssetCheckSpec] | None:
    if model.layer != "published":
        return None
    specs = [schema_and_totals_spec(model.name, partitions), second_computation_spec(model.name, partitions)]
    if shared_tables(model.name):
        specs.append(shared_cells_spec(model.name, partitions))
    return specs + (across_years_specs(partitions) if model.name == ACROSS_YEARS_TABLE else [])


def _model_asset(model: SqlModel, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    published = model.layer == "published"

    @dg.asset(
        name=model.name,
        group_name=model.layer,
        partitions_def=partitions,
        deps=_deps(model),
        description=specs()[model.name].description if published else model.header,
        kinds={"duckdb", "sql"},
        owners=["team:data-engineering"],
        code_version=code_version(model),
        metadata={
            "sql_file": dg.MetadataValue.path(f"sql/{model.layer}/{model.path.name}"),
            "sql": sql_text(model),
            "dagster/code_references": code_references(model),
        },
        check_specs=_check_specs(model, partitions),
    )
    def sql_model(
        context: dg.AssetExecutionContext, warehouse: Warehouse, folders: ProjectFolders, year_over_year: YearOverYear
    ):
        year = int(context.partition_key)
        metadata = {}
        # Last year's release as its link points now, resolved once: the SQL model and the second
        # computation must read the same release even if last year is published meanwhile.
        previous_link = folders.published_root() / str(year - 1)
        previous_release = previous_link.resolve() if previous_link.exists() else None
        with warehouse.connect(year) as con:
            if model.previous_year is not None:
                previous = str(year - 1)
                columns = specs()[model.previous_year.table].duckdb_columns()
                found = model.previous_year.create_view(con, previous_release, columns)
                metadata["previous_year_release"] = previous if found else "none"
                context.log.info(
                    f"{model.previous_year.view}: "
                    + (f"read from the {previous} release" if found else f"no {previous} release, empty")
                )
            model.materialize(con)
            metadata.update(table_metadata(con, model.name, preview=published))
            if not published:
                yield dg.MaterializeResult(metadata=metadata)
                return
            # No path to a published file here: the table is not published yet, and may never be
            # (the release's metadata names the files of a published year).
            raw = raw_year(folders.raw_year_dir(year), year, previous_release)
            checks = [schema_and_totals(con, model.name, year), second_computation(con, model.name, raw)]
            if shared_tables(model.name):
                checks.append(shared_cells(con, model.name))
            if model.name == ACROSS_YEARS_TABLE:
                checks += across_years_checks(con, year, folders, year_over_year)
            yield from materialize_if_passed(context, metadata, checks)

    return sql_model


def staging_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The seeds and the staging models over the code location's yearly partitions."""
    return [_seeds(partitions), *(_model_asset(m, partitions) for m in models("staging"))]


def published_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The published tables, each with its checks, over the code location's yearly partitions."""
    return [_model_asset(m, partitions) for m in models("published")]
