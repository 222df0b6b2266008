"""The job of the code location: a whole year, from the raw exports to the release."""

import dagster as dg

yearly_release_job = dg.define_asset_job(
    name="yearly_release",
    selection=dg.AssetSelection.all(),
    description="Ingest, validate, build and publish one year's impact statistics.",
)
