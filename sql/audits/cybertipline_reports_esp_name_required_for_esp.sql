-- column: esp_name
-- rule: required (non-empty) when reporter_type is ESP
-- Read on the ingest's summary, one row per combination of the code columns (macro
-- code_combination, sql/macros.sql): the rows are read again only if a combination breaks it.
SELECT report_id
FROM raw_cybertipline_reports
WHERE code_combination(reporter_type, esp_name, incident_type, incident_country) IN (
    SELECT code_combination(reporter_type, esp_name, incident_type, incident_country)
    FROM raw_cybertipline_reports_groups
    WHERE reporter_type = 'ESP' AND (esp_name IS NULL OR trim(esp_name) = '')
)
