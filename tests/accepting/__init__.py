"""Stage accepting: ingest, the raw export rules (Great Expectations and the SQL audits), the demo mark."""
