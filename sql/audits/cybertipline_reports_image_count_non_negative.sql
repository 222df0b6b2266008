-- column: image_count
-- rule: >= 0
SELECT report_id FROM raw_cybertipline_reports WHERE image_count < 0
