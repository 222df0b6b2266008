-- column: received_at
-- rule: required
SELECT report_id FROM raw_cybertipline_reports WHERE received_at IS NULL
