-- Macros shared by the SQL models, stored in each year's database when the warehouse resource
-- opens it (pipelines/defs/resources.py), with report_year(): the year of that database.

-- Display text of a headline figure (sql/seeds/metric_catalog.csv): the value is truncated (never
-- rounded) down to a multiple of `step`; with scale 'million' it is shown in millions with as many
-- decimals as the step allows (step 100000 -> one decimal: 65,465,314 -> "65.4 million").
-- A prefix such as "more than" or "over" is kept only while it is true, i.e. when truncation
-- removed something; an exact multiple is shown without it. A value below one step is shown
-- exactly: "more than 0 million" says nothing.
CREATE OR REPLACE MACRO display_number(value, step, scale) AS
    CASE
        WHEN scale = 'million' THEN
            format('{:,}', (value // step * step) // 1000000)
            || CASE
                   WHEN step < 1000000 THEN
                       '.' || lpad((((value // step * step) % 1000000) // step)::VARCHAR,
                                   (6 - round(log10(step)))::INTEGER, '0')
                   ELSE ''
               END
            || ' million'
        ELSE format('{:,}', value // step * step)
    END;

CREATE OR REPLACE MACRO display_text(value, prefix, step, scale) AS
    CASE
        WHEN value < step THEN format('{:,}', value)
        WHEN coalesce(prefix, '') <> '' AND value > value // step * step
            THEN prefix || ' ' || display_number(value, step, scale)
        ELSE display_number(value, step, scale)
    END;

-- Share of a part in a whole in percent, rounded half away from zero to two decimals, computed
-- in integers so no binary floating point can tip a half (docs/published-tables.md).
CREATE OR REPLACE MACRO percent_of(part, whole) AS
    CASE
        WHEN whole = 0 THEN NULL
        ELSE ((part::HUGEINT * 20000 + whole) // (2 * whole::HUGEINT))::DECIMAL(18, 0) / 100
    END::DECIMAL(5, 2);

-- The four code columns of a CyberTipline report as one value, for the audits of the rules on
-- them (sql/audits/cybertipline_reports_*): a rule is read on the ingest's summary, one row per
-- combination (raw_cybertipline_reports_groups), and the export's rows are read again only for a
-- combination that breaks it. Struct equality matches NULL fields, as the grouping did.
CREATE OR REPLACE MACRO code_combination(reporter_type, esp_name, incident_type, incident_country) AS
    {'reporter_type': reporter_type, 'esp_name': esp_name, 'incident_type': incident_type,
     'incident_country': incident_country};

-- The published position (sort_order) of a table's total row: after every category row. The
-- label of that row is the table spec's (total_label('<table>'), defined from the specs in
-- pipelines/tables/__init__.py), as is no_country_label(), the row of the CyberTipline reports
-- without a country, which comes just before the total.
CREATE OR REPLACE MACRO total_position() AS 2147483647;
CREATE OR REPLACE MACRO no_country_position() AS total_position() - 1;
