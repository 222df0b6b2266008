-- The ingest's scan of cybertipline_reports.parquet, part 2 of 2 (pipelines/validation/ingest.py): the
-- report_id column, decoded once, counted exactly for repeats without a hash table of every id.
--
-- The ids are cut into blocks by their high bits (report_id >> $id_block_bits); in each block a
-- bitmap of the low bits (bitstring_agg) counts the distinct ids. An id repeats exactly when a
-- block holds more ids than distinct ids: the count is exact, not an estimate, for any integer
-- ids. The blocks cover the ids' range (from the Parquet statistics) with a bitmap of one bit per
-- possible id, a few tens of MiB for hundreds of millions of ids. When the ids are spread wider
-- (or the file has no statistics), ingest sets $id_block_bits to 0: each block is one id, i.e. a
-- hash aggregation of every id, exact and slower.
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
