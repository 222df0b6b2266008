WITH computed AS (
    SELECT 'missing_children_cases_assisted' AS metric_id, 'year' AS period, total AS value
    FROM missing_children_by_case_type WHERE case_type = total_label('missing_children_by_case_type')
    UNION ALL
    SELECT 'cybertipline_reports', 'year', reports
    FROM cybertipline_reports_by_source WHERE reporter_type = total_label('cybertipline_reports_by_source')
    UNION ALL
    SELECT 'cybertipline_public_reports', 'year', s.reports
    FROM cybertipline_reports_by_source AS s
    JOIN seed_reporter_types AS t ON t.label = s.reporter_type AND t.code = 'PUBLIC'
    UNION ALL
    SELECT 'cybertipline_esp_reports', 'year', s.reports
    FROM cybertipline_reports_by_source AS s
    JOIN seed_reporter_types AS t ON t.label = s.reporter_type AND t.code = 'ESP'
    UNION ALL
    SELECT 'cybertipline_files', 'year', files
    FROM cybertipline_files_by_type WHERE file_type = total_label('cybertipline_files_by_type')
    UNION ALL
    SELECT 'cybertipline_' || replace(t.code, '_count', 's'), 'year', f.files
    FROM cybertipline_files_by_type AS f
    JOIN seed_file_types AS t ON t.label = f.file_type
    UNION ALL
    SELECT 'cvip_law_enforcement_requests', 'year', requests
    FROM cvip_requests_by_agency WHERE agency_type = total_label('cvip_requests_by_agency')
    UNION ALL
    SELECT 'cvip_request_images_videos', 'year', images + videos
    FROM cvip_requests_by_agency WHERE agency_type = total_label('cvip_requests_by_agency')
    UNION ALL
    SELECT 'cvip_actively_traded_children', 'cumulative', count(DISTINCT victim_id)
    FROM stg_cvip_offender_relationships
),
last_year AS (
    SELECT metric_id, value FROM previous_year_headline_metrics WHERE period = 'year'
),
figures AS (
    SELECT
        m.sort_order,
        m.metric_id,
        m.period,
        NULL::INTEGER AS since,
        c.value,
        'Computed from the record-level exports (table ' || m.computed_from || ')' AS source,
        m.display_prefix,
        m.display_step,
        m.display_scale
    FROM seed_metric_catalog AS m
    JOIN computed AS c USING (metric_id, period)
    WHERE m.computed_from IS NOT NULL
    UNION ALL
    SELECT
        m.sort_order,
        m.metric_id,
        m.period,
        p.since,
        p.value,
        p.source,
        m.display_prefix,
        m.display_step,
        m.display_scale
    FROM seed_metric_catalog AS m
    JOIN stg_program_metrics AS p USING (metric_id, period)
    WHERE m.computed_from IS NULL
      AND NOT (m.period = 'prior_year' AND m.metric_id IN (SELECT metric_id FROM last_year))
    UNION ALL
    SELECT
        m.sort_order,
        m.metric_id,
        m.period,
        p.since,
        y.value,
        'Published release of ' || (report_year() - 1) AS source,
        m.display_prefix,
        m.display_step,
        m.display_scale
    FROM seed_metric_catalog AS m
    JOIN last_year AS y USING (metric_id)
    LEFT JOIN stg_program_metrics AS p USING (metric_id, period)
    WHERE m.period = 'prior_year'
)
SELECT
    report_year() AS year,
    f.metric_id,
    f.period,
    f.since::INTEGER AS since,
    f.value::BIGINT AS value,
    display_text(f.value, f.display_prefix, f.display_step, f.display_scale) AS display_text,
    f.source,
    CASE WHEN f.period <> 'prior_year' THEN (f.value - p.value)::BIGINT END AS change_from_prior_year,
    f.sort_order::INTEGER AS sort_order
FROM figures AS f
LEFT JOIN previous_year_headline_metrics AS p USING (metric_id, period)
