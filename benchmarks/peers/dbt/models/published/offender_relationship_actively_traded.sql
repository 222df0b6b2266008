with per_relationship as (
    select r.sort_order, r.label as relationship, count(o.victim_id) as known_relationships
    from {{ ref('relationships') }} as r
    left join {{ ref('stg_cvip_offender_relationships') }} as o on o.relationship = r.code
    group by r.sort_order, r.label
),
total as (
    select 1000000 as sort_order, 'Total' as relationship, count(*) as known_relationships
    from {{ ref('stg_cvip_offender_relationships') }}
)
select
    {{ var('year') }}::integer as year,
    relationship,
    known_relationships::bigint as known_relationships,
    {{ percent_of('known_relationships', '(select known_relationships from total)') }} as percent_of_total
from (select * from per_relationship union all select * from total)
order by sort_order
