WITH per_agency AS (
    SELECT
        a.sort_order,
        a.label AS agency_type,
        count(r.request_id) AS requests,
        coalesce(sum(r.image_count), 0) AS images,
        coalesce(sum(r.video_count), 0) AS videos
    FROM seed_agency_types AS a
    LEFT JOIN stg_cvip_requests AS r ON r.agency_type = a.code
    GROUP BY a.sort_order, a.label
),
grand_total AS (
    SELECT
        total_position() AS sort_order,
        total_label('cvip_requests_by_agency') AS agency_type,
        count(*),
        coalesce(sum(image_count), 0),
        coalesce(sum(video_count), 0)
    FROM stg_cvip_requests
)
SELECT
    report_year() AS year,
    agency_type,
    requests::BIGINT AS requests,
    images::BIGINT AS images,
    videos::BIGINT AS videos,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM per_agency UNION ALL SELECT * FROM grand_total)
