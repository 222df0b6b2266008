"""The published-table checks (pipelines/proving/schemas.py): they pass on correct tables
and every invariant of docs/published-tables.md fails, naming its rule, when one cell is tampered with.

A warehouse is built once by the SQL models from a tiny export (tests/harness.py, no Dagster);
each tampering test works on a copy of it (tests/e2e/test_blocking_checks.py: a broken invariant
stops the year's job). Hypothesis builds random small valid tables, computed here independently of the
SQL models, that must pass.
"""

import shutil
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandera.errors import SchemaErrors

from pipelines.core.seeds import read_seed, us_states
from pipelines.defs.resources import Warehouse
from pipelines.proving.schemas import check_published_table, schema, table_rules, validate_table
from pipelines.tables import GRAND_TOTAL, TableSpec, count, label, specs
from pipelines.tables.rules import country_catalog, metric_catalog, percent_hundredths
from tests.exports import YearExports, case, report
from tests.harness import build_tables

YEAR = 2020

PROGRAM_METRICS = [
    ("ncic_missing_child_entries", "year", "1000", ""),
    ("ncic_missing_child_entries", "prior_year", "1200", ""),
    ("hotline_calls", "cumulative", "5000000", "1984"),
    ("age_progressions", "year", "195", ""),
    ("age_progressions", "cumulative", "7100", "1989"),
    ("cybertipline_reports", "cumulative", "96000000", "1998"),
    ("connect_active_users", "current", "9500", ""),
]


def tiny_exports() -> YearExports:
    exports = YearExports(year=YEAR)
    exports.cases = [
        case("TX-1", "2020-02-01", "2020-02-03", "ERU", 15, "WH", "TX"),
        case("TX-2", "2020-03-01", "2020-03-09", "ERU", 16, "BL", "TX"),
        case("TX-3", "2020-04-01", "", "FA", 4, "HI", "TX"),
        case("CA-1", "2020-05-01", "", "FA", 2, "BL", "CA"),
        case("PR-1", "2020-06-01", "2020-06-02", "LIOM", "", "U", "PR"),
        case("WA-1", "2020-07-01", "2020-07-05", "MYA", 19, "AS", "WA"),
        case("INTL-1", "2020-08-01", "", "NFA", 12, "", "INTL"),
        case("NY-1", "2019-11-01", "2020-01-10", "ERU", 17, "MR", "NY"),
        case("NY-2", "2020-12-31", "2021-01-02", "ERU", 14, "PI", "NY"),
        case("AK-1", "2020-09-01", "2020-09-02", "ERU", 9, "AI", "AK"),
    ]
    exports.reports = [
        report(1, esp_name="Alpha", country="US", images=3, videos=1),
        report(2, esp_name="Alpha", country="DE", incident_type="ONLINE_ENTICEMENT", images=0, other=2),
        report(3, esp_name="Beta", country="XK", images=1, videos=4),
        report(4, esp_name="Beta", country=None, incident_type="CHILD_SEX_TRAFFICKING"),
        report(5, esp_name="Gamma", country="FR", videos=2),
        report(6, "PUBLIC", None, "ONLINE_ENTICEMENT", None, 0, 1, 0),
        report(7, "PUBLIC", None, "CHILD_SEX_TOURISM", "US", 2, 0, 1),
    ]
    exports.cvip_requests = [
        {
            "request_id": f"R{i}",
            "received_date": "2020-04-01",
            "agency_type": agency,
            "image_count": str(images),
            "video_count": str(videos),
        }
        for i, (agency, images, videos) in enumerate(
            [
                ("FEDERAL", 10, 2),
                ("FEDERAL", 5, 0),
                ("STATE_LOCAL_ICAC", 7, 1),
                ("MILITARY", 3, 3),
                ("INTERNATIONAL", 1, 0),
            ]
        )
    ]
    exports.relationships = [
        {"victim_id": victim, "relationship": relationship}
        for victim, relationship in [
            ("V1", "PARENT_GUARDIAN"),
            ("V1", "ONLINE_ENTICEMENT"),
            ("V2", "OTHER_RELATIVE"),
            ("V3", "SELF_PRODUCTION"),
            ("V4", "UNKNOWN_TO_CHILD"),
            ("V5", "PARENT_GUARDIAN"),
        ]
    ]
    exports.program_metrics = [
        {"metric_id": m, "period": p, "value": v, "since": s, "source": "program records"}
        for m, p, v, s in PROGRAM_METRICS
    ]
    return exports


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The year's database as the SQL models build it from the tiny exports."""
    root = tmp_path_factory.mktemp("published_invariants")
    year_dir = tiny_exports().write(root / "raw")
    warehouse = Warehouse(directory=str(root / "warehouse"))
    with warehouse.connect(YEAR) as con:
        build_tables(con, year_dir)
    return warehouse.path(YEAR)


