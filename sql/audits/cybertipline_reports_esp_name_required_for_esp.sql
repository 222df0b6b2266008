-- column: esp_name
-- rule: required (non-empty) when reporter_type is ESP
SELECT report_id
FROM raw_cybertipline_reports
WHERE reporter_type = 'ESP' AND (esp_name IS NULL OR trim(esp_name) = '')
