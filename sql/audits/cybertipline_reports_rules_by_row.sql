-- The row rules of raw/README.md for cybertipline_reports.parquet, row by row in one scan of the view
-- raw_cybertipline_reports: the number of bad rows of each rule and five example report_ids.
--
-- Run by the blocking check in pipelines/checks/raw_exports.py only when
-- cybertipline_reports_rules.sql found a rule broken (or could not read the ingest's summary),
-- to count and name the bad rows. Needs report_year() (defined by the warehouse resource), the
-- view audit_cybertipline_rules (cybertipline_reports_rule_list.sql) and the table
-- audit_country_codes(code): the ISO 3166-1 alpha-2 codes of pycountry, plus XK.
--
-- Returns one row per rule, in bit order: the column, the rule, the number of bad rows, up to
-- five example report_ids of bad rows (never another cell: these are records about children), and
-- facts about the whole file: row_count, and the count, min and max of the non-null report_ids.
--
-- How: each row gets a bit mask of the rules it breaks (bit k = rule k of the list), the rows are
-- grouped by mask (one group when the file is valid), and each rule sums the groups that have its
-- bit. The five smallest report_ids of a rule are among the five smallest of its groups.
WITH bounds AS (
    -- Year Y in UTC: epoch() of a DATE counts seconds from 1970-01-01 UTC and to_timestamp()
    -- returns a TIMESTAMPTZ, so the session time zone plays no part.
    SELECT
        to_timestamp(epoch(make_date(report_year(), 1, 1))) AS year_start,
        to_timestamp(epoch(make_date(report_year() + 1, 1, 1))) AS next_year_start
),
flagged AS (
    -- CASE, not a cast of the condition: a NULL condition must count as "not broken".
    -- The same conditions, on groups of rows, are in cybertipline_reports_rules.sql.
    SELECT
        report_id,
        CASE WHEN report_id IS NULL THEN 1 << 0 ELSE 0 END
        + CASE WHEN received_at IS NULL THEN 1 << 1 ELSE 0 END
        + CASE WHEN received_at < year_start OR received_at >= next_year_start THEN 1 << 2 ELSE 0 END
        + CASE WHEN reporter_type IS NULL OR reporter_type NOT IN ('ESP', 'PUBLIC') THEN 1 << 3 ELSE 0 END
        + CASE WHEN reporter_type = 'ESP' AND (esp_name IS NULL OR trim(esp_name) = '') THEN 1 << 4 ELSE 0 END
        + CASE WHEN reporter_type = 'PUBLIC' AND esp_name IS NOT NULL THEN 1 << 5 ELSE 0 END
        + CASE
            WHEN incident_type IS NULL OR incident_type NOT IN (
                'CSAM', 'ONLINE_ENTICEMENT', 'CHILD_SEX_TRAFFICKING', 'CHILD_SEXUAL_MOLESTATION',
                'MISLEADING_WORDS_OR_IMAGES', 'UNSOLICITED_OBSCENE_MATERIAL',
                'MISLEADING_DOMAIN_NAME', 'CHILD_SEX_TOURISM'
            ) THEN 1 << 6
            ELSE 0
          END
        + CASE
            WHEN incident_country IS NOT NULL
                AND incident_country NOT IN (SELECT code FROM audit_country_codes) THEN 1 << 7
            ELSE 0
          END
        + CASE WHEN image_count IS NULL THEN 1 << 8 ELSE 0 END
        + CASE WHEN image_count < 0 THEN 1 << 9 ELSE 0 END
        + CASE WHEN video_count IS NULL THEN 1 << 10 ELSE 0 END
        + CASE WHEN video_count < 0 THEN 1 << 11 ELSE 0 END
        + CASE WHEN other_file_count IS NULL THEN 1 << 12 ELSE 0 END
        + CASE WHEN other_file_count < 0 THEN 1 << 13 ELSE 0 END
        AS mask
    FROM raw_cybertipline_reports, bounds
),
groups AS (
    SELECT
        mask,
        count(*) AS n,
        count(report_id) AS ids,
        min(report_id) AS id_min,
        max(report_id) AS id_max,
        min(report_id, 5) FILTER (WHERE mask <> 0) AS examples
    FROM flagged
    GROUP BY mask
)
SELECT
    r."column",
    r.rule,
    coalesce(sum(g.n) FILTER (WHERE g.mask & (1 << r.bit) <> 0), 0)::BIGINT AS bad_rows,
    coalesce(
        list_sort(flatten(list(g.examples) FILTER (WHERE g.mask & (1 << r.bit) <> 0)))[1:5],
        []::BIGINT[]
    ) AS examples,
    coalesce(sum(g.n), 0)::BIGINT AS row_count,
    coalesce(sum(g.ids), 0)::BIGINT AS report_ids,
    min(g.id_min) AS report_id_min,
    max(g.id_max) AS report_id_max
FROM audit_cybertipline_rules AS r
LEFT JOIN groups AS g ON true
GROUP BY r.bit, r."column", r.rule
ORDER BY r.bit
