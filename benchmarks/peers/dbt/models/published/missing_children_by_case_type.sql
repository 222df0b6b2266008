with per_type as (
    select
        t.sort_order,
        t.label as case_type,
        count(p.case_number) filter (where p.status = 'Active') as active,
        count(p.case_number) filter (where p.status = 'Resolved') as resolved,
        count(p.case_number) as total
    from {{ ref('case_types') }} as t
    left join {{ ref('stg_missing_children') }} as p on p.case_type = t.code
    group by t.sort_order, t.label
),
grand_total as (
    select 1000000 as sort_order, 'Total' as case_type,
           count(*) filter (where status = 'Active'), count(*) filter (where status = 'Resolved'), count(*)
    from {{ ref('stg_missing_children') }}
)
select
    {{ var('year') }}::integer as year,
    case_type,
    active::bigint as active,
    resolved::bigint as resolved,
    total::bigint as total
from (select * from per_type union all select * from grand_total)
order by sort_order
