-- column: other_file_count
-- rule: required
SELECT report_id FROM raw_cybertipline_reports WHERE other_file_count IS NULL
