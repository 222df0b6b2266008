-- column: video_count
-- rule: required
SELECT report_id FROM raw_cybertipline_reports WHERE video_count IS NULL
