WITH per_country AS (
    SELECT
        k.sort_order,
        k.code AS country_code,
        k.name AS country,
        sum(c.reports) AS reports
    FROM stg_cybertipline_report_counts AS c
    JOIN seed_countries AS k ON k.code = c.incident_country
    GROUP BY k.sort_order, k.code, k.name
),
no_country AS (
    SELECT no_country_position() AS sort_order, NULL AS country_code, no_country_label() AS country,
           coalesce(sum(reports), 0) AS reports
    FROM stg_cybertipline_report_counts
    WHERE incident_country IS NULL
),
grand_total AS (
    SELECT total_position() AS sort_order, NULL AS country_code, total_label('cybertipline_reports_by_country') AS country,
           coalesce(sum(reports), 0) AS reports
    FROM stg_cybertipline_report_counts
)
SELECT
    report_year() AS year,
    country_code::VARCHAR AS country_code,
    country,
    reports::BIGINT AS reports,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM per_country UNION ALL SELECT * FROM no_country UNION ALL SELECT * FROM grand_total)
