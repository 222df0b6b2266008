-- The row rules of raw/README.md for cybertipline_reports.parquet, one row each: bit k is rule k in
-- the bit masks of cybertipline_reports_rules_by_row.sql. The check loads this list as the view
-- audit_cybertipline_rules, read by cybertipline_reports_rules.sql and
-- cybertipline_reports_rules_by_row.sql, so both name the rules alike. Needs report_year().
SELECT * FROM (
    VALUES
        (0, 'report_id', 'required'),
        (1, 'received_at', 'required'),
        (2, 'received_at', 'within ' || report_year() || ' (UTC)'),
        (3, 'reporter_type', 'ESP or PUBLIC'),
        (4, 'esp_name', 'required (non-empty) when reporter_type is ESP'),
        (5, 'esp_name', 'null when reporter_type is PUBLIC'),
        (6, 'incident_type', 'one of CSAM, ONLINE_ENTICEMENT, CHILD_SEX_TRAFFICKING, '
            || 'CHILD_SEXUAL_MOLESTATION, MISLEADING_WORDS_OR_IMAGES, '
            || 'UNSOLICITED_OBSCENE_MATERIAL, MISLEADING_DOMAIN_NAME, CHILD_SEX_TOURISM'),
        (7, 'incident_country', 'ISO 3166-1 alpha-2 code, XK, or null'),
        (8, 'image_count', 'required'),
        (9, 'image_count', '>= 0'),
        (10, 'video_count', 'required'),
        (11, 'video_count', '>= 0'),
        (12, 'other_file_count', 'required'),
        (13, 'other_file_count', '>= 0')
) AS rules (bit, "column", rule)
