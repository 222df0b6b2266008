-- Every law-enforcement request to the Child Victim Identification Program, typed (raw/README.md).
SELECT
    source_row,
    request_id,
    CAST(received_date AS DATE) AS received_date,
    agency_type,
    CAST(image_count AS BIGINT) AS image_count,
    CAST(video_count AS BIGINT) AS video_count
FROM raw_cvip_requests
