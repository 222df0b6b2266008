select
    metric_id,
    period,
    cast(value as bigint) as value,
    cast(since as integer) as since,
    source
from {{ source('raw', 'program_metrics') }}
