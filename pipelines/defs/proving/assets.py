"""Groups ``staging`` and ``published``: the catalog seeds and one asset per SQL model file, in
two steps of the publishing run.

``staging`` loads the seeds and builds the staging models; ``published_tables`` builds the
published tables, each in the order of what it is built from, and proves each right after its
SQL model built it: its Pandera schema (``schema_and_totals``, pipelines/proving/schemas.py), its
second computation from the raw exports (``second_computation``,
pipelines/proving/second_computation.py), the cells it shares with other tables
(``shared_cells``, pipelines/proving/shared_cells.py) and, for ``headline_metrics``, the rules
across years (pipelines/defs/proving/across_years.py). When one fails, the table is not
materialized for the year, nor is a table built from it; the step and the publishing run fail
and ``release`` does not run (pipelines/defs/gate.py). Each table is still its own asset with its
own checks, partitioned by year, so Dagster records each table's and each check's result per
year. Two steps rather than one per table: each step costs the run its events and Dagster's
look-up of the versions of its inputs (at the real year's size, a step cost about as much as
building a table).
"""

import hashlib
import inspect
import warnings
from collections.abc import Iterator
from graphlib import TopologicalSorter
from pathlib import Path

import dagster as dg

from pipelines.core.config import REPO_ROOT
from pipelines.core.seeds import load_seeds
from pipelines.core.sql_models import SEEDS, SqlModel, models
from pipelines.defs.gate import checked, refuse
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

STAGING_STEP = "staging"
"""The step that loads the seeds and builds the staging models."""
PUBLISHED_STEP = "published_tables"
"""The step that builds and proves the published tables."""


def _seeds_spec() -> dg.AssetSpec:
    return dg.AssetSpec(
        SEEDS,
        group_name="staging",
        deps=[ACCEPTED],
        description=(
            "Category catalogs (codes, labels, published order) from sql/seeds/, US states and "
            "ISO 3166 countries from pycountry, loaded into the year's warehouse as seed_* tables."
        ),
        kinds={"duckdb", "csv"},
        owners=["team:data-engineering"],
        skippable=True,
    )


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


def _check_specs(model: SqlModel, partitions: dg.PartitionsDefinition) -> list[dg.AssetCheckSpec]:
    specs = [schema_and_totals_spec(model.name, partitions), second_computation_spec(model.name, partitions)]
    if shared_tables(model.name):
        specs.append(shared_cells_spec(model.name, partitions))
    return specs + (across_years_specs(partitions) if model.name == ACROSS_YEARS_TABLE else [])


def _model_spec(model: SqlModel) -> dg.AssetSpec:
    published = model.layer == "published"
    return dg.AssetSpec(
        model.name,
        group_name=model.layer,
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
        skippable=True,  # one table may be selected (the UI, ``asset_selection``)
    )


def _built_from(model: SqlModel, names: set[str]) -> set[str]:
    """The tables among ``names`` (the models of its step) that a model is built from or compared
    with: what its SQL reads and the tables its ``shared_cells`` check reads."""
    return {d.asset_key.to_user_string() for d in _deps(model)} & names - {model.name}


def in_build_order(layer_models: tuple[SqlModel, ...]) -> list[SqlModel]:
    """The models of one step, each after the models of the step it is built from, ties in name
    order: deterministic."""
    by_name = {m.name: m for m in layer_models}
    graph: TopologicalSorter[str] = TopologicalSorter()
    for model in layer_models:
        graph.add(model.name, *sorted(_built_from(model, set(by_name))))
    return [by_name[name] for name in graph.static_order()]


def _previous_release(folders: ProjectFolders, year: int) -> Path | None:
    """Last year's release as its link points now, resolved once per step: every SQL model and
    second computation of the step reads the same release even if last year is published
    meanwhile."""
    link = folders.published_root() / str(year - 1)
    return link.resolve() if link.exists() else None


def _build(context: dg.AssetExecutionContext, con, model: SqlModel, year: int, previous: Path | None) -> dict:
    """Build one model's table; its metadata (row count, columns, and a preview when published)."""
    metadata = {}
    if model.previous_year is not None:
        columns = specs()[model.previous_year.table].duckdb_columns()
        found = model.previous_year.create_view(con, previous, columns)
        metadata["previous_year_release"] = str(year - 1) if found else "none"
        context.log.info(
            f"{model.previous_year.view}: "
            + (f"read from the {year - 1} release" if found else f"no {year - 1} release, empty")
        )
    model.materialize(con)
    return {**metadata, **table_metadata(con, model.name, preview=model.layer == "published")}


def _proofs(con, model: SqlModel, year: int, raw, folders: ProjectFolders, year_over_year: YearOverYear) -> list:
    """The checks of one published table, right after it is built."""
    checks = [schema_and_totals(con, model.name, year), second_computation(con, model.name, raw)]
    if shared_tables(model.name):
        checks.append(shared_cells(con, model.name))
    if model.name == ACROSS_YEARS_TABLE:
        checks += across_years_checks(con, year, folders, year_over_year)
    return checks


def _selected(context: dg.AssetExecutionContext) -> set[str]:
    return {key.to_user_string() for key in context.selected_asset_keys}


def staging_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The seeds and the staging models, loaded and built in one step."""
    staging = in_build_order(models("staging"))

    @dg.multi_asset(
        name=STAGING_STEP,
        specs=[_seeds_spec(), *(_model_spec(m) for m in staging)],
        partitions_def=partitions,
        can_subset=True,
    )
    def staging_step(context: dg.AssetExecutionContext, warehouse: Warehouse) -> Iterator[dg.MaterializeResult]:
        year, selected = int(context.partition_key), _selected(context)
        with warehouse.connect(year) as con:
            if SEEDS in selected:
                counts = load_seeds(con)
                yield dg.MaterializeResult(asset_key=SEEDS, metadata={f"rows/{t}": n for t, n in counts.items()})
            for model in staging:
                if model.name in selected:
                    yield dg.MaterializeResult(asset_key=model.name, metadata=_build(context, con, model, year, None))

    return [staging_step]


def published_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The published tables, built and proved in one step, each table with its own checks.

    Each table is built, then its checks run (pipelines/defs/gate.py): a table whose checks all
    pass is materialized with their results; one that a check refuses is not, nor is any table
    built from it in this step; the other tables go on, so that the run lists every problem,
    and the step fails at the end."""
    published = in_build_order(models("published"))

    @dg.multi_asset(
        name=PUBLISHED_STEP,
        specs=[_model_spec(m) for m in published],
        check_specs=[spec for m in published for spec in _check_specs(m, partitions)],
        partitions_def=partitions,
        can_subset=True,
    )
    def published_step(
        context: dg.AssetExecutionContext, warehouse: Warehouse, folders: ProjectFolders, year_over_year: YearOverYear
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        year, selected = int(context.partition_key), _selected(context)
        previous = _previous_release(folders, year)
        raw = raw_year(folders.raw_year_dir(year), year, previous)
        names, problems, refused = {m.name for m in published}, [], set()
        with warehouse.connect(year) as con:
            for model in published:
                if model.name not in selected:
                    continue
                if refused & _built_from(model, names):
                    refused.add(model.name)  # not built on a refused table
                    continue
                # No path to a published file here: the table is not published yet, and may never
                # be (the release's metadata names the files of a published year).
                metadata = _build(context, con, model, year, previous)
                checks = _proofs(con, model, year, raw, folders, year_over_year)
                found = yield from checked(model.name, metadata, checks, several=True)
                if found:
                    refused.add(model.name)
                    problems += found
        refuse(context, problems)

    return [published_step]
