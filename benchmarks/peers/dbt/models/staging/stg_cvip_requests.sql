select
    request_id,
    cast(received_date as date) as received_date,
    agency_type,
    cast(image_count as bigint) as image_count,
    cast(video_count as bigint) as video_count
from {{ source('raw', 'cvip_requests') }}
