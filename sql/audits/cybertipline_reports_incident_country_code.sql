-- column: incident_country
-- rule: ISO 3166-1 alpha-2 code, XK, or null
-- Read on the ingest's summary, one row per combination of the code columns (macro
-- code_combination, sql/macros.sql): the rows are read again only if a combination breaks it.
SELECT report_id
FROM raw_cybertipline_reports
WHERE code_combination(reporter_type, esp_name, incident_type, incident_country) IN (
    SELECT code_combination(reporter_type, esp_name, incident_type, incident_country)
    FROM raw_cybertipline_reports_groups
    WHERE incident_country IS NOT NULL AND incident_country NOT IN (SELECT code FROM seed_countries)
)
