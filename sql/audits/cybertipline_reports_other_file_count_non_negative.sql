-- column: other_file_count
-- rule: >= 0
SELECT report_id FROM raw_cybertipline_reports WHERE other_file_count < 0