@pytest.fixture
def warehouse(built: Path, tmp_path: Path) -> Warehouse:
    """A private copy of the built warehouse, to tamper with."""
    shutil.copy(built, tmp_path / f"{YEAR}.duckdb")
    return Warehouse(directory=str(tmp_path))


def test_every_check_passes_on_the_tables_the_sql_models_build(warehouse: Warehouse) -> None:
    with warehouse.connect(YEAR) as con:
        found = {table: check_published_table(con, table, YEAR)[1] for table in specs()}
    assert found == {table: [] for table in specs()}


# --------------------------------------------------------------------------------------------
# One tampered cell per invariant.
# --------------------------------------------------------------------------------------------

CS = "missing_children_by_case_type"
AR = "missing_children_by_age_and_race"
ST = "missing_children_by_state"
CV = "cvip_requests_by_agency"
OR = "offender_relationship_actively_traded"
SO = "cybertipline_reports_by_source"
FI = "cybertipline_files_by_type"
IN = "cybertipline_reports_by_incident_type"
ES = "cybertipline_reports_by_esp"
CO = "cybertipline_reports_by_country"
HM = "headline_metrics"

TABLE_TAMPERING = [
    # (id, table, SQL, fragments that must appear together in one problem)
    (
        "row-parts-case-type",
        CS,
        f"UPDATE {CS} SET total = total + 1 WHERE case_type = 'Family Abduction'",
        [CS, "column total", "row parts do not sum to the row total", "'Family Abduction'"],
    ),
    (
        "row-parts-age-race",
        AR,
        f"UPDATE {AR} SET white = white + 1 WHERE age_group = '15 to 17'",
        [AR, "column total", "row parts do not sum", "'15 to 17'", "race columns"],
    ),
    (
        "row-parts-state",
        ST,
        f"UPDATE {ST} SET resolved = resolved + 1 WHERE missing_state = 'Texas'",
        [ST, "row parts do not sum", "'Texas' (active + resolved = 4, total = 3)"],
    ),
    (
        "column-total-case-type",
        CS,
        f"UPDATE {CS} SET active = active + 1, total = total + 1 WHERE case_type = 'Family Abduction'",
        [CS, "column active", "'Total' (category rows sum to 5 but the Total row says 4)"],
    ),
    (
        "column-total-age-race",
        AR,
        f"UPDATE {AR} SET white = white + 1, total = total + 1 WHERE age_group = 'Unknown'",
        [AR, "column white", "'Total' (category rows sum to 2 but the Total row says 1)"],
    ),
    (
        "column-total-state",
        ST,
        f"UPDATE {ST} SET active = active - 1, total = total - 1 WHERE missing_state = 'Texas'",
        [
            ST,
            "column active: the category rows do not add up to the Total row",
            "(category rows sum to 3 but the Total row says 4)",
        ],
    ),
    (
        "column-total-cvip",
        CV,
        f"UPDATE {CV} SET images = images + 1 WHERE agency_type = 'Military'",
        [CV, "column images", "'Grand Total' (category rows sum to 27 but the Grand Total row says 26)"],
    ),
    (
        "column-total-relationships",
        OR,
        f"UPDATE {OR} SET known_relationships = 7 WHERE relationship = 'Total'",
        [OR, "column known_relationships", "'Total' (category rows sum to 6 but the Total row says 7)"],
    ),
    (
        "column-total-source",
        SO,
        f"UPDATE {SO} SET reports = reports + 1 WHERE reporter_type = 'Public'",
        [SO, "column reports", "(category rows sum to 8"],
    ),
    (
        "column-total-files",
        FI,
        f"UPDATE {FI} SET files = files + 1 WHERE file_type = 'Videos'",
        [FI, "column files", "(category rows sum to"],
    ),
    (
        "column-total-incident",
        IN,
        f"UPDATE {IN} SET reports = reports + 1 WHERE incident_type = 'Misleading Domain Name'",
        [IN, "column reports", "'Total' (category rows sum to 8 but the Total row says 7)"],
    ),
    (
        "column-total-esp",
        ES,
        f"UPDATE {ES} SET reports = 9 WHERE esp_name = 'Total'",
        [ES, "column reports", "'Total' (category rows sum to 5 but the Total row says 9)"],
    ),
    (
        "column-total-country",
        CO,
        f"UPDATE {CO} SET reports = reports + 1 WHERE country = 'France'",
        [CO, "column reports", "'Total' (category rows sum to 8 but the Total row says 7)"],
    ),
    (
        "percent-share",
        OR,
        f"UPDATE {OR} SET percent_of_total = 16.66 WHERE relationship = 'Other Relative'",
        [OR, "column percent_of_total", "rounded share", "'Other Relative' (says 16.66 but 1 / 6 = 16.67)"],
    ),
    (
        "percent-total-row",
        OR,
        f"UPDATE {OR} SET percent_of_total = 99.99 WHERE relationship = 'Total'",
        [OR, "the Total row must say 100.00 but says 99.99"],
    ),
    (
        "category-label",
        CS,
        f"UPDATE {CS} SET case_type = 'Runaway' WHERE case_type = 'Endangered Runaway'",
        [
            CS,
            "column case_type: the rows must be the 5 categories in published order, then 'Total'",
            "'Runaway' (row 1 should be 'Endangered Runaway'; not a category; 'Endangered Runaway' is missing)",
            "(rule: category set and order)",
        ],
    ),
    (
        "category-order",
        IN,
        f"UPDATE {IN} SET sort_order = 100 WHERE sort_order = 1",
        [IN, "category set and order", "'Online Enticement of Children for Sexual Acts' (row 1 should be"],
    ),
    (
        "category-zero-row-missing",
        ST,
        f"DELETE FROM {ST} WHERE missing_state = 'Wyoming'",
        [ST, "category set and order", "'Wyoming' is missing", "the table ends here, 'Wyoming' missing"],
    ),
    (
        "total-row-missing",
        FI,
        f"DELETE FROM {FI} WHERE file_type = 'Total'",
        [FI, "category set and order", "(the table ends here, 'Total' missing)"],
    ),
    (
        "total-row-renamed",
        CV,
        f"UPDATE {CV} SET agency_type = 'Total' WHERE agency_type = 'Grand Total'",
        [
            CV,
            "category set and order",
            "'Total' (row 5 should be 'Grand Total'; not a category; 'Grand Total' is missing)",
        ],
    ),
    (
        "negative-count",
        SO,
        f"UPDATE {SO} SET reports = -1 WHERE reporter_type = 'Public'",
        [SO, "column reports: a count must not be negative", "'Public' (-1)"],
    ),
    (
        "null-count",
        CV,
        f"UPDATE {CV} SET videos = NULL WHERE agency_type = 'Military'",
        [CV, "column videos: null value", "'Military'"],
    ),
    (
        "null-label",
        IN,
        f"UPDATE {IN} SET incident_type = NULL WHERE sort_order = 8",
        [IN, "column incident_type: null value"],
    ),
    (
        "dtype-count",
        FI,
        f"ALTER TABLE {FI} ALTER files TYPE DOUBLE",
        [FI, "column files: dtype is Float64, expected Int64"],
    ),
    (
        "dtype-decimal",
        OR,
        f"ALTER TABLE {OR} ALTER percent_of_total TYPE DECIMAL(18, 2)",
        [OR, "column percent_of_total: dtype is Decimal(precision=18, scale=2)"],
    ),
    ("dtype-year", CS, f"ALTER TABLE {CS} ALTER year TYPE BIGINT", [CS, "column year: dtype is Int64"]),
    (
        "extra-column",
        SO,
        f"ALTER TABLE {SO} ADD COLUMN note VARCHAR",
        [SO, "column note: not a column of the published table"],
    ),
    ("missing-column", CS, f"ALTER TABLE {CS} DROP COLUMN resolved", [CS, "column resolved: missing"]),
    (
        "column-order",
        CS,
        f"CREATE OR REPLACE TABLE {CS} AS SELECT year, case_type, resolved, active, total, sort_order FROM {CS}",
        [CS, "out of order", "year, case_type, active, resolved, total"],
    ),
    (
        "partition-year",
        FI,
        f"UPDATE {FI} SET year = 2019 WHERE file_type = 'Images'",
        [FI, "column year: must be the year of the partition", "'Images' (2019)"],
    ),
    (
        "one-year",
        FI,
        f"UPDATE {FI} SET year = 2019 WHERE file_type = 'Images'",
        [FI, "column year: all rows must have the same year in row(s) 'Images' (year 2019, most rows say 2020)"],
    ),
    (
        "esp-named",
        ES,
        f"UPDATE {ES} SET esp_name = ' ' WHERE esp_name = 'Gamma'",
        [ES, "column esp_name: an ESP row must have a name in row(s) ' ' (rule: ESP rows named)"],
    ),
    (
        "sort-order-unique",
        CV,
        f"UPDATE {CV} SET sort_order = 1 WHERE agency_type = 'Military'",
        [CV, "column sort_order", "1 repeated value(s)"],
    ),
    (
        "esp-order-by-reports",
        ES,
        f"UPDATE {ES} SET sort_order = 0 WHERE esp_name = 'Gamma'",
        [ES, "sorted by reports, most first, ties by name", "'Alpha' (2 reports, after 'Gamma' with 1)"],
    ),
    (
        "esp-ties-by-name",
        ES,
        f"UPDATE {ES} SET sort_order = CASE esp_name WHEN 'Alpha' THEN 2 WHEN 'Beta' THEN 1 ELSE sort_order END",
        [ES, "ties by name", "'Alpha' (2 reports, after 'Beta' with 2)"],
    ),
    (
        "esp-listed-once",
        ES,
        f"UPDATE {ES} SET esp_name = 'Alpha' WHERE esp_name = 'Beta'",
        [
            ES,
            "column esp_name: esp_name is not unique",
            "in row(s) 'Alpha' (listed 2 times), 'Alpha' (listed 2 times)",
        ],
    ),
    (
        "esp-total-last",
        ES,
        f"UPDATE {ES} SET sort_order = -5 WHERE esp_name = 'Total'",
        [ES, "must end with the row(s) 'Total'"],
    ),
    (
        "country-order",
        CO,
        f"UPDATE {CO} SET sort_order = 0 WHERE country_code = 'US'",
        [CO, "not in the published order", "'France' (comes after 'United States')"],
    ),
    (
        "country-code-known",
        CO,
        f"UPDATE {CO} SET country_code = 'ZZ' WHERE country_code = 'FR'",
        [CO, "column country_code: not an ISO 3166-1 code", "'France' (code 'ZZ')"],
    ),
    (
        "country-name",
        CO,
        f"UPDATE {CO} SET country = 'Deutschland' WHERE country_code = 'DE'",
        [CO, "column country: not the ISO 3166-1 English short name", "code DE is 'Germany', not 'Deutschland'"],
    ),
    (
        "country-no-country-listed",
        CO,
        f"UPDATE {CO} SET country = 'Unknown' WHERE country = 'No Country Listed'",
        [CO, "must end with the row(s) 'No Country Listed', 'Total'"],
    ),
    (
        "country-total-code-empty",
        CO,
        f"UPDATE {CO} SET country_code = 'US' WHERE country = 'Total'",
        [CO, "column country_code", "must have an empty code in row(s) 'Total' (code 'US')"],
    ),
    (
        "headline-key-unique",
        HM,
        f"INSERT INTO {HM} SELECT * REPLACE (sort_order * 1000 AS sort_order) FROM {HM} "
        "WHERE metric_id = 'hotline_calls'",
        [HM, "(metric_id, period) is not unique in row(s) 'hotline_calls/cumulative' (listed 2 times)"],
    ),
    (
        "headline-key-in-catalog",
        HM,
        f"UPDATE {HM} SET metric_id = 'made_up' WHERE metric_id = 'hotline_calls'",
        [HM, "column metric_id: (metric_id, period) not in the metric catalog in row(s) 'made_up/cumulative'"],
    ),
    (
        "headline-catalog-order",
        HM,
        f"UPDATE {HM} SET sort_order = 0 WHERE metric_id = 'connect_active_users'",
        [
            HM,
            "not in metric-catalog order",
            "'ncic_missing_child_entries/year' (comes after 'connect_active_users/current')",
        ],
    ),
    (
        "headline-display-text",
        HM,
        f"UPDATE {HM} SET display_text = ' ' WHERE metric_id = 'hotline_calls'",
        [HM, "column display_text: must not be empty", "'hotline_calls/cumulative'"],
    ),
    (
        "headline-display-text-null",
        HM,
        f"UPDATE {HM} SET display_text = NULL WHERE metric_id = 'hotline_calls'",
        [HM, "column display_text: null value", "'hotline_calls/cumulative'"],
    ),
    (
        "headline-value-non-negative",
        HM,
        f"UPDATE {HM} SET value = -5 WHERE metric_id = 'ncic_missing_child_entries' AND period = 'year'",
        [HM, "column value: a count must not be negative", "'ncic_missing_child_entries/year' (-5)"],
    ),
    (
        "cumulative-not-below-yearly",
        HM,
        f"UPDATE {HM} SET value = 100 WHERE metric_id = 'age_progressions' AND period = 'cumulative'",
        [
            HM,
            "a cumulative figure is below the same year's yearly figure",
            "'age_progressions/cumulative' (100 < 'age_progressions/year' = 195)",
        ],
    ),
    (
        "headline-since-cumulative-only",
        HM,
        f"UPDATE {HM} SET since = 1990 WHERE metric_id = 'age_progressions' AND period = 'year'",
        [HM, "column since", "'age_progressions/year' (since 1990)"],
    ),
]


