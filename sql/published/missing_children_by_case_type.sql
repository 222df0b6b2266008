WITH per_type AS (
    SELECT
        t.sort_order,
        t.label AS case_type,
        count(p.case_number) FILTER (WHERE p.status = 'Active') AS active,
        count(p.case_number) FILTER (WHERE p.status = 'Resolved') AS resolved,
        count(p.case_number) AS total
    FROM seed_case_types AS t
    LEFT JOIN stg_missing_children AS p ON p.case_type = t.code
    GROUP BY t.sort_order, t.label
),
grand_total AS (
    SELECT
        total_position() AS sort_order,
        total_label('missing_children_by_case_type') AS case_type,
        count(*) FILTER (WHERE status = 'Active') AS active,
        count(*) FILTER (WHERE status = 'Resolved') AS resolved,
        count(*) AS total
    FROM stg_missing_children
)
SELECT
    report_year() AS year,
    case_type,
    active::BIGINT AS active,
    resolved::BIGINT AS resolved,
    total::BIGINT AS total,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM per_type UNION ALL SELECT * FROM grand_total)
