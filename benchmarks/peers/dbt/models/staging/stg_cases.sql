select
    case_number,
    cast(intake_date as date) as intake_date,
    cast(resolved_date as date) as resolved_date,
    case_type,
    cast(age_at_missing as integer) as age_at_missing,
    coalesce(race, 'U') as race,
    missing_state
from {{ source('raw', 'cases') }}
