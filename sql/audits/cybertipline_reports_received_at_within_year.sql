-- column: received_at
-- rule: within {year} (UTC)
-- epoch() of a DATE counts seconds from 1970-01-01 UTC and to_timestamp() returns a TIMESTAMPTZ:
-- the bounds are UTC instants whatever the session time zone.
SELECT report_id
FROM raw_cybertipline_reports
WHERE received_at < to_timestamp(epoch(make_date(report_year(), 1, 1)))
   OR received_at >= to_timestamp(epoch(make_date(report_year() + 1, 1, 1)))
