with per_country as (
    select k.sort_order, k.code as country_code, k.name as country, sum(c.reports) as reports
    from {{ ref('int_cybertipline_report_counts') }} as c
    join {{ ref('countries') }} as k on k.code = c.incident_country
    group by all
),
no_country as (
    select 999999 as sort_order, null as country_code, 'No Country Listed' as country, coalesce(sum(reports), 0) as reports
    from {{ ref('int_cybertipline_report_counts') }}
    where incident_country is null
),
total as (
    select 1000000 as sort_order, null as country_code, 'Total' as country, coalesce(sum(reports), 0) as reports
    from {{ ref('int_cybertipline_report_counts') }}
)
select {{ var('year') }}::integer as year, country_code::varchar as country_code, country, reports::bigint as reports
from (select * from per_country union all select * from no_country union all select * from total)
order by sort_order
