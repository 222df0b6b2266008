-- Known offender relationships of children in actively traded imagery (raw/README.md).
SELECT
    source_row,
    victim_id,
    relationship
FROM raw_cvip_offender_relationships
