-- column: esp_name
-- rule: null when reporter_type is PUBLIC
SELECT report_id FROM raw_cybertipline_reports WHERE reporter_type = 'PUBLIC' AND esp_name IS NOT NULL
