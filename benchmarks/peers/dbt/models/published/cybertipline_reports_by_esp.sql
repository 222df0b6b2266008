with per_esp as (
    select esp_name, sum(reports) as reports
    from {{ ref('int_cybertipline_report_counts') }}
    where reporter_type = 'ESP'
    group by esp_name
),
ranked as (
    select row_number() over (order by reports desc, esp_name) as sort_order, esp_name, reports
    from per_esp
),
total as (
    select 1000000000 as sort_order, 'Total' as esp_name, coalesce(sum(reports), 0) as reports
    from per_esp
)
select {{ var('year') }}::integer as year, esp_name, reports::bigint as reports
from (select * from ranked union all select * from total)
order by sort_order
