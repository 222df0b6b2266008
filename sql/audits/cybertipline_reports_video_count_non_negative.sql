-- column: video_count
-- rule: >= 0
-- Read on the ingest's summary first (raw_cybertipline_reports_groups, one row per combination of
-- the code columns, macro code_combination in sql/macros.sql): the export's rows are read again
-- only for a combination that breaks the rule.
SELECT report_id
FROM raw_cybertipline_reports
WHERE video_count < 0
  AND code_combination(reporter_type, esp_name, incident_type, incident_country) IN (
      SELECT code_combination(reporter_type, esp_name, incident_type, incident_country)
      FROM raw_cybertipline_reports_groups
      WHERE video_count_min < 0
  )
