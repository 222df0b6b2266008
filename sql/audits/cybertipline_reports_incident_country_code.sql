-- column: incident_country
-- rule: ISO 3166-1 alpha-2 code, XK, or null
SELECT report_id
FROM raw_cybertipline_reports
WHERE incident_country IS NOT NULL AND incident_country NOT IN (SELECT code FROM seed_countries)
