-- The CyberTipline export reduced to counts in one scan: reports and files per reporter type,
-- ESP, incident type and country. Every published CyberTipline table reads this small table,
-- never the 20-million-row export again.
-- depends_on: raw_cybertipline_reports
SELECT
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    count(*) AS reports,
    sum(image_count)::BIGINT AS images,
    sum(video_count)::BIGINT AS videos,
    sum(other_file_count)::BIGINT AS other_files
FROM raw_cybertipline_reports
GROUP BY ALL
