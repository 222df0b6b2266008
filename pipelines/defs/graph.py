"""Every asset up to the published tables and every check on them; the release asset reads which
checks a publishing run must have seen pass (pipelines/defs/publishing/assets.py); the code
location (pipelines/definitions.py) adds the release to them."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.accepting.accepted import accepted_exports
from pipelines.defs.accepting.assets import raw_assets
from pipelines.defs.proving.assets import published_assets, staging_assets
from pipelines.defs.public_copy.assets import public_use_tables

publishing_assets: list[dg.AssetsDefinition] = [accepted_exports, *staging_assets, *published_assets, public_use_tables]
checked_assets: list[dg.AssetsDefinition] = [*raw_assets, *publishing_assets]
publishing_check_keys: frozenset[dg.AssetCheckKey] = frozenset(
    key for definition in publishing_assets for key in definition.check_keys
)
"""Every check of the publishing run, each run in its asset's step: the published tables'
``schema_and_totals`` and ``second_computation``, ``headline_metrics``' rules across years, the
public-use tables' ``disclosure_audit``. The raw exports' ``export_contract`` ran in the
accepting run (pipelines/defs/accepting/accepted.py)."""
