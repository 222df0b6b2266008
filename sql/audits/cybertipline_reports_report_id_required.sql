-- column: report_id
-- rule: required
-- Read on the ingest's count of missing ids first (raw_cybertipline_reports_id_blocks, the block
-- whose id_block is NULL, sql/audits/cybertipline_reports_ids.sql): the export's rows are read
-- again only when an id is missing.
SELECT report_id
FROM raw_cybertipline_reports
WHERE report_id IS NULL
  AND TRUE IN (SELECT TRUE FROM raw_cybertipline_reports_id_blocks WHERE id_block IS NULL)
