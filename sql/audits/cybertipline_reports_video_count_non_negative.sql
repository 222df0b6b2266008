-- column: video_count
-- rule: >= 0
SELECT report_id FROM raw_cybertipline_reports WHERE video_count < 0
