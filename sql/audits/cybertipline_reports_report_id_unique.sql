-- column: report_id
-- rule: unique
-- Every row whose report_id occurs more than once.
SELECT report_id
FROM raw_cybertipline_reports
WHERE report_id IN (
    SELECT report_id FROM raw_cybertipline_reports
    WHERE report_id IS NOT NULL
    GROUP BY report_id
    HAVING count(*) > 1
)
