-- column: reporter_type
-- rule: one of {codes:reporter_types}
SELECT report_id
FROM raw_cybertipline_reports
WHERE reporter_type IS NULL OR reporter_type NOT IN (SELECT code FROM seed_reporter_types)
