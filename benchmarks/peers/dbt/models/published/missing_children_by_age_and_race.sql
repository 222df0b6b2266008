with grouped as (
    select g.sort_order, p.race, p.case_number
    from {{ ref('stg_missing_children') }} as p
    join {{ ref('age_groups') }} as g
      on (p.age_at_missing is null and g.min_age is null)
      or (p.age_at_missing between g.min_age and g.max_age)
),
per_group as (
    select
        g.sort_order,
        g.label as age_group,
        {%- for race in ['AI', 'AS', 'MR', 'BL', 'HI', 'PI', 'WH', 'U'] %}
        count(x.case_number) filter (where x.race = '{{ race }}') as r_{{ race }},
        {%- endfor %}
        count(x.case_number) as total
    from {{ ref('age_groups') }} as g
    left join grouped as x on x.sort_order = g.sort_order
    group by g.sort_order, g.label
),
grand_total as (
    select
        1000000 as sort_order,
        'Total' as age_group,
        {%- for race in ['AI', 'AS', 'MR', 'BL', 'HI', 'PI', 'WH', 'U'] %}
        count(*) filter (where race = '{{ race }}'),
        {%- endfor %}
        count(*)
    from {{ ref('stg_missing_children') }}
)
select
    {{ var('year') }}::integer as year,
    age_group,
    r_AI::bigint as native_american,
    r_AS::bigint as asian,
    r_MR::bigint as multiracial,
    r_BL::bigint as black,
    r_HI::bigint as hispanic,
    r_PI::bigint as pacific_islander,
    r_WH::bigint as white,
    r_U::bigint as unknown,
    total::bigint as total
from (select * from per_group union all select * from grand_total)
order by sort_order