def tamper(warehouse: Warehouse, sql: str) -> None:
    with warehouse.connect(YEAR) as con:
        con.sql(sql)


def assert_reported(problems: list[str], fragments: list[str]) -> None:
    assert any(all(f in p for f in fragments) for p in problems), (fragments, problems)


@pytest.mark.guard("schema_and_totals")
@pytest.mark.parametrize(
    ("table", "sql", "fragments"), [case[1:] for case in TABLE_TAMPERING], ids=[case[0] for case in TABLE_TAMPERING]
)
def test_table_invariant_fails_when_a_cell_is_tampered(
    warehouse: Warehouse, table: str, sql: str, fragments: list[str]
) -> None:
    with warehouse.connect(YEAR) as con:
        assert check_published_table(con, table, YEAR)[1] == []
        con.sql(sql)
        _, problems = check_published_table(con, table, YEAR)
    assert_reported(problems, fragments)


def test_column_and_table_rules_broken_together_are_all_reported(warehouse: Warehouse) -> None:
    """One lazy Pandera pass reports a column check and two kinds of row-wise invariants together."""
    tamper(
        warehouse,
        f"UPDATE {SO} SET reports = -1 WHERE reporter_type = 'Public'; "
        f"UPDATE {SO} SET reporter_type = 'Others' WHERE reporter_type = 'Electronic Service Provider'",
    )
    with warehouse.connect(YEAR) as con:
        _, problems = check_published_table(con, SO, YEAR)
    assert_reported(problems, ["a count must not be negative"])
    assert_reported(problems, ["category set and order"])
    assert_reported(problems, ["column reports: the category rows do not add up", "'Total' (category rows sum to"])


