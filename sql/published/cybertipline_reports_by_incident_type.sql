WITH per_type AS (
    SELECT
        t.sort_order,
        t.label AS incident_type,
        coalesce(sum(c.reports), 0) AS reports
    FROM seed_incident_types AS t
    LEFT JOIN stg_cybertipline_report_counts AS c ON c.incident_type = t.code
    GROUP BY t.sort_order, t.label
),
grand_total AS (
    SELECT total_position() AS sort_order, total_label('cybertipline_reports_by_incident_type') AS incident_type, coalesce(sum(reports), 0) AS reports
    FROM stg_cybertipline_report_counts
)
SELECT
    report_year() AS year,
    incident_type,
    reports::BIGINT AS reports,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM per_type UNION ALL SELECT * FROM grand_total)
