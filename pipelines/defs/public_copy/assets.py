"""Group ``release``: the public-use tables of a year and the disclosure audit.

``public_use_tables`` suppresses the small counts of children in the published tables that count
children, with complementary cells (pipelines/public_copy/suppression.py), and stores the public
copies and the list of withheld cells in the warehouse (pipelines/public_copy/tables.py). The
check ``disclosure_audit`` attacks what would be published, read with the year's earlier public
copies. The public copy never blocks the exact release: when no pattern passes the audit (or the
audit finds the suppressor's own pattern unsafe, a product error), the check fails with severity
WARN, the asset is still materialized with the reason in its metadata (its public tables
dropped), and ``release`` publishes the exact tables without a ``public/`` of their own.
"""

import dagster as dg

from pipelines.core.config import MIN_PUBLIC_COUNT
from pipelines.defs.checks import check_spec
from pipelines.defs.resources import Disclosure, ProjectFolders, Warehouse
from pipelines.public_copy.suppression import LAYOUTS, PRIMARY
from pipelines.public_copy.tables import (
    UNSAFE_PATTERN,
    PublicCopy,
    earlier_releases,
    manifest_public,
    public_copy,
    withheld_summary,
)
from pipelines.publishing.history import history

DISCLOSURE_CHECK = "disclosure_audit"


DESCRIPTION = (
    "The public-use copies of the tables that count children (and of the headline figures "
    f"they share a total with): counts from 1 to K-1 (K = {MIN_PUBLIC_COUNT} unless the run's "
    "config or IMPACT_MIN_PUBLIC_COUNT says otherwise) withheld, and as few further cells as "
    "possible so that, read with the year's earlier public copies, no withheld cell can be "
    "derived and no small count shown to be below K (a MILP solved with HiGHS). Also the list of "
    "withheld cells, each with the one flag C. A revised year keeps every cell withheld in the "
    "year's earlier public copies. "
    "Published in published/{year}/public/ by the release; when no pattern passes the audit, the "
    "copy is withheld (this asset's metadata says why) and the release has no public/ of its own."
)


def public_use_tables(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The public-use tables and their audit over the code location's yearly partitions."""

    @dg.asset(
        name="public_use_tables",
        group_name="release",
        partitions_def=partitions,
        deps=list(LAYOUTS),
        description=DESCRIPTION,
        kinds={"duckdb"},
        owners=["team:data-engineering"],
        check_specs=[check_spec(DISCLOSURE_CHECK, "public_use_tables", partitions)],
    )
    def asset(
        context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse, disclosure: Disclosure
    ) -> dg.MaterializeResult:
        return build_public_copy(context, folders, warehouse, disclosure)

    return asset


def build_public_copy(
    context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse, disclosure: Disclosure
) -> dg.MaterializeResult:
    """The step of ``public_use_tables``: the public copy, its audit and what the release reads."""
    year = int(context.partition_key)
    k = disclosure.k()
    earlier = earlier_releases(reversed(history(folders.published_root(), year)))
    with warehouse.connect(year) as con:
        copy = public_copy(con, year, k, earlier)
    entry = manifest_public(copy, k)
    metadata = copy_metadata(copy, entry, k)
    if not copy.published:
        context.log.warning(f"Public copy of {year} withheld: {copy.reason}: {withheld_summary(entry)}")
    else:
        context.log.info(
            f"Public-use tables of {year}: {len(copy.built.pattern.status)} cells withheld in "
            f"{copy.built.pattern.seconds:.2f} s ({copy.built.pattern.iterations} MILP rounds); audited with "
            f"{len(copy.audit.releases) - 1} earlier public copies in {copy.audit_seconds:.2f} s"
        )
    return dg.MaterializeResult(metadata=metadata, check_results=[audit_check_result(copy, entry)])


def copy_metadata(copy: PublicCopy, entry: dict, k: int) -> dict:
    """The asset's metadata: published or withheld (and why), the year's current public copy,
    K, the solver's seconds (its pattern's, or its search's when it found none) and the audit's
    when one ran."""
    metadata: dict = {
        "public_copy": entry["status"],
        "current_public_copy": entry["current"] or "",
        "min_public_count": k,
    }
    if copy.audit is not None:
        metadata["audit_seconds"] = round(copy.audit_seconds, 3)
    if copy.built is not None:
        metadata |= pattern_metadata(copy)
    else:
        metadata["solver_seconds"] = round(copy.solver_seconds, 3)
    if not copy.published:
        metadata["withheld_because"] = dg.MetadataValue.text(f"{copy.reason}: {withheld_summary(entry)}")
    return metadata


def pattern_metadata(copy: PublicCopy) -> dict:
    """How the pattern was found (cells per table and role: the exact release's facts; the
    public copy does not say which cells are small)."""
    pattern = copy.built.pattern
    per_table: dict[str, dict[str, int]] = {}
    for i, role in pattern.status.items():
        counts = per_table.setdefault(copy.built.model.cells[i][0], {"primary": 0, "secondary": 0})
        counts["primary" if role == PRIMARY else "secondary"] += 1
    return {
        "suppressed_cells": len(copy.built.listed),
        "solver_seconds": round(pattern.seconds, 3),
        "milp_rounds": pattern.iterations,
        "carried_over": pattern.carried,
        "added": len(pattern.status) - pattern.carried,
        "per_table": dg.MetadataValue.json(per_table),
    }


def audit_check_result(copy: PublicCopy, entry: dict) -> dg.AssetCheckResult:
    """The check result, with the manifest's ``public`` entry under ``public`` (``release``
    copies it from here). Passed: the audit's figures. Failed, severity WARN (the public copy is
    withheld; the exact release is published all the same): the reason, the cells that gave
    themselves away (names only) and, when the audit refused the suppressor's own pattern, that
    this is a product error."""
    metadata = {"public": dg.MetadataValue.json(entry)}
    if copy.published:
        figures = copy.audit.figures()
        metadata |= {
            "cells_suppressed": sum(f["suppressed"] for f in figures.values()),
            "primary": sum(f["primary"] for f in figures.values()),
            "secondary": sum(f["secondary"] for f in figures.values()),
        }
        return dg.AssetCheckResult(
            check_name=DISCLOSURE_CHECK,
            passed=True,
            description="no withheld cell can be derived from the public copies, nor any small count shown below K",
            metadata=metadata,
        )
    bug = copy.reason == UNSAFE_PATTERN
    return dg.AssetCheckResult(
        check_name=DISCLOSURE_CHECK,
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "public copy withheld, the exact tables are published without it: "
            + (
                "the audit found the suppression's own pattern unsafe (a product error, to be reported):"
                if bug
                else copy.reason + ":"
            )
        ),
        metadata={**metadata, "failure": dg.MetadataValue.text(copy.detail or copy.reason)},
    )
