-- The floor of `impact bench` (issue 5): what a bare DuckDB script costs to compute the
-- CyberTipline aggregates and to check the row rules of raw/README.md straight from the Parquet export.
-- `impact run` is compared with it. It is not part of the pipeline.
--
-- Run by pipelines/bench.py (the "floor" worker), one statement per "-- name:" section, in order,
-- on an in-memory DuckDB connection with DuckDB's defaults (all cores, 80% of RAM).
-- Parameters: $path (the Parquet file), $year_start and $next_year_start (TIMESTAMPTZ, the year
-- in UTC), $country_codes (VARCHAR[]: the ISO 3166-1 alpha-2 codes of pycountry, plus XK).
--
-- One scan of every column reduces the export to counts per (reporter_type, esp_name,
-- incident_type, incident_country), carrying the per-row rules (dates, counts) as filtered counts;
-- the published aggregates and the code rules are then read from that small table. The
-- uniqueness of report_id needs a second scan of that one column: `unique_ids` is what a user
-- would write (a hash of every id: about 1 GiB at 21.75M ids), `unique_ids_bitmap` the tight
-- variant that the pipeline's audit uses (one bit per id between min and max). The benchmark's
-- "floor" runs `unique_ids`, its "floor, tight" runs `unique_ids_bitmap`.

-- name: counts
CREATE TEMP TABLE counts AS
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
    count(*) FILTER (WHERE image_count IS NULL OR image_count < 0) AS bad_image_count,
    count(*) FILTER (WHERE video_count IS NULL OR video_count < 0) AS bad_video_count,
    count(*) FILTER (WHERE other_file_count IS NULL OR other_file_count < 0) AS bad_other_file_count
FROM read_parquet($path)
GROUP BY ALL;

-- name: by_source
SELECT reporter_type, sum(reports)::BIGINT AS reports
FROM counts
GROUP BY reporter_type
ORDER BY reporter_type;

-- name: by_incident_type
SELECT incident_type, sum(reports)::BIGINT AS reports
FROM counts
GROUP BY incident_type
ORDER BY incident_type;

-- name: by_esp
SELECT esp_name, sum(reports)::BIGINT AS reports
FROM counts
WHERE reporter_type = 'ESP'
GROUP BY esp_name
ORDER BY reports DESC, esp_name;

-- name: by_country
SELECT incident_country, sum(reports)::BIGINT AS reports
FROM counts
GROUP BY incident_country
ORDER BY incident_country NULLS LAST;

-- name: files
SELECT
    sum(images)::BIGINT AS images,
    sum(videos)::BIGINT AS videos,
    sum(other_files)::BIGINT AS other_files
FROM counts;

-- name: rules
SELECT
    coalesce(sum(reports), 0)::BIGINT AS row_count,
    coalesce(sum(reports) - sum(ids), 0)::BIGINT AS report_id_null,
    coalesce(sum(bad_received_at), 0)::BIGINT AS received_at_within_year,
    coalesce(sum(reports) FILTER (
        WHERE reporter_type IS NULL OR reporter_type NOT IN ('ESP', 'PUBLIC')
    ), 0)::BIGINT AS reporter_type_in_set,
    coalesce(sum(reports) FILTER (
        WHERE reporter_type = 'ESP' AND (esp_name IS NULL OR trim(esp_name) = '')
    ), 0)::BIGINT AS esp_name_required_when_esp,
    coalesce(sum(reports) FILTER (
        WHERE reporter_type = 'PUBLIC' AND esp_name IS NOT NULL
    ), 0)::BIGINT AS esp_name_null_when_public,
    coalesce(sum(reports) FILTER (
        WHERE incident_type IS NULL OR incident_type NOT IN (
            'CSAM', 'ONLINE_ENTICEMENT', 'CHILD_SEX_TRAFFICKING', 'CHILD_SEXUAL_MOLESTATION',
            'MISLEADING_WORDS_OR_IMAGES', 'UNSOLICITED_OBSCENE_MATERIAL',
            'MISLEADING_DOMAIN_NAME', 'CHILD_SEX_TOURISM'
        )
    ), 0)::BIGINT AS incident_type_in_set,
    coalesce(sum(reports) FILTER (
        WHERE incident_country IS NOT NULL AND NOT list_contains($country_codes, incident_country)
    ), 0)::BIGINT AS incident_country_in_set,
    coalesce(sum(bad_image_count), 0)::BIGINT AS image_count_non_negative,
    coalesce(sum(bad_video_count), 0)::BIGINT AS video_count_non_negative,
    coalesce(sum(bad_other_file_count), 0)::BIGINT AS other_file_count_non_negative
FROM counts;

-- name: unique_ids
SELECT (count(report_id) - count(DISTINCT report_id))::BIGINT AS report_id_duplicate_rows
FROM read_parquet($path);

-- name: unique_ids_bitmap
SELECT (count(report_id) - coalesce(bit_count(bitstring_agg(report_id)), 0))::BIGINT
    AS report_id_duplicate_rows
FROM read_parquet($path);
