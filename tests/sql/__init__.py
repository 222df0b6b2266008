"""The SQL models and audits on tiny exports through DuckDB alone."""
