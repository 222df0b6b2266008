-- The metric catalog in file order (the seed has no sort_order column).
select *, row_number() over () as sort_order
from {{ ref('metric_catalog') }}
