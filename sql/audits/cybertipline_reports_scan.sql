-- The ingest's scan of cybertipline_reports.parquet, part 1 of 2 (pipelines/accepting/ingest.py): every
-- column but report_id, each decoded once, reduced to one row per (reporter_type, esp_name,
-- incident_type, incident_country), a few thousand rows, in the table
-- raw_cybertipline_reports_groups. report_id is decoded once too, by part 2
-- (cybertipline_reports_ids.sql, or its numpy twin on another thread): the two read disjoint
-- columns, so the export's bytes are read once.
--
-- Its total of reports is the rows scanned, which ingest compares with the Parquet footer's row
-- count. Besides the counts and file sums that the staging model stg_cybertipline_report_counts
-- reads, each group carries what the row rules need (non-null counts, minima, the range of
-- received_at): every audit cybertipline_reports_<rule>.sql reads these first and reads the
-- export's rows again only for a group that breaks its rule, to count them and name examples.
SELECT
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    count(*) AS reports,
    sum(image_count)::BIGINT AS images,
    sum(video_count)::BIGINT AS videos,
    sum(other_file_count)::BIGINT AS other_files,
    count(received_at) AS received_ats,
    min(received_at) AS received_at_min,
    max(received_at) AS received_at_max,
    count(image_count) AS image_counts,
    count(video_count) AS video_counts,
    count(other_file_count) AS other_file_counts,
    min(image_count) AS image_count_min,
    min(video_count) AS video_count_min,
    min(other_file_count) AS other_file_count_min
FROM raw_cybertipline_reports
GROUP BY ALL
