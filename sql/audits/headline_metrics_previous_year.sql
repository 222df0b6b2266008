-- Year-over-year rules of the headline figures (docs/published-tables.md, prior-year figures): one row per
-- violation, none when they hold. previous_year_headline_metrics holds last year's release,
-- empty when there is none.
SELECT
    p.metric_id,
    p.period,
    'a prior_year figure of program_metrics.csv equals the yearly figure of last year''s release' AS rule,
    p.value AS this_year,
    y.value AS last_year
FROM stg_program_metrics AS p
JOIN previous_year_headline_metrics AS y
  ON y.metric_id = p.metric_id AND y.period = 'year'
WHERE p.period = 'prior_year' AND p.value <> y.value
UNION ALL
SELECT
    h.metric_id,
    h.period,
    'a cumulative figure is never below last year''s cumulative figure' AS rule,
    h.value AS this_year,
    y.value AS last_year
FROM headline_metrics AS h
JOIN previous_year_headline_metrics AS y USING (metric_id, period)
WHERE h.period = 'cumulative' AND h.value < y.value
ORDER BY metric_id, period, rule
