with per_agency as (
    select
        a.sort_order,
        a.label as agency_type,
        count(r.request_id) as requests,
        coalesce(sum(r.image_count), 0) as images,
        coalesce(sum(r.video_count), 0) as videos
    from {{ ref('agency_types') }} as a
    left join {{ ref('stg_cvip_requests') }} as r on r.agency_type = a.code
    group by a.sort_order, a.label
),
total as (
    select 1000000 as sort_order, 'Grand Total' as agency_type, count(*),
           coalesce(sum(image_count), 0), coalesce(sum(video_count), 0)
    from {{ ref('stg_cvip_requests') }}
)
select
    {{ var('year') }}::integer as year,
    agency_type,
    requests::bigint as requests,
    images::bigint as images,
    videos::bigint as videos
from (select * from per_agency union all select * from total)
order by sort_order
