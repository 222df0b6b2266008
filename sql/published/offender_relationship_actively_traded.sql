WITH per_relationship AS (
    SELECT
        r.sort_order,
        r.label AS relationship,
        count(o.victim_id) AS known_relationships
    FROM seed_relationships AS r
    LEFT JOIN stg_cvip_offender_relationships AS o ON o.relationship = r.code
    GROUP BY r.sort_order, r.label
),
grand_total AS (
    SELECT total_position() AS sort_order, total_label('offender_relationship_actively_traded') AS relationship, count(*) AS known_relationships
    FROM stg_cvip_offender_relationships
),
all_rows AS (
    SELECT * FROM per_relationship UNION ALL SELECT * FROM grand_total
)
SELECT
    report_year() AS year,
    relationship,
    known_relationships::BIGINT AS known_relationships,
    percent_of(known_relationships, (SELECT known_relationships FROM grand_total)) AS percent_of_total,
    sort_order::INTEGER AS sort_order
FROM all_rows
