-- The headline figures in catalog order: those computed from the published tables, and those
-- kept in other systems (program_metrics.csv). A single year: no previous release, so prior-year
-- figures come from program_metrics.csv and there is no change from last year.
with computed as (
    select 'missing_children_cases_assisted' as metric_id, 'year' as period, total as value
    from {{ ref('missing_children_by_case_type') }} where case_type = 'Total'
    union all
    select 'cybertipline_reports', 'year', reports
    from {{ ref('cybertipline_reports_by_source') }} where reporter_type = 'Total'
    union all
    select 'cybertipline_public_reports', 'year', s.reports
    from {{ ref('cybertipline_reports_by_source') }} as s
    join {{ ref('reporter_types') }} as t on t.label = s.reporter_type and t.code = 'PUBLIC'
    union all
    select 'cybertipline_esp_reports', 'year', s.reports
    from {{ ref('cybertipline_reports_by_source') }} as s
    join {{ ref('reporter_types') }} as t on t.label = s.reporter_type and t.code = 'ESP'
    union all
    select 'cybertipline_files', 'year', files
    from {{ ref('cybertipline_files_by_type') }} where file_type = 'Total'
    union all
    select 'cybertipline_' || replace(t.code, '_count', 's'), 'year', f.files
    from {{ ref('cybertipline_files_by_type') }} as f
    join {{ ref('file_types') }} as t on t.label = f.file_type
    union all
    select 'cvip_law_enforcement_requests', 'year', requests
    from {{ ref('cvip_requests_by_agency') }} where agency_type = 'Grand Total'
    union all
    select 'cvip_request_images_videos', 'year', images + videos
    from {{ ref('cvip_requests_by_agency') }} where agency_type = 'Grand Total'
    union all
    select 'cvip_actively_traded_children', 'cumulative', count(distinct victim_id)
    from {{ ref('stg_cvip_offender_relationships') }}
),
figures as (
    select
        m.sort_order, m.metric_id, m.period, null::integer as since, c.value,
        'Computed from the record-level exports (table ' || m.computed_from || ')' as source,
        m.display_prefix, m.display_step, m.display_scale
    from {{ ref('metric_catalog_ordered') }} as m
    join computed as c using (metric_id, period)
    where m.computed_from is not null
    union all
    select
        m.sort_order, m.metric_id, m.period, p.since, p.value, p.source,
        m.display_prefix, m.display_step, m.display_scale
    from {{ ref('metric_catalog_ordered') }} as m
    join {{ ref('stg_program_metrics') }} as p using (metric_id, period)
    where m.computed_from is null
)
select
    {{ var('year') }}::integer as year,
    metric_id,
    period,
    since::integer as since,
    value::bigint as value,
    {{ display_text('value', 'display_prefix', 'display_step', 'display_scale') }} as display_text,
    source,
    null::bigint as change_from_prior_year
from figures
order by sort_order
