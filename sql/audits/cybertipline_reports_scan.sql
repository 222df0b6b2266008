-- The one full scan of cybertipline_reports.parquet (21.75M rows for 2020): the export reduced to
-- one row per (reporter_type, esp_name, incident_type, incident_country), a few thousand rows.
--
-- Run at ingest (pipelines/ingest.py) into the table raw_cybertipline_reports_groups, part of the
-- raw_cybertipline_reports asset. Read by
--   * its blocking export_contract check (cybertipline_reports_rules.sql): the code rules on the
--     group keys, and the row rules from the counts, minimums and maximums below, exactly: a
--     column is required on every row when its count equals the rows', a count is >= 0 on every
--     row when its minimum is, received_at is within the year on every row when its minimum and
--     maximum are;
--   * the staging model stg_cybertipline_report_counts (its counts and file sums), built only
--     after that check passed.
-- No other step reads the whole export again: the check also reads the report_id column
-- (uniqueness), and every column only when a rule is broken, to count and name the bad rows.
SELECT
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    count(*) AS reports,
    sum(image_count)::BIGINT AS images,
    sum(video_count)::BIGINT AS videos,
    sum(other_file_count)::BIGINT AS other_files,
    count(report_id) AS report_ids,
    min(report_id) AS report_id_min,
    max(report_id) AS report_id_max,
    count(received_at) AS received_ats,
    min(received_at) AS received_at_min,
    max(received_at) AS received_at_max,
    count(image_count) AS image_counts,
    min(image_count) AS image_count_min,
    count(video_count) AS video_counts,
    min(video_count) AS video_count_min,
    count(other_file_count) AS other_file_counts,
    min(other_file_count) AS other_file_count_min
FROM raw_cybertipline_reports
GROUP BY ALL
