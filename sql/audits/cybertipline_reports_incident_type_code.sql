-- column: incident_type
-- rule: one of {codes:incident_types}
SELECT report_id
FROM raw_cybertipline_reports
WHERE incident_type IS NULL OR incident_type NOT IN (SELECT code FROM seed_incident_types)
