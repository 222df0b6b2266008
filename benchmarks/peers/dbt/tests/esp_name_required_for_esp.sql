select report_id from {{ ref('stg_cybertipline_reports') }}
where reporter_type = 'ESP' and (esp_name is null or trim(esp_name) = '')
