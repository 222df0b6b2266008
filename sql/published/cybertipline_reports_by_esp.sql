WITH per_esp AS (
    SELECT esp_name, sum(reports) AS reports
    FROM stg_cybertipline_report_counts
    WHERE reporter_type = 'ESP'
    GROUP BY esp_name
),
ranked AS (
    SELECT
        row_number() OVER (ORDER BY reports DESC, esp_name) AS sort_order,
        esp_name,
        reports
    FROM per_esp
),
grand_total AS (
    SELECT total_position() AS sort_order, total_label('cybertipline_reports_by_esp') AS esp_name, coalesce(sum(reports), 0) AS reports
    FROM stg_cybertipline_report_counts
    WHERE reporter_type = 'ESP'
)
SELECT
    report_year() AS year,
    esp_name,
    reports::BIGINT AS reports,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM ranked UNION ALL SELECT * FROM grand_total)
