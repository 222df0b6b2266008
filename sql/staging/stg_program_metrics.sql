-- Figures kept in other systems (FBI NCIC, AMBER, Team Adam...), typed (raw/README.md).
SELECT
    source_row,
    metric_id,
    period,
    CAST(value AS BIGINT) AS value,
    CAST(since AS INTEGER) AS since,
    source
FROM raw_program_metrics
