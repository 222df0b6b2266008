WITH per_state AS (
    SELECT
        s.sort_order,
        s.name AS missing_state,
        count(p.case_number) FILTER (WHERE p.status = 'Active') AS active,
        count(p.case_number) FILTER (WHERE p.status = 'Resolved') AS resolved,
        count(p.case_number) AS total
    FROM seed_us_states AS s
    LEFT JOIN stg_missing_children AS p ON p.missing_state = s.code
    GROUP BY s.sort_order, s.name
),
grand_total AS (
    SELECT
        total_position() AS sort_order,
        total_label('missing_children_by_state') AS missing_state,
        count(*) FILTER (WHERE status = 'Active'),
        count(*) FILTER (WHERE status = 'Resolved'),
        count(*)
    FROM stg_missing_children
)
SELECT
    report_year() AS year,
    missing_state,
    active::BIGINT AS active,
    resolved::BIGINT AS resolved,
    total::BIGINT AS total,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM per_state UNION ALL SELECT * FROM grand_total)
