-- Cases opened in the year, and cases opened earlier and resolved in the year; Resolved when
-- resolved by December 31.
select
    case_number,
    case_type,
    case when resolved_date <= make_date({{ var('year') }}, 12, 31) then 'Resolved' else 'Active' end as status,
    age_at_missing,
    race,
    missing_state
from {{ ref('stg_cases') }}
where year(intake_date) = {{ var('year') }}
   or (year(intake_date) < {{ var('year') }} and year(resolved_date) = {{ var('year') }})
