-- column: received_at
-- rule: within {year} (UTC)
-- Read on the ingest's summary first (raw_cybertipline_reports_groups, one row per combination of
-- the code columns, macro code_combination in sql/macros.sql): the export's rows are read again
-- only for a combination that breaks the rule.
-- epoch() of a DATE counts seconds from 1970-01-01 UTC and to_timestamp() returns a TIMESTAMPTZ:
-- the bounds are UTC instants whatever the session time zone.
SELECT report_id
FROM raw_cybertipline_reports
WHERE (received_at < to_timestamp(epoch(make_date(report_year(), 1, 1)))
       OR received_at >= to_timestamp(epoch(make_date(report_year() + 1, 1, 1))))
  AND code_combination(reporter_type, esp_name, incident_type, incident_country) IN (
      SELECT code_combination(reporter_type, esp_name, incident_type, incident_country)
      FROM raw_cybertipline_reports_groups
      WHERE received_at_min < to_timestamp(epoch(make_date(report_year(), 1, 1)))
         OR received_at_max >= to_timestamp(epoch(make_date(report_year() + 1, 1, 1)))
  )
