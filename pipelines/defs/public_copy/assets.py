"""Group ``release``: the public-use tables of a year and the disclosure audit.

``public_use_tables`` suppresses the small counts of children in the published tables that count
children, with complementary cells (pipelines/public_copy/suppression.py), and stores the public copies and
the list of suppressed cells in the warehouse (pipelines/public_copy/tables.py). The check
``disclosure_audit`` attacks what would be published — the public tables and the list alone —
and fails if any suppressed cell can be derived exactly, or if no pattern could protect them;
the public-use tables are then not materialized, the step and the run fail and ``release`` does
not run (pipelines/defs/gate.py).
"""

import time

import dagster as dg

from pipelines.core.config import MIN_PUBLIC_COUNT
from pipelines.defs.checks import check_spec
from pipelines.defs.gate import materialize_if_passed
from pipelines.defs.partitions import yearly_partitions
from pipelines.defs.resources import ProjectFolders, Warehouse
from pipelines.public_copy.suppression import LAYOUTS, PRIMARY
from pipelines.public_copy.tables import PublicCopy, earlier_releases, manifest_public, public_copy
from pipelines.publishing.release import history

DISCLOSURE_CHECK = "disclosure_audit"


@dg.asset(
    group_name="release",
    partitions_def=yearly_partitions,
    deps=list(LAYOUTS),
    description=(
        "The public-use copies of the tables that count children (and of the headline figures "
        f"they share a total with): counts from 1 to K-1 (K = {MIN_PUBLIC_COUNT}, "
        "IMPACT_MIN_PUBLIC_COUNT) suppressed, and as few further cells as possible so that no "
        "suppressed cell can be derived (a MILP solved with HiGHS). Also the list of suppressed "
        "cells with their SDMX CONF_STATUS (C primary, D secondary). A revised year keeps every "
        "cell suppressed in the year's earlier public releases and protects them all together. "
        "Published in published/{year}/public/ by the release."
    ),
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    check_specs=[check_spec(DISCLOSURE_CHECK, "public_use_tables")],
)
def public_use_tables(context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse):
    year = int(context.partition_key)
    earlier = earlier_releases(reversed(history(folders.published_root(), year)))
    with warehouse.connect(year) as con:
        started = time.perf_counter()
        copy = public_copy(con, year, MIN_PUBLIC_COUNT, earlier)
    if copy.built is None:  # its reason names no cell value
        yield from materialize_if_passed(context, {}, [unprotectable(year, copy)])
        return
    built, result = copy.built, copy.audit
    audit_seconds = time.perf_counter() - started - built.pattern.seconds
    per_table: dict[str, dict[str, int]] = {}
    for i, role in built.pattern.status.items():
        counts = per_table.setdefault(built.model.cells[i][0], {"primary": 0, "secondary": 0})
        counts["primary" if role == PRIMARY else "secondary"] += 1
    pattern = built.pattern
    context.log.info(
        f"Public-use tables of {year}: {len(pattern.status)} cells suppressed "
        f"({pattern.carried} carried over from earlier public releases, "
        f"{len(pattern.status) - pattern.carried} added) in {pattern.seconds:.2f} s "
        f"({pattern.iterations} MILP rounds); "
        f"audited with {len(result.releases) - 1} earlier public release(s) in {audit_seconds:.2f} s"
    )
    metadata = {
        "min_public_count": MIN_PUBLIC_COUNT,
        "suppressed_cells": len(built.listed),
        "solver_seconds": round(built.pattern.seconds, 3),
        "milp_rounds": built.pattern.iterations,
        "carried_over": pattern.carried,
        "added": len(pattern.status) - pattern.carried,
        "audit_seconds": round(audit_seconds, 3),
        "per_table": dg.MetadataValue.json(per_table),
    }
    yield from materialize_if_passed(context, metadata, [audit_check_result(copy)])


def unprotectable(year: int, copy: PublicCopy) -> dg.AssetCheckResult:
    """The audit when no suppression pattern exists: there is nothing safe to audit."""
    return dg.AssetCheckResult(
        check_name=DISCLOSURE_CHECK,
        passed=False,
        description="no suppression pattern protects every small count, nothing is published:",
        metadata={"failure": dg.MetadataValue.text(f"public-use tables of {year}: {copy.reason}")},
    )


def audit_check_result(copy: PublicCopy) -> dg.AssetCheckResult:
    """The check result: passed or every cell that gives itself away, and the audit figures per
    table; the manifest's ``public`` entry under ``public`` (``release`` copies it from here)."""
    result = copy.audit
    figures = result.figures()
    metadata = {
        "cells_suppressed": sum(f["suppressed"] for f in figures.values()),
        "primary": sum(f["primary"] for f in figures.values()),
        "secondary": sum(f["secondary"] for f in figures.values()),
        "public": dg.MetadataValue.json(manifest_public(copy, MIN_PUBLIC_COUNT)),
    }
    if result.passed:
        return dg.AssetCheckResult(
            check_name=DISCLOSURE_CHECK,
            passed=True,
            description=(
                "no suppressed cell can be derived from the public release, and no small count shown to be below K"
            ),
            metadata=metadata,
        )
    return dg.AssetCheckResult(
        check_name=DISCLOSURE_CHECK,
        passed=False,
        description=f"{len(result.problems)} disclosure problem(s), nothing is published:",
        metadata={**metadata, "failure": dg.MetadataValue.text("\n".join(result.problems))},
    )
