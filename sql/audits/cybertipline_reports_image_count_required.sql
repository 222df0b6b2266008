-- column: image_count
-- rule: required
SELECT report_id FROM raw_cybertipline_reports WHERE image_count IS NULL
