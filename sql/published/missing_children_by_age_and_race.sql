WITH grouped AS (
    SELECT
        g.sort_order,
        g.label AS age_group,
        p.race,
        p.case_number
    FROM stg_missing_children AS p
    JOIN seed_age_groups AS g
      ON (p.age_at_missing IS NULL AND g.min_age IS NULL)
      OR (p.age_at_missing BETWEEN g.min_age AND g.max_age)
),
per_group AS (
    SELECT
        g.sort_order,
        g.label AS age_group,
        count(x.case_number) FILTER (WHERE x.race = 'AI') AS native_american,
        count(x.case_number) FILTER (WHERE x.race = 'AS') AS asian,
        count(x.case_number) FILTER (WHERE x.race = 'MR') AS multiracial,
        count(x.case_number) FILTER (WHERE x.race = 'BL') AS black,
        count(x.case_number) FILTER (WHERE x.race = 'HI') AS hispanic,
        count(x.case_number) FILTER (WHERE x.race = 'PI') AS pacific_islander,
        count(x.case_number) FILTER (WHERE x.race = 'WH') AS white,
        count(x.case_number) FILTER (WHERE x.race = 'U') AS unknown,
        count(x.case_number) AS total
    FROM seed_age_groups AS g
    LEFT JOIN grouped AS x ON x.sort_order = g.sort_order
    GROUP BY g.sort_order, g.label
),
grand_total AS (
    SELECT
        total_position() AS sort_order,
        total_label('missing_children_by_age_and_race') AS age_group,
        count(*) FILTER (WHERE race = 'AI'),
        count(*) FILTER (WHERE race = 'AS'),
        count(*) FILTER (WHERE race = 'MR'),
        count(*) FILTER (WHERE race = 'BL'),
        count(*) FILTER (WHERE race = 'HI'),
        count(*) FILTER (WHERE race = 'PI'),
        count(*) FILTER (WHERE race = 'WH'),
        count(*) FILTER (WHERE race = 'U'),
        count(*)
    FROM stg_missing_children
)
SELECT
    report_year() AS year,
    age_group,
    native_american::BIGINT AS native_american,
    asian::BIGINT AS asian,
    multiracial::BIGINT AS multiracial,
    black::BIGINT AS black,
    hispanic::BIGINT AS hispanic,
    pacific_islander::BIGINT AS pacific_islander,
    white::BIGINT AS white,
    unknown::BIGINT AS unknown,
    total::BIGINT AS total,
    sort_order::INTEGER AS sort_order
FROM (SELECT * FROM per_group UNION ALL SELECT * FROM grand_total)
