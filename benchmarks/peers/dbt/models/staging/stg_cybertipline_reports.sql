select
    report_id,
    received_at,
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    image_count,
    video_count,
    other_file_count
from {{ source('raw', 'cybertipline_reports') }}
