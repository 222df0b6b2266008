-- The export reduced to one row per reporter type, ESP, incident type and country: every
-- published CyberTipline table reads this.
{{ config(materialized='table') }}
select
    reporter_type,
    esp_name,
    incident_type,
    incident_country,
    count(*) as reports,
    sum(image_count)::bigint as images,
    sum(video_count)::bigint as videos,
    sum(other_file_count)::bigint as other_files
from {{ ref('stg_cybertipline_reports') }}
group by all
