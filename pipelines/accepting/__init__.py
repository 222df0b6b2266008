"""Stage 1, accepting a year's exports, without Dagster: ingest into the year's warehouse with its
completeness proof (ingest) and every row rule of the raw export contract (gx_suites: Great
Expectations on the CSV exports; audits: the CyberTipline export's rules, SQL audits in
sql/audits/)."""
