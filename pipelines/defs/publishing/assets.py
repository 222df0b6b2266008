"""Group ``release``: the year's published folder, written only after every check has passed."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg

from pipelines.accepting.ingest import RawExportError, changed_since_ingest, demo_exports, ingested_files
from pipelines.core.sql_models import models
from pipelines.defs.accepting.accepted import acceptance_problems
from pipelines.defs.alerts import alert_withheld_copy
from pipelines.defs.gate import RELEASE_TAG
from pipelines.defs.public_copy.assets import DISCLOSURE_CHECK
from pipelines.defs.resources import ProjectFolders, Warehouse
from pipelines.public_copy.audit import THIS_RELEASE
from pipelines.publishing.diff import changes_per_table, diff_releases
from pipelines.publishing.history import replaced_release
from pipelines.publishing.release import write_release

PUBLISHED_TABLES = [m.name for m in models("published")]


def checks_of_this_run(
    context: dg.AssetExecutionContext, expected_keys: frozenset[dg.AssetCheckKey]
) -> tuple[list[dict], dict]:
    """Every asset check evaluated in this run, with its result, and the disclosure audit's
    figures for the manifest (from its check result: the audit is not run twice).

    The release refuses to publish unless every check of the publishing job ran in the same run
    and passed: materializing ``release`` alone would otherwise publish tables nobody checked. A
    check that failed with severity WARN does not refuse it (``disclosure_audit`` when the public
    copy is withheld: the exact tables are published without it); the manifest says it failed.
    """

    records = context.instance.get_records_for_run(
        run_id=context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluated, metadata, warned = {}, {}, {}
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        key = (evaluation.asset_key.to_user_string(), evaluation.check_name)
        evaluated[key], metadata[key] = evaluation.passed, evaluation.metadata
        warned[key] = evaluation.severity == dg.AssetCheckSeverity.WARN
    expected = {(key.asset_key.to_user_string(), key.name) for key in expected_keys}
    missing = sorted(expected - evaluated.keys())
    failed = sorted(key for key, passed in evaluated.items() if not passed and not warned[key])
    if missing or failed:
        reasons = [f"check {a}:{c} failed" for a, c in failed]
        if missing:
            named = ", ".join(f"{a}:{c}" for a, c in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            reasons.append(f"{len(missing)} check(s) did not run in this run ({named}{more})")
        raise dg.Failure(
            description="not published: "
            + "; ".join(reasons)
            + ". Run the year's publishing job (yearly_release) whole."
        )
    public = metadata[("public_use_tables", DISCLOSURE_CHECK)]["public"].value
    return [{"asset": a, "check": c, "passed": evaluated[(a, c)]} for (a, c) in sorted(evaluated)], public


def revision_metadata(published_root: Path, release_folder: Path, before: Path | None) -> dict:
    """What this run changed: for a revision, the cells changed since the release it replaced, in
    total and per table (``impact diff`` lists them); none when the run found its release current
    already (``before``); nothing for a year's first release. Counts only: the changed figures
    are in the release itself."""
    if release_folder == before:
        return {"cells_changed": dg.MetadataValue.int(0), "cells_changed_per_table": dg.MetadataValue.json({})}
    replaced = replaced_release(published_root, release_folder)
    if replaced is None:
        return {}
    changes = diff_releases(replaced, release_folder)
    return {
        "cells_changed": dg.MetadataValue.int(len(changes)),
        "cells_changed_per_table": dg.MetadataValue.json(changes_per_table(changes)),
    }


def published_files(release: Path) -> str:
    """Each published table's files in the release folder, as a markdown table."""
    lines = ["| table | CSV | Parquet |", "|---|---|---|"]
    for table in PUBLISHED_TABLES:
        lines.append(f"| {table} | `{release / (table + '.csv')}` | `{release / (table + '.parquet')}` |")
    return "\n".join(lines)


