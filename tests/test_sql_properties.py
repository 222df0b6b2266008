"""Property test: for random small exports, every published table equals an independent polars
computation of raw/README.md and docs/published-tables.md (population, status, age groups, totals, orders, percents)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.resources import Warehouse
from pipelines.seeds import countries, us_states
from tests.exports import YearExports, case, report
from tests.harness import build_tables

YEAR = 2020
SEEDS = Path(__file__).resolve().parents[1] / "sql" / "seeds"


def seed(name: str) -> pl.DataFrame:
    return pl.read_csv(SEEDS / f"{name}.csv", infer_schema=False)


CASE_TYPES = seed("case_types")
RACES = seed("races")
AGE_GROUPS = seed("age_groups")
INCIDENTS = seed("incident_types")
AGENCIES = seed("agency_types")
RELATIONSHIPS = seed("relationships")
STATE_CODES = ["TX", "CA", "NY", "DC", "PR", "INTL", "WY"]
ESP_NAMES = ["Alpha", "beta", "Acme Chat, Inc.", 'The "Hub"', "Zeta"]
COUNTRY_CODES = [None, "US", "IN", "XK", "AX", "CI"]

# Year boundaries are where the population and status rules can go wrong: draw them often.
BOUNDARIES = [date(2019, 12, 31), date(2020, 1, 1), date(2020, 12, 31), date(2021, 1, 1)]
dates = st.one_of(
    st.sampled_from(BOUNDARIES), st.dates(min_value=date(2018, 6, 1), max_value=date(2021, 6, 30))
)
cases_strategy = st.lists(
    st.tuples(
        dates,
        st.one_of(st.none(), st.sampled_from([0, 1]), st.integers(0, 500)),
        st.sampled_from(CASE_TYPES["code"].to_list()),
        st.one_of(st.none(), st.integers(0, 20)),
        st.sampled_from([*RACES["code"].to_list(), ""]),
        st.sampled_from(STATE_CODES),
    ),
    max_size=40,
)
reports_strategy = st.lists(
    st.tuples(
        st.sampled_from(["ESP", "PUBLIC"]),
        st.sampled_from(ESP_NAMES),
        st.sampled_from(INCIDENTS["code"].to_list()),
        st.sampled_from(COUNTRY_CODES),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 2),
    ),
    max_size=40,
)
requests_strategy = st.lists(
    st.tuples(st.sampled_from(AGENCIES["code"].to_list()), st.integers(0, 10**6), st.integers(0, 10**4)),
    max_size=20,
)
relationships_strategy = st.sets(
    st.tuples(st.integers(1, 6), st.sampled_from(RELATIONSHIPS["code"].to_list())), max_size=30
)


def with_total(frame: pl.DataFrame, label_column: str, total_label: str = "Total") -> pl.DataFrame:
    counts = [c for c in frame.columns if c != label_column]
    total = frame.select(pl.lit(total_label).alias(label_column), *[pl.col(c).sum() for c in counts])
    return pl.concat([frame, total])


def expected_tables(cases: pl.DataFrame, reports: pl.DataFrame, requests: pl.DataFrame, rels: pl.DataFrame) -> dict[str, list[tuple]]:
    year_start, year_end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    population = cases.filter(
        (pl.col("intake").is_between(year_start, year_end))
        | ((pl.col("intake") < year_start) & pl.col("resolved").is_between(year_start, year_end))
    ).with_columns(
        active=(pl.col("resolved").is_null() | (pl.col("resolved") > year_end)).cast(pl.Int64),
        race=pl.when(pl.col("race") == "").then(pl.lit("U")).otherwise(pl.col("race")),
    )
    tables: dict[str, pl.DataFrame] = {}

    by_type = CASE_TYPES.join(population, left_on="code", right_on="case_type", how="left")
    tables["missing_children_by_case_type"] = with_total(
        by_type.group_by("label", maintain_order=True).agg(
            active=pl.col("active").fill_null(0).sum(),
            resolved=(pl.col("active") == 0).sum(),
        ).with_columns(total=pl.col("active") + pl.col("resolved")).rename({"label": "case_type"}),
        "case_type",
    )

    states = us_states()
    by_state = states.join(population, left_on="code", right_on="state", how="left")
    tables["missing_children_by_state"] = with_total(
        by_state.group_by("name", maintain_order=True).agg(
            active=pl.col("active").fill_null(0).sum(), resolved=(pl.col("active") == 0).sum()
        ).with_columns(total=pl.col("active") + pl.col("resolved")).rename({"name": "missing_state"}),
        "missing_state",
    )

    def age_group(age: int | None) -> str:
        for row in AGE_GROUPS.iter_rows(named=True):
            if age is None and row["min_age"] is None:
                return row["label"]
            if age is not None and row["min_age"] is not None and int(row["min_age"]) <= age <= int(row["max_age"]):
                return row["label"]
        raise AssertionError(age)

    with_groups = population.with_columns(group=pl.col("age").map_elements(age_group, return_dtype=pl.String, skip_nulls=False))
    race_columns = RACES.select("code", "column_name").rows()
    grid = AGE_GROUPS.select(pl.col("label").alias("age_group")).with_columns(
        *[pl.lit(0, pl.Int64).alias(name) for _, name in race_columns]
    )
    counts = with_groups.group_by("group", "race").len()
    rows = []
    for label in grid["age_group"]:
        row = {"age_group": label}
        for code, name in race_columns:
            hit = counts.filter((pl.col("group") == label) & (pl.col("race") == code))
            row[name] = int(hit["len"].sum()) if hit.height else 0
        rows.append(row)
    age_race = pl.DataFrame(rows).with_columns(total=pl.sum_horizontal(*[n for _, n in race_columns]))
    tables["missing_children_by_age_and_race"] = with_total(age_race, "age_group")

    by_agency = AGENCIES.join(requests, left_on="code", right_on="agency", how="left")
    tables["cvip_requests_by_agency"] = with_total(
        by_agency.group_by("label", maintain_order=True).agg(
            requests=pl.col("images").is_not_null().sum().cast(pl.Int64),
            images=pl.col("images").fill_null(0).sum(),
            videos=pl.col("videos").fill_null(0).sum(),
        ).rename({"label": "agency_type"}),
        "agency_type",
        "Grand Total",
    )

    per_rel = RELATIONSHIPS.join(rels, left_on="code", right_on="relationship", how="left").group_by(
        "label", maintain_order=True
    ).agg(known_relationships=pl.col("victim").is_not_null().sum().cast(pl.Int64))
    rel_table = with_total(per_rel.rename({"label": "relationship"}), "relationship")
    whole = rel_table["known_relationships"][-1]
    tables["offender_relationship_actively_traded"] = rel_table.with_columns(
        percent_of_total=pl.col("known_relationships").map_elements(
            lambda n: None if whole == 0 else str((Decimal(100 * n) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)),
            return_dtype=pl.String,
        )
    )

    source = pl.DataFrame({"code": ["ESP", "PUBLIC"], "reporter_type": ["Electronic Service Provider", "Public"]})
    tables["cybertipline_reports_by_source"] = with_total(
        source.join(reports, left_on="code", right_on="reporter", how="left").group_by("reporter_type", maintain_order=True).agg(
            reports=pl.col("incident").is_not_null().sum().cast(pl.Int64)
        ),
        "reporter_type",
    )
    tables["cybertipline_reports_by_incident_type"] = with_total(
        INCIDENTS.join(reports, left_on="code", right_on="incident", how="left").group_by("label", maintain_order=True).agg(
            reports=pl.col("reporter").is_not_null().sum().cast(pl.Int64)
        ).rename({"label": "incident_type"}),
        "incident_type",
    )
    tables["cybertipline_files_by_type"] = with_total(
        pl.DataFrame(
            {
                "file_type": ["Images", "Videos", "Other"],
                "files": [reports["images"].sum(), reports["videos"].sum(), reports["other"].sum()],
            },
            schema={"file_type": pl.String, "files": pl.Int64},
        ),
        "file_type",
    )
    esp = reports.filter(pl.col("reporter") == "ESP").group_by("esp").len("reports").sort(
        ["reports", "esp"], descending=[True, False]
    ).rename({"esp": "esp_name"}).with_columns(pl.col("reports").cast(pl.Int64))
    tables["cybertipline_reports_by_esp"] = with_total(esp, "esp_name")

    names = countries().select(pl.col("code").alias("country_code"), pl.col("name").alias("country"), "sort_order")
    listed = reports.filter(pl.col("country").is_not_null()).group_by("country").len("reports").join(
        names, left_on="country", right_on="country_code"
    ).sort("sort_order").select(pl.col("country").alias("country_code"), pl.col("country_right").alias("country"), pl.col("reports").cast(pl.Int64))
    unlisted = pl.DataFrame(
        {"country_code": [None, None], "country": ["No Country Listed", "Total"],
         "reports": [reports["country"].null_count(), reports.height]},
        schema={"country_code": pl.String, "country": pl.String, "reports": pl.Int64},
    )
    tables["cybertipline_reports_by_country"] = pl.concat([listed, unlisted])

    return {name: [(YEAR, *(("" if v is None else str(v)) for v in row)) for row in frame.rows()] for name, frame in tables.items()}


def published_rows(con, table: str) -> list[tuple]:
    rows = con.sql(f"SELECT * EXCLUDE (sort_order) FROM {table} ORDER BY sort_order").fetchall()
    return [(row[0], *(("" if v is None else str(v)) for v in row[1:])) for row in rows]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases_strategy, reports_strategy, requests_strategy, relationships_strategy)
def test_every_table_equals_an_independent_polars_computation(tmp_path_factory, raw_cases, raw_reports, raw_requests, raw_rels) -> None:
    root = tmp_path_factory.mktemp("prop")
    exports = YearExports.small(YEAR)
    exports.cases = [
        case(f"C{i}", intake.isoformat(), "" if offset is None else (intake + timedelta(days=offset)).isoformat(),
             case_type, "" if age is None else age, race, state)
        for i, (intake, offset, case_type, age, race, state) in enumerate(raw_cases)
    ]
    exports.reports = [
        report(i + 1, reporter, esp, incident, country, images, videos, other)
        for i, (reporter, esp, incident, country, images, videos, other) in enumerate(raw_reports)
    ]
    exports.cvip_requests = [
        {"request_id": f"R{i}", "received_date": "2020-05-01", "agency_type": agency, "image_count": str(images), "video_count": str(videos)}
        for i, (agency, images, videos) in enumerate(raw_requests)
    ]
    exports.relationships = [{"victim_id": f"V{v}", "relationship": r} for v, r in sorted(raw_rels)]
    year_dir = exports.write(root / "raw")

    cases = pl.DataFrame(
        [
            {"intake": intake, "resolved": None if off is None else intake + timedelta(days=off), "case_type": ct, "age": age, "race": race, "state": state}
            for intake, off, ct, age, race, state in raw_cases
        ],
        schema={"intake": pl.Date, "resolved": pl.Date, "case_type": pl.String, "age": pl.Int64, "race": pl.String, "state": pl.String},
    )
    reports = pl.DataFrame(
        [
            {"reporter": r, "esp": e if r == "ESP" else None, "incident": i, "country": c, "images": a, "videos": b, "other": o}
            for r, e, i, c, a, b, o in raw_reports
        ],
        schema={"reporter": pl.String, "esp": pl.String, "incident": pl.String, "country": pl.String, "images": pl.Int64, "videos": pl.Int64, "other": pl.Int64},
    )
    requests = pl.DataFrame(raw_requests, schema={"agency": pl.String, "images": pl.Int64, "videos": pl.Int64}, orient="row")
    rels = pl.DataFrame(sorted(raw_rels), schema={"victim": pl.Int64, "relationship": pl.String}, orient="row")

    expected = expected_tables(cases, reports, requests, rels)
    with Warehouse(directory=str(root / "warehouse")).connect(YEAR) as con:
        build_tables(con, year_dir)
        for table, rows in expected.items():
            assert published_rows(con, table) == rows, table
