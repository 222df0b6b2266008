"""Every asset up to the published tables and every check on them: what a release must have
seen pass in its own run. The release asset reads this (pipelines/defs/publishing/assets.py); the code
location (pipelines/definitions.py) adds the release to it."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.accepting.assets import raw_assets
from pipelines.defs.proving.assets import published_assets, staging_assets
from pipelines.defs.public_copy.assets import public_use_tables

checked_assets: list[dg.AssetsDefinition] = [*raw_assets, *staging_assets, *published_assets, public_use_tables]
all_check_keys: frozenset[dg.AssetCheckKey] = frozenset(
    key for definition in checked_assets for key in definition.check_keys
)
"""Every check of the code location, each run in its asset's step: the raw exports'
``export_contract``, the published tables' ``schema_and_totals`` and ``second_computation``,
``headline_metrics``' rules across years, the public-use tables' ``disclosure_audit``."""