DESCRIPTION = (
    "The year's release, published/{year}/: every published table as Parquet and CSV, "
    "manifest.json, datapackage.json and report.html, and public/ (the public-use tables, "
    "the list of suppressed cells, their data package and report) unless the public copy was "
    "withheld (then the year's last protected public copy stays current, and the run, the manifest, "
    "the report, the index and one alert line say so). Built in a staging folder and swapped "
    "in atomically once every check of the run has passed: it appears whole or not at all. "
    "Every release is kept (published/.releases/); the manifest names the release it "
    "replaced, and published/index.html is rewritten with every published year."
)


def release(partitions: dg.PartitionsDefinition, checks: frozenset[dg.AssetCheckKey]) -> dg.AssetsDefinition:
    """The release over the code location's yearly partitions; ``checks``: every check of the
    publishing job, each of which must have passed in the release's own run."""

    @dg.asset(
        name="release",
        group_name="release",
        partitions_def=partitions,
        deps=[*PUBLISHED_TABLES, "public_use_tables"],
        description=DESCRIPTION,
        kinds={"parquet", "csv", "html"},
        owners=["team:data-engineering"],
    )
    def asset(context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse) -> dg.MaterializeResult:
        return publish(context, folders, warehouse, checks)

    return asset


def publish(
    context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse, expected: frozenset
) -> dg.MaterializeResult:
    """The step of ``release``: the year's release written, once every check passed in this run."""
    year = int(context.partition_key)
    checks, public = checks_of_this_run(context, expected)
    with warehouse.connect(year) as con, ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hashing:
        refused = acceptance_problems(context.instance, year, con)
        if refused:
            raise dg.Failure(description="not published: " + "; ".join(refused))
        # Did an export change during the run? Its signature says so, or its SHA-256 again, on a
        # thread while the release is written.
        changed = hashing.submit(changed_since_ingest, ingested_files(con), folders.raw_year_dir(year))

        def inputs_unchanged() -> None:
            if changed.result():
                names = ", ".join(changed.result())
                raise dg.Failure(description=f"not published: raw export(s) changed since they were accepted: {names}")

        try:
            synthetic = demo_exports(con, folders.raw_year_dir(year))
        except RawExportError as error:
            raise dg.Failure(description=f"not published: {error}") from None
        publication = write_release(
            con, PUBLISHED_TABLES, folders.published_root(), year, checks, public, synthetic, inputs_unchanged
        )
    release_id = publication.release.name
    before = publication.release if publication.unchanged else None
    context.log.info(f"Release of {year}: {release_id} ({publication.outcome}), at {publication.link}")
    context.instance.add_run_tags(context.run.run_id, {RELEASE_TAG: f"{release_id} ({publication.outcome})"})
    if publication.public_withheld:
        context.log.warning(f"Release of {year}: public copy withheld: {publication.public_withheld}")
        alert_withheld_copy(warehouse.root(), context.instance, context.run.run_id, year, public)
    # Paths into the immutable release folder: the link published/<year> moves with the next
    # revision, and this event must keep pointing at the files it describes.
    return dg.MaterializeResult(
        metadata={
            "release_id": release_id,
            "outcome": publication.outcome,
            "replaces": publication.replaces or "",
            **revision_metadata(folders.published_root(), publication.release, before),
            "release": dg.MetadataValue.path(str(publication.release)),
            "report": dg.MetadataValue.path(str(publication.release / "report.html")),
            "manifest": dg.MetadataValue.path(str(publication.release / "manifest.json")),
            "published_files": dg.MetadataValue.md(published_files(publication.release)),
            "link": dg.MetadataValue.path(str(publication.link)),
            "tables": len(PUBLISHED_TABLES),
            "checks_passed": sum(check["passed"] for check in checks),
            "public_copy": public["status"],
            "public_copy_withheld_because": publication.public_withheld,
            "current_public_copy": release_id if public["current"] == THIS_RELEASE else public["current"] or "",
        }
    )
