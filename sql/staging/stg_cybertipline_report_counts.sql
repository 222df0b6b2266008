-- The CyberTipline export reduced to counts: reports and files per reporter type, ESP, incident
-- type and country. Every published CyberTipline table reads this small table, never the
-- 20-million-row export. The counts come from the ingest's one scan of the export
-- (raw_cybertipline_reports_groups, sql/audits/cybertipline_reports_scan.sql), which the blocking
-- export_contract check has validated before this model runs.
SELECT
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    reports,
    images,
    videos,
    other_files
FROM raw_cybertipline_reports_groups
