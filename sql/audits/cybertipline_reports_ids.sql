-- The ingest's scan of cybertipline_reports.parquet, part 2 of 2 (pipelines/accepting/ingest.py):
-- the report_id column, decoded once, counted exactly for repeats and missing ids.
--
-- The ids are cut into blocks by their high bits (report_id >> $id_block_bits); in each block a
-- bitmap of the low bits (bitstring_agg) counts the distinct ids. An id repeats exactly when a
-- block holds more ids than distinct ids: the count is exact, not an estimate, for any integer
-- ids. When the footer's statistics put the ids within 2^29, ingest computes these same rows with
-- blocks of 2^16 ids in numpy instead (count_report_ids: the bitmap set in sorted order, a third
-- of DuckDB's CPU, while DuckDB reads the other columns; a test holds the two to the same rows).
-- Otherwise (ids spread wider, no statistics) DuckDB runs this with $id_block_bits = 0: each
-- block is one id, a hash aggregation of every id, exact and slower.
--
-- Kept in raw_cybertipline_reports_id_blocks: only the blocks holding a repeated id, and the
-- block of the missing ids (id_block NULL) when there are any; the audits
-- cybertipline_reports_report_id_unique.sql and ..._report_id_required.sql read it first.
SELECT
    getvariable('id_block_bits') AS id_block_bits,
    report_id >> getvariable('id_block_bits') AS id_block,
    count(*) AS rows,
    count(report_id) AS ids,
    bit_count(bitstring_agg(
        report_id & ((1 << getvariable('id_block_bits')) - 1), 0, (1 << getvariable('id_block_bits')) - 1
    )) AS distinct_ids
FROM raw_cybertipline_reports
GROUP BY ALL
HAVING id_block IS NULL OR count(report_id) > distinct_ids
