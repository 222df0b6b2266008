-- The row rules of raw/README.md for cybertipline_reports.parquet, decided for every row from the
-- ingest's one scan of the export: the table raw_cybertipline_reports_groups
-- (cybertipline_reports_scan.sql), a few thousand rows, so no row is read again here.
--
-- Run by the blocking check in pipelines/checks/raw_exports.py, which also checks the column
-- types from the Parquet schema and the uniqueness of report_id (cybertipline_reports_unique_ids.sql).
-- Needs report_year(), the view audit_cybertipline_rules (cybertipline_reports_rule_list.sql) and
-- the table audit_country_codes(code): the ISO 3166-1 alpha-2 codes of pycountry, plus XK.
--
-- Returns one row per rule, in bit order: the column, the rule, whether some row breaks it, and
-- facts about the whole file: row_count, and the count, min and max of the non-null report_ids.
-- Each verdict is exact, not a sample: the code rules are the conditions of
-- cybertipline_reports_rules_by_row.sql on the group keys (every row of a group has its keys); a
-- column is required on every row when its count equals the rows'; it is >= 0, or within the
-- year, on every row when its minimum (and maximum) is. When a rule is broken, the check runs
-- cybertipline_reports_rules_by_row.sql to count and name the bad rows.
WITH bounds AS (
    -- Year Y in UTC, as in cybertipline_reports_rules_by_row.sql.
    SELECT
        to_timestamp(epoch(make_date(report_year(), 1, 1))) AS year_start,
        to_timestamp(epoch(make_date(report_year() + 1, 1, 1))) AS next_year_start
),
verdicts AS (
    -- bool_or ignores a NULL condition: like the CASE of the row-by-row audit, "not broken".
    SELECT
        coalesce(sum(g.reports), 0)::BIGINT AS row_count,
        coalesce(sum(g.report_ids), 0)::BIGINT AS report_ids,
        min(g.report_id_min) AS report_id_min,
        max(g.report_id_max) AS report_id_max,
        [
            coalesce(sum(g.report_ids) < sum(g.reports), false),
            coalesce(sum(g.received_ats) < sum(g.reports), false),
            coalesce(
                min(g.received_at_min) < any_value(b.year_start)
                OR max(g.received_at_max) >= any_value(b.next_year_start),
                false
            ),
            coalesce(bool_or(g.reporter_type IS NULL OR g.reporter_type NOT IN ('ESP', 'PUBLIC')), false),
            coalesce(bool_or(g.reporter_type = 'ESP' AND (g.esp_name IS NULL OR trim(g.esp_name) = '')), false),
            coalesce(bool_or(g.reporter_type = 'PUBLIC' AND g.esp_name IS NOT NULL), false),
            coalesce(bool_or(
                g.incident_type IS NULL OR g.incident_type NOT IN (
                    'CSAM', 'ONLINE_ENTICEMENT', 'CHILD_SEX_TRAFFICKING', 'CHILD_SEXUAL_MOLESTATION',
                    'MISLEADING_WORDS_OR_IMAGES', 'UNSOLICITED_OBSCENE_MATERIAL',
                    'MISLEADING_DOMAIN_NAME', 'CHILD_SEX_TOURISM'
                )
            ), false),
            coalesce(bool_or(
                g.incident_country IS NOT NULL
                AND g.incident_country NOT IN (SELECT code FROM audit_country_codes)
            ), false),
            coalesce(sum(g.image_counts) < sum(g.reports), false),
            coalesce(min(g.image_count_min) < 0, false),
            coalesce(sum(g.video_counts) < sum(g.reports), false),
            coalesce(min(g.video_count_min) < 0, false),
            coalesce(sum(g.other_file_counts) < sum(g.reports), false),
            coalesce(min(g.other_file_count_min) < 0, false)
        ] AS broken
    FROM raw_cybertipline_reports_groups AS g, bounds AS b
)
SELECT
    r."column",
    r.rule,
    v.broken[r.bit + 1] AS broken,
    v.row_count,
    v.report_ids,
    v.report_id_min,
    v.report_id_max
FROM audit_cybertipline_rules AS r, verdicts AS v
ORDER BY r.bit
