"""Property test: for random small exports, every published table the SQL models build equals its
second computation (pipelines/tables/raw_year.py and each table's spec), the polars
computation of raw/README.md and docs/published-tables.md straight from the raw files that the
blocking ``second_computation`` check runs: one implementation, the oracle of this test too.

Year boundaries, empty races and ages, zero-row categories, ties between ESPs and countries with
accents are drawn often: they are where the population, status and order rules go wrong."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.proving.second_computation import compare
from pipelines.tables import specs
from pipelines.tables.raw_year import RawYear, catalog
from tests.exports import YearExports, case, report
from tests.harness import build_tables

YEAR = 2020
CASE_TYPES = catalog("case_types")
RACES = catalog("races")
INCIDENTS = catalog("incident_types")
AGENCIES = catalog("agency_types")
RELATIONSHIPS = catalog("relationships")
KEPT_ELSEWHERE = [
    (row["metric_id"], row["period"])
    for row in catalog("metric_catalog").iter_rows(named=True)
    if not row["computed_from"]
]
STATE_CODES = ["TX", "CA", "NY", "DC", "PR", "INTL", "WY"]
ESP_NAMES = ["Alpha", "beta", "Acme Chat, Inc.", 'The "Hub"', "Zeta"]
COUNTRY_CODES = [None, "US", "IN", "XK", "AX", "CI"]

# Year boundaries are where the population and status rules can go wrong: draw them often.
BOUNDARIES = [date(2019, 12, 31), date(2020, 1, 1), date(2020, 12, 31), date(2021, 1, 1)]
dates = st.one_of(st.sampled_from(BOUNDARIES), st.dates(min_value=date(2018, 6, 1), max_value=date(2021, 6, 30)))
cases_strategy = st.lists(
    st.tuples(
        dates,
        st.one_of(st.none(), st.sampled_from([0, 1]), st.integers(0, 500)),
        st.sampled_from(CASE_TYPES["code"].to_list()),
        st.one_of(st.none(), st.integers(0, 20)),
        st.sampled_from([*RACES["code"].to_list(), ""]),
        st.sampled_from(STATE_CODES),
    ),
    min_size=1,  # an export without data rows is refused (raw/README.md)
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
    min_size=1,
    max_size=40,
)
requests_strategy = st.lists(
    st.tuples(st.sampled_from(AGENCIES["code"].to_list()), st.integers(0, 10**6), st.integers(0, 10**4)),
    min_size=1,
    max_size=20,
)
relationships_strategy = st.sets(
    st.tuples(st.integers(1, 6), st.sampled_from(RELATIONSHIPS["code"].to_list())), min_size=1, max_size=30
)
# Figures kept elsewhere, around the display rules' steps (truncation, "more than", millions).
metrics_strategy = st.dictionaries(
    st.sampled_from(KEPT_ELSEWHERE),
    st.one_of(st.integers(0, 2 * 10**8), st.sampled_from([0, 99, 100, 999_999, 1_000_000, 65_400_000])),
    min_size=1,
    max_size=8,
)


def published_frame(con, table: str) -> pl.DataFrame:
    return con.sql(f"SELECT * EXCLUDE (sort_order) FROM {table} ORDER BY sort_order").pl()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases_strategy, reports_strategy, requests_strategy, relationships_strategy, metrics_strategy)
def test_every_table_equals_its_second_computation(
    tmp_path_factory, raw_cases, raw_reports, raw_requests, raw_rels, raw_metrics
) -> None:
    root = tmp_path_factory.mktemp("prop")
    exports = YearExports.small(YEAR)
    exports.cases = [
        case(
            f"C{i}",
            intake.isoformat(),
            "" if offset is None else (intake + timedelta(days=offset)).isoformat(),
            case_type,
            "" if age is None else age,
            race,
            state,
        )
        for i, (intake, offset, case_type, age, race, state) in enumerate(raw_cases)
    ]
    exports.reports = [
        report(i + 1, reporter, esp, incident, country, images, videos, other)
        for i, (reporter, esp, incident, country, images, videos, other) in enumerate(raw_reports)
    ]
    exports.cvip_requests = [
        {
            "request_id": f"R{i}",
            "received_date": "2020-05-01",
            "agency_type": agency,
            "image_count": str(images),
            "video_count": str(videos),
        }
        for i, (agency, images, videos) in enumerate(raw_requests)
    ]
    exports.relationships = [{"victim_id": f"V{v}", "relationship": r} for v, r in sorted(raw_rels)]
    exports.program_metrics = [
        {
            "metric_id": m,
            "period": p,
            "value": str(v),
            "since": "1990" if p == "cumulative" else "",
            "source": "records",
        }
        for (m, p), v in sorted(raw_metrics.items())
    ]
    year_dir = exports.write(root / "raw")

    raw = RawYear(year_dir, YEAR)
    with duckdb.connect() as con:
        build_tables(con, year_dir)
        for table in specs():
            assert compare(table, published_frame(con, table), raw) == [], table
