-- The missing-children population of the report year (raw/README.md): cases opened in the year, and
-- cases opened in an earlier year and resolved in the year (recoveries). Cases opened earlier and
-- still open at the end of the year, resolved before it, or opened after it do not count.
-- Status is as of December 31: a child reported missing on Dec 31 and found on Jan 2 is Active.
SELECT
    case_number,
    case_type,
    CASE
        WHEN resolved_date <= make_date(report_year(), 12, 31) THEN 'Resolved'
        ELSE 'Active'
    END AS status,
    age_at_missing,
    race,
    missing_state
FROM stg_cases
WHERE year(intake_date) = report_year()
   OR (year(intake_date) < report_year() AND year(resolved_date) = report_year())
