-- Figures of this year that moved outside the band around last year's release: each export's
-- row count (ingest_log against last year's manifest, loaded as previous_year_export_rows) and
-- each published table's total. A table's total is the first figure the metric catalog computes
-- from it (sql/seeds/metric_catalog.csv lists it first: missing_children_cases_assisted for
-- missing_children_by_case_type, cybertipline_reports for cybertipline_reports_by_source, ...);
-- the headline figures' second computation proves it equals the raw exports' figure. Parts of a
-- table (e.g. public reports) are not banded: they may legitimately double. One row per figure outside the band, none when
-- every figure is within it or there is no release of last year. $band is a fraction of last
-- year's value (pipelines/core/config.py).
WITH table_totals AS (
    SELECT metric_id, period
    FROM seed_metric_catalog
    WHERE computed_from IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY computed_from ORDER BY sort_order) = 1
),
this_year AS (
    SELECT file_name AS figure, rows AS value FROM ingest_log
    UNION ALL
    SELECT metric_id || '/' || period, value FROM headline_metrics JOIN table_totals USING (metric_id, period)
),
last_year AS (
    SELECT figure, rows AS value FROM previous_year_export_rows
    UNION ALL
    SELECT metric_id || '/' || period, value
    FROM previous_year_headline_metrics JOIN table_totals USING (metric_id, period)
)
SELECT t.figure, t.value AS this_year, l.value AS last_year
FROM this_year AS t
JOIN last_year AS l USING (figure)
WHERE abs(t.value - l.value) > $band * l.value
ORDER BY t.figure
