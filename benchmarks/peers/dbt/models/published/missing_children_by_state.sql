with per_state as (
    select
        s.sort_order,
        s.name as missing_state,
        count(p.case_number) filter (where p.status = 'Active') as active,
        count(p.case_number) filter (where p.status = 'Resolved') as resolved,
        count(p.case_number) as total
    from {{ ref('us_states') }} as s
    left join {{ ref('stg_missing_children') }} as p on p.missing_state = s.code
    group by s.sort_order, s.name
),
grand_total as (
    select 1000000 as sort_order, 'Total' as missing_state,
           count(*) filter (where status = 'Active'), count(*) filter (where status = 'Resolved'), count(*)
    from {{ ref('stg_missing_children') }}
)
select
    {{ var('year') }}::integer as year,
    missing_state,
    active::bigint as active,
    resolved::bigint as resolved,
    total::bigint as total
from (select * from per_state union all select * from grand_total)
order by sort_order
