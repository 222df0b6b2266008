-- The floor of the benchmark: what a bare DuckDB script costs to compute the CyberTipline
-- aggregates and to check the row rules of raw/README.md straight from the Parquet export, as a
-- user would write it, with DuckDB capped like the product's warehouse (512MiB, all cores).
-- `impact run` is compared with it. It is not part of the pipeline.
--
-- Run by benchmarks/peers.py (`floor`), one statement per "-- name:" section, in order.
-- Parameters: $path (the Parquet file), $year_start and $next_year_start (TIMESTAMPTZ, the year
-- in UTC).

-- name: counts
-- The export reduced to one row per (reporter_type, esp_name, incident_type, incident_country),
-- with the per-row rules (dates, counts) as filtered counts: the published aggregates and the
-- code rules are read from these few thousand rows (benchmarks/peers.py, summarize).
SELECT
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    count(*) AS reports,
    count(report_id) AS ids,
    sum(image_count)::BIGINT AS images,
    sum(video_count)::BIGINT AS videos,
    sum(other_file_count)::BIGINT AS other_files,
    count(*) FILTER (
        WHERE received_at IS NULL OR received_at < $year_start OR received_at >= $next_year_start
    ) AS bad_received_at,
    count(*) FILTER (
        WHERE image_count IS NULL OR image_count < 0 OR video_count IS NULL OR video_count < 0
           OR other_file_count IS NULL OR other_file_count < 0
    ) AS bad_file_counts
FROM read_parquet($path)
GROUP BY ALL;

-- name: repeated_ids
-- Uniqueness of report_id: the ids counted twice, with a hash aggregation of every id (GROUP BY
-- spills to disk under the memory limit; count(DISTINCT) runs out of memory at 512MiB).
SELECT coalesce(sum(n - 1), 0)::BIGINT AS repeated_ids
FROM (
    SELECT count(*) AS n
    FROM read_parquet($path)
    WHERE report_id IS NOT NULL
    GROUP BY report_id
    HAVING count(*) > 1
);
