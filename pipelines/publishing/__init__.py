"""Layer 4, publishing: the files of a year's release — the atomic swap and history (release),
manifest, data package, report and the index of every year. No Dagster."""
