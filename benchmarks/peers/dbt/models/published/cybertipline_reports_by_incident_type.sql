with per_type as (
    select t.sort_order, t.label as incident_type, coalesce(sum(c.reports), 0) as reports
    from {{ ref('incident_types') }} as t
    left join {{ ref('int_cybertipline_report_counts') }} as c on c.incident_type = t.code
    group by t.sort_order, t.label
),
total as (
    select 1000000 as sort_order, 'Total' as incident_type, coalesce(sum(reports), 0) as reports
    from {{ ref('int_cybertipline_report_counts') }}
)
select {{ var('year') }}::integer as year, incident_type, reports::bigint as reports
from (select * from per_type union all select * from total)
order by sort_order
