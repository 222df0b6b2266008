WITH sums AS (
    SELECT
        coalesce(sum(images), 0) AS image_count,
        coalesce(sum(videos), 0) AS video_count,
        coalesce(sum(other_files), 0) AS other_file_count
    FROM stg_cybertipline_report_counts
),
per_type AS (
    SELECT t.sort_order, t.label AS file_type, f.files
    FROM seed_file_types AS t
    JOIN (UNPIVOT sums ON image_count, video_count, other_file_count INTO NAME code VALUE files) AS f
      ON f.code = t.code
),
grand_total AS (
    SELECT total_position() AS sort_order, total_label('cybertipline_files_by_type') AS file_type,
           image_count + video_count + other_file_count AS files
    FROM sums
)
SELECT
    report_year() AS year,
    file_type,
    files::BIGINT AS files,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM per_type UNION ALL SELECT * FROM grand_total)
