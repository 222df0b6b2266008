-- Uniqueness of report_id in raw_cybertipline_reports without hashing 21.75M ids: one bit per
-- possible id between $id_min and $id_max (2.7 MB for 2020's dense ids), set for each id seen;
-- the ids that set no new bit are the surplus rows of repeated ids.
-- The check runs this only when the id range is small enough (dense ids); otherwise, and whenever
-- surplus rows are found, cybertipline_reports_duplicate_ids.sql names the repeated ids.
SELECT count(report_id) - coalesce(bit_count(bitstring_agg(report_id, $id_min, $id_max)), 0)
    AS surplus_rows
FROM raw_cybertipline_reports
