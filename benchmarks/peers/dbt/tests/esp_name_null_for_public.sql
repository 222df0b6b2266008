select report_id from {{ ref('stg_cybertipline_reports') }}
where reporter_type = 'PUBLIC' and esp_name is not null
