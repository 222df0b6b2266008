with sums as (
    select
        coalesce(sum(images), 0) as image_count,
        coalesce(sum(videos), 0) as video_count,
        coalesce(sum(other_files), 0) as other_file_count
    from {{ ref('int_cybertipline_report_counts') }}
),
per_type as (
    select t.sort_order, t.label as file_type, f.files
    from {{ ref('file_types') }} as t
    join (unpivot sums on image_count, video_count, other_file_count into name code value files) as f
      on f.code = t.code
),
total as (
    select 1000000 as sort_order, 'Total' as file_type, image_count + video_count + other_file_count as files
    from sums
)
select {{ var('year') }}::integer as year, file_type, files::bigint as files
from (select * from per_type union all select * from total)
order by sort_order