def test_age_and_race_schema_has_the_race_seed_columns_in_order() -> None:
    assert list(schema(AR).columns)[2:-1] == [row["column_name"] for row in read_seed("races")]


MONTHS = TableSpec(
    name="cvip_requests_by_month",
    title="CVIP requests by month",
    description="Law-enforcement requests by month of receipt, then the Grand Total.",
    label="month",
    total=GRAND_TOTAL,
    columns=(label("month", "Month", "Month of receipt, then Grand Total."), count("requests", "Requests", "")),
    primary_key=("year", "month"),
    counts_children=False,
)


@pytest.mark.parametrize(
    ("rows", "broken"),
    [
        ([("2020-01", 2), ("2020-03", 1), (GRAND_TOTAL, 3)], set()),
        ([("2020-01", 2), ("2020-03", 1)], {"Grand Total last"}),
        ([(GRAND_TOTAL, 3), ("2020-01", 2), ("2020-03", 1)], {"Grand Total last"}),
        ([("2020-01", 2), ("2020-03", 1), ("2020-01", 0), (GRAND_TOTAL, 3)], {"primary key unique"}),
    ],
    ids=["as-published", "no-total-row", "total-row-first", "a-month-twice"],
)
def test_a_new_table_whose_rows_follow_the_data_is_guarded_by_its_spec(rows: list[tuple], broken: set[str]) -> None:
    """A twelfth table without fixed categories and without rules of its own: its spec's total
    row (label and place) and primary key still hold, on the rows that break them."""
    table = frame(YEAR, "month", rows, ["requests"])
    failing = {r.name for r in table_rules(MONTHS) if not table.select(r.holds.fill_null(False)).to_series().all()}
    assert failing == broken


