-- column: report_id
-- rule: unique
-- Every row whose report_id occurs more than once. Read on the ingest's count of repeated ids
-- first (raw_cybertipline_reports_id_blocks, sql/audits/cybertipline_reports_ids.sql): only the
-- ids of a block holding a repeat are read again and grouped, and none when no id repeats.
SELECT report_id
FROM raw_cybertipline_reports
WHERE report_id IN (
    SELECT report_id
    FROM raw_cybertipline_reports
    WHERE report_id >> (SELECT any_value(id_block_bits) FROM raw_cybertipline_reports_id_blocks) IN (
        SELECT id_block FROM raw_cybertipline_reports_id_blocks WHERE ids > distinct_ids
    )
    GROUP BY report_id
    HAVING count(*) > 1
)
