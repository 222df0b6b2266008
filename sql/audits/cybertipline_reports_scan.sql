-- The one full scan of cybertipline_reports.parquet at ingest (21.75M rows for 2020): the export
-- reduced to one row per (reporter_type, esp_name, incident_type, incident_country), a few
-- thousand rows, in the table raw_cybertipline_reports_groups (pipelines/validation/ingest.py).
--
-- It decodes every column (report_id and received_at only for their minimum), so a damaged page
-- fails here, at ingest. Its total of reports is the rows scanned, which ingest compares with the
-- Parquet footer's row count. The staging model stg_cybertipline_report_counts reads its counts and file sums, after
-- the blocking export_contract check has run every rule (cybertipline_reports_<rule>.sql).
SELECT
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    count(*) AS reports,
    sum(image_count)::BIGINT AS images,
    sum(video_count)::BIGINT AS videos,
    sum(other_file_count)::BIGINT AS other_files,
    min(report_id) AS report_id_min,
    min(received_at) AS received_at_min
FROM raw_cybertipline_reports
GROUP BY ALL
