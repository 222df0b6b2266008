-- column: report_id
-- rule: required
SELECT report_id FROM raw_cybertipline_reports WHERE report_id IS NULL