# --------------------------------------------------------------------------------------------
# Random small valid tables pass (computed here, independently of the SQL models).
# --------------------------------------------------------------------------------------------


def seed_labels(name: str) -> list[str]:
    return [row["label"] for row in read_seed(name)]


CASE_TYPES = seed_labels("case_types")
AGE_GROUPS = seed_labels("age_groups")
RACES = [row["column_name"] for row in read_seed("races")]
STATES = us_states()["name"].to_list()
AGENCIES = seed_labels("agency_types")
RELATIONSHIPS = seed_labels("relationships")
REPORTER_TYPES = {row["code"]: row["label"] for row in read_seed("reporter_types")}
INCIDENT_TYPES = seed_labels("incident_types")
FILE_TYPES = seed_labels("file_types")
COUNTRY_CODES = sorted(country_catalog())
COMPUTED = {(m, p) for m, p, source in metric_catalog() if source}
KEPT_ELSEWHERE = [(m, p) for m, p, source in metric_catalog() if not source]


def frame(year: int, label: str, rows: list[tuple], columns: list[str], **dtypes: pl.DataType) -> pl.DataFrame:
    data = pl.DataFrame([(year, *row) for row in rows], schema=["year", label, *columns], orient="row")
    return data.cast({"year": pl.Int32, **{c: pl.Int64 for c in columns}, **dtypes})


