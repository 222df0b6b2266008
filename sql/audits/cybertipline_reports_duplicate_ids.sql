-- The report_ids that occur more than once in raw_cybertipline_reports: the number of rows that
-- carry a repeated id, and the five smallest such ids. A hash aggregate over every id (about
-- 1 GiB for 21.75M ids), so the check runs it only when cybertipline_reports_unique_ids.sql found
-- surplus rows, or when the ids are too sparse for that bitmap.
WITH repeated AS (
    SELECT report_id, count(*) AS occurrences
    FROM raw_cybertipline_reports
    WHERE report_id IS NOT NULL
    GROUP BY report_id
    HAVING count(*) > 1
)
SELECT
    coalesce(sum(occurrences), 0)::BIGINT AS bad_rows,
    coalesce(min(report_id, 5), []::BIGINT[]) AS examples
FROM repeated
