"""Stage publishing: the release's files (tables, manifest, data package, report, index),
diff and verify, the table pages."""