def with_total(rows: list[tuple], total: str = "Total") -> list[tuple]:
    sums = [sum(values) for values in zip(*(row[1:] for row in rows))] if rows else []
    return rows + [(total, *sums)]


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    year = draw(st.integers(2019, 2030))
    small = st.integers(0, 6)
    cases = draw(
        st.lists(
            st.tuples(
                st.sampled_from(CASE_TYPES),
                st.booleans(),
                st.sampled_from(AGE_GROUPS),
                st.sampled_from(RACES),
                st.sampled_from(STATES),
            ),
            max_size=25,
        )
    )
    reports = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["ESP", "PUBLIC"]),
                st.sampled_from(["Ab", "B", "b", "Zeta Net", "Ω"]),
                st.sampled_from(INCIDENT_TYPES),
                st.sampled_from([None, *COUNTRY_CODES]),
                small,
                small,
                small,
            ),
            max_size=25,
        )
    )
    requests = draw(
        st.lists(st.tuples(st.sampled_from(AGENCIES), st.integers(0, 10**7), st.integers(0, 10**6)), max_size=10)
    )
    relationships = draw(
        st.lists(st.tuples(st.integers(0, 8), st.sampled_from(RELATIONSHIPS)), min_size=1, max_size=15, unique=True)
    )
    kept = draw(st.lists(st.sampled_from(KEPT_ELSEWHERE), unique=True, max_size=len(KEPT_ELSEWHERE)))
    values = {key: draw(st.integers(0, 10**9)) for key in kept}

    tables: dict[str, pl.DataFrame] = {}
    count = Counter((t, active) for t, active, *_ in cases)
    tables[CS] = frame(
        year,
        "case_type",
        with_total(
            [(t, count[(t, True)], count[(t, False)], count[(t, True)] + count[(t, False)]) for t in CASE_TYPES]
        ),
        ["active", "resolved", "total"],
    )
    cells = Counter((age, race) for _, _, age, race, _ in cases)
    tables[AR] = frame(
        year,
        "age_group",
        with_total([(a, *(cells[(a, r)] for r in RACES), sum(cells[(a, r)] for r in RACES)) for a in AGE_GROUPS]),
        [*RACES, "total"],
    )
    by_state = Counter((state, active) for _, active, _, _, state in cases)
    tables[ST] = frame(
        year,
        "missing_state",
        with_total(
            [(s, by_state[(s, True)], by_state[(s, False)], by_state[(s, True)] + by_state[(s, False)]) for s in STATES]
        ),
        ["active", "resolved", "total"],
    )
    tables[CV] = frame(
        year,
        "agency_type",
        with_total(
            [
                (
                    a,
                    sum(1 for r in requests if r[0] == a),
                    sum(r[1] for r in requests if r[0] == a),
                    sum(r[2] for r in requests if r[0] == a),
                )
                for a in AGENCIES
            ],
            "Grand Total",
        ),
        ["requests", "images", "videos"],
    )
    known = Counter(r for _, r in relationships)
    whole = len(relationships)
    shares = [
        (r, known[r], (Decimal(100 * known[r]) / whole).quantize(Decimal("0.01"), ROUND_HALF_UP)) for r in RELATIONSHIPS
    ]
    tables[OR] = frame(
        year,
        "relationship",
        [*shares, ("Total", whole, Decimal("100.00"))],
        ["known_relationships", "percent_of_total"],
        percent_of_total=pl.Decimal(5, 2),
    )
    source = Counter(r[0] for r in reports)
    tables[SO] = frame(
        year, "reporter_type", with_total([(REPORTER_TYPES[c], source[c]) for c in ("ESP", "PUBLIC")]), ["reports"]
    )
    files = [sum(r[4] for r in reports), sum(r[5] for r in reports), sum(r[6] for r in reports)]
    tables[FI] = frame(year, "file_type", with_total([(label, n) for label, n in zip(FILE_TYPES, files)]), ["files"])
    incident = Counter(r[2] for r in reports)
    tables[IN] = frame(year, "incident_type", with_total([(t, incident[t]) for t in INCIDENT_TYPES]), ["reports"])
    esp = Counter(r[1] for r in reports if r[0] == "ESP")
    ranked = sorted(esp.items(), key=lambda kv: (-kv[1], kv[0]))
    tables[ES] = frame(year, "esp_name", [*ranked, ("Total", sum(esp.values()))], ["reports"])
    catalog = country_catalog()
    country = Counter(r[3] for r in reports)
    listed = sorted((code for code in country if code is not None), key=lambda code: catalog[code][1])
    tables[CO] = pl.DataFrame(
        [(year, code, catalog[code][0], country[code]) for code in listed]
        + [(year, None, "No Country Listed", country[None]), (year, None, "Total", len(reports))],
        schema=["year", "country_code", "country", "reports"],
        orient="row",
    ).cast({"year": pl.Int32, "country_code": pl.String, "country": pl.String, "reports": pl.Int64})

    cvip_images, cvip_videos = sum(r[1] for r in requests), sum(r[2] for r in requests)
    computed = {
        ("missing_children_cases_assisted", "year"): len(cases),
        ("cybertipline_reports", "year"): len(reports),
        ("cybertipline_public_reports", "year"): source["PUBLIC"],
        ("cybertipline_esp_reports", "year"): source["ESP"],
        ("cybertipline_files", "year"): sum(files),
        ("cybertipline_images", "year"): files[0],
        ("cybertipline_videos", "year"): files[1],
        ("cybertipline_other_files", "year"): files[2],
        ("cvip_law_enforcement_requests", "year"): len(requests),
        ("cvip_request_images_videos", "year"): cvip_images + cvip_videos,
        ("cvip_actively_traded_children", "cumulative"): len({victim for victim, _ in relationships}),
    }
    values.update(computed)
    # A cumulative figure is at least the yearly one.
    for (metric, period), value in list(values.items()):
        if period == "cumulative" and (metric, "year") in values:
            values[(metric, period)] = max(value, values[(metric, "year")])
    rows = [
        (
            year,
            m,
            p,
            draw(st.sampled_from([None, year - 30])) if p == "cumulative" else None,
            values[(m, p)],
            f"{values[(m, p)]:,}",
            draw(st.sampled_from([None, "records"])),
            draw(st.sampled_from([None, -3, 0, 12])) if p != "prior_year" else None,
        )
        for m, p, _ in metric_catalog()
        if (m, p) in values
    ]
    tables[HM] = pl.DataFrame(
        rows,
        schema=["year", "metric_id", "period", "since", "value", "display_text", "source", "change_from_prior_year"],
        orient="row",
    ).cast(
        {
            "year": pl.Int32,
            "metric_id": pl.String,
            "period": pl.String,
            "since": pl.Int32,
            "value": pl.Int64,
            "display_text": pl.String,
            "source": pl.String,
            "change_from_prior_year": pl.Int64,
        }
    )
    return tables


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_random_valid_tables_pass(tables: dict[str, pl.DataFrame]) -> None:
    year = tables[CS]["year"][0]
    for table, data in tables.items():
        assert validate_table(table, data, year) == [], table


