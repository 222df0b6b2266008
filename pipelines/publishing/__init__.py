"""Stage 4, publishing: the files of a year's release — the atomic swap and history (release),
manifest, data package, report and the index of every year — and reading releases back: the
diff of two releases (diff) and the comparison with reference figures (verify). No Dagster."""
