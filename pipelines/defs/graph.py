"""Every asset and check of the code location over its yearly partitions, by run: the accepting
run's (the raw exports) and the publishing run's (accepted_exports, the staging and published
tables, the public copy, the release); the release is given the checks it must have seen pass in
its own run (pipelines/defs/publishing/assets.py)."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.accepting.accepted import accepted_exports
from pipelines.defs.accepting.assets import raw_assets
from pipelines.defs.proving.assets import published_assets, staging_assets
from pipelines.defs.public_copy.assets import public_use_tables
from pipelines.defs.publishing.assets import release


def all_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every asset of the code location. The release refuses to publish unless every check of
    the publishing run passed in its own run: the published tables' ``schema_and_totals``,
    ``second_computation`` and ``shared_cells``, ``headline_metrics``' rules across years, the
    public-use tables' ``disclosure_audit``. The raw exports' ``export_contract`` ran in the
    accepting run (pipelines/defs/accepting/accepted.py)."""
    publishing = [
        accepted_exports(partitions),
        *staging_assets(partitions),
        *published_assets(partitions),
        public_use_tables(partitions),
    ]
    checks = frozenset(key for definition in publishing for key in definition.check_keys)
    return [*raw_assets(partitions), *publishing, release(partitions, checks)]