@settings(deadline=None)  # a loaded machine takes longer than hypothesis's 200 ms for an example
@given(st.integers(0, 10**9), st.integers(1, 10**9))
def test_percent_hundredths_are_half_away_from_zero(part: int, whole: int) -> None:
    expected = (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    shares = pl.DataFrame({"part": [part, -part], "whole": [whole, whole]}).select(
        percent_hundredths(pl.col("part"), pl.col("whole"))
    )
    assert shares.to_series().to_list() == [int(expected * 100), -int(expected * 100)]


def test_pandera_lazy_validation_reports_row_wise_and_column_failures_together() -> None:
    """Why every invariant is a row-wise check (pipelines/proving/schemas.py) and validation
    is one lazy pass: a failing check that returns a Boolean per row is reported beside a failing
    column check, each with its failing rows' index. A check returning one bool for the table
    still crashes pandera's lazy mode in that company (its failure case False is not text: the
    family of pandera issue 1659). When the last assertion fails, pandera has fixed that."""
    columns = {"a": pa.Column(pl.Int64, pa.Check.ge(0))}
    row_wise = pa.DataFrameSchema(columns, checks=[pa.Check(lambda data: data.lazyframe.select(pl.col("a") < 5))])
    with pytest.raises(SchemaErrors) as raised:
        row_wise.validate(pl.DataFrame({"a": [-1, 3, 7]}), lazy=True)
    cases = raised.value.failure_cases.select("column", "index").rows()
    assert cases == [("a", 0), (None, 2)]

    scalar = pa.DataFrameSchema(columns, checks=[pa.Check(lambda data: False, name="rule")])
    with pytest.raises(pl.exceptions.SchemaError, match="Boolean is incompatible"):
        scalar.validate(pl.DataFrame({"a": [-1]}), lazy=True)


def test_a_broken_invariant_names_exactly_its_failing_rows_by_label() -> None:
    """Pandera's row-wise output, not a re-run of the rule, says which rows fail."""
    labels = [row["label"] for row in read_seed("case_types")]
    rows = [(label, 1, 1, 2) for label in labels]
    rows[1] = (labels[1], 1, 1, 3)
    rows[3] = (labels[3], 2, 0, 1)
    table = frame(YEAR, "case_type", with_total(rows), ["active", "resolved", "total"])
    problems = validate_table(CS, table, YEAR)
    assert problems == [
        f"{CS}: column total: row parts do not sum to the row total in row(s) "
        f"'{labels[1]}' (active + resolved = 2, total = 3), '{labels[3]}' (active + resolved = 2, total = 1) "
        "(rule: row parts sum to total)"
    ]


def test_a_missing_row_fails_on_the_last_row_which_names_it() -> None:
    labels = [row["label"] for row in read_seed("case_types")]
    rows = with_total([(label, 0, 0, 0) for label in labels[:-1]])
    (problem,) = validate_table(CS, frame(YEAR, "case_type", rows, ["active", "resolved", "total"]), YEAR)
    assert problem == (
        f"{CS}: column case_type: the rows must be the {len(labels)} categories in published order, then 'Total' "
        f"in row(s) 'Total' (row {len(labels)} should be '{labels[-1]}'; the table ends here, '{labels[-1]}' "
        "missing) (rule: category set and order)"
    )


def relationships(rows: list[tuple]) -> pl.DataFrame:
    return frame(
        YEAR, "relationship", rows, ["known_relationships", "percent_of_total"], percent_of_total=pl.Decimal(5, 2)
    )


def test_a_share_of_nothing_must_be_null() -> None:
    rows = [(label, 0, None) for label in RELATIONSHIPS]
    rows[0] = (RELATIONSHIPS[0], 0, Decimal("0.00"))
    assert validate_table(OR, relationships([*rows, ("Total", 0, None)]), YEAR) == [
        f"{OR}: column percent_of_total: percent is not the rounded share (2 decimals, half away from zero) of the "
        f"Total row's known_relationships in row(s) '{RELATIONSHIPS[0]}' (says 0.00 but a share of 0 is undefined "
        "(null)) (rule: percent is the rounded share)"
    ]


def test_a_row_beyond_the_categories_fails_by_itself() -> None:
    rows = [(label, 1, Decimal(100) / len(RELATIONSHIPS)) for label in RELATIONSHIPS]
    table = relationships([*rows, ("Total", len(RELATIONSHIPS), Decimal("100.00")), ("Other", 0, Decimal("0.00"))])
    problems = validate_table(OR, table, YEAR)
    assert_reported(
        problems,
        [
            "column relationship",
            f"'Other' (row {len(RELATIONSHIPS) + 2} is beyond the {len(RELATIONSHIPS) + 1} "
            "expected; not a category) (rule: category set and order)",
        ],
    )


def test_since_after_the_year_fails() -> None:
    rows = [(YEAR, "hotline_calls", "cumulative", YEAR + 1, 5, "5", None, None)]
    table = pl.DataFrame(
        rows,
        schema=["year", "metric_id", "period", "since", "value", "display_text", "source", "change_from_prior_year"],
        orient="row",
    ).cast({"year": pl.Int32, "since": pl.Int32, "source": pl.String, "change_from_prior_year": pl.Int64})
    assert validate_table(HM, table, YEAR) == [
        f"{HM}: column since: a first year is only given for a cumulative figure, not after the year in row(s) "
        f"'hotline_calls/cumulative' (since {YEAR + 1}) (rule: since only for cumulative)"
    ]
