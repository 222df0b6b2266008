-- Every row of cases.csv with its contract types (raw/README.md). CAST fails the run on a value that
-- is not a date or an integer instead of turning it into NULL; empty race means Unknown (U).
SELECT
    source_row,
    case_number,
    CAST(intake_date AS DATE) AS intake_date,
    CAST(resolved_date AS DATE) AS resolved_date,
    case_type,
    CAST(age_at_missing AS INTEGER) AS age_at_missing,
    coalesce(race, 'U') AS race,
    missing_state
FROM raw_cases
