"""The demo-data generator: its exports must reproduce reference/2020 through the raw/README.md rules.

The checks here recompute the published tables from the generated rows with their own DuckDB
queries (population and status rules of raw/README.md), independently of the pipeline's SQL models,
and compare them with the transcribed reference files. The CyberTipline export is generated at
scale 0.001 to keep the suite fast; its full size is exercised by hand (see the module
docstring of pipelines/demo).
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from pathlib import Path

import duckdb
import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.contract import COMPLETE_MARKER, DEMO_MARKER
from pipelines.core.files import sha256_file
from pipelines.demo import available_years, cases, common, cybertipline_plan, load_profile, profiles, write_demo_exports
from pipelines.demo import cybertipline_reports as cybertipline
from pipelines.demo import program_metrics as program_metrics_export
from pipelines.demo.common import apportion
from pipelines.demo.profiles import PROFILES_DIR
from tests.conftest import REFERENCE_2020 as REFERENCE

YEAR = 2020
SCALE = 0.001
CATALOG = Path(__file__).resolve().parents[2] / "sql" / "seeds" / "metric_catalog.csv"
FULL_REPORTS = 21_751_085

CASE_TYPE_LABELS = {
    "ERU": "Endangered Runaway",
    "FA": "Family Abduction",
    "LIOM": "Lost, Injured, or Otherwise Missing",
    "MYA": "Missing Young Adult",
    "NFA": "Nonfamily Abduction",
}
RACE_COLUMNS = {
    "AI": "native_american",
    "AS": "asian",
    "MR": "multiracial",
    "BL": "black",
    "HI": "hispanic",
    "PI": "pacific_islander",
    "WH": "white",
    "U": "unknown",
}
AGENCY_LABELS = {
    "FEDERAL": "US Federal Law Enforcement",
    "STATE_LOCAL_ICAC": "Local/State/ICAC",
    "MILITARY": "Military",
    "INTERNATIONAL": "International",
}
RELATIONSHIP_LABELS = {
    "PARENT_GUARDIAN": "Parent/Guardian",
    "OTHER_RELATIVE": "Other Relative",
    "NEIGHBOR_FAMILY_FRIEND": "Neighbor/Family Friend",
    "BABYSITTER_MENTOR_COACH": "Babysitter/Mentor/Coach",
    "GUARDIANS_PARTNER": "Guardian's Partner",
    "ONLINE_ENTICEMENT": "Online Enticement",
    "SELF_PRODUCTION": "Self-Production",
    "CHILD_SEX_TRAFFICKER": "Child Sex Trafficker",
    "UNKNOWN_TO_CHILD": "Unknown to Child",
}
INCIDENT_TYPES = set(common.INCIDENT_TYPES)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _reference(name: str) -> list[dict[str, str]]:
    return _read_csv(REFERENCE / f"{name}.csv")


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    raw = tmp_path_factory.mktemp("raw")
    messages: list[str] = []
    paths = write_demo_exports(YEAR, raw, scale=SCALE, seed=2020, progress=messages.append)
    assert paths == sorted(paths)
    assert len(messages) == 5  # the CLI's progress bar counts one call per file
    return {p.name: p for p in paths}


@pytest.fixture(scope="module")
def con(exports: dict[str, Path]) -> duckdb.DuckDBPyConnection:
    """A DuckDB session with the exports as views; `pop` = the population of YEAR (raw/README.md)."""
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    db.execute(f"""
        CREATE VIEW cases AS
        SELECT case_number, CAST(intake_date AS DATE) AS intake,
               CAST(NULLIF(resolved_date, '') AS DATE) AS resolved, case_type,
               CAST(NULLIF(age_at_missing, '') AS INTEGER) AS age,
               COALESCE(NULLIF(race, ''), 'U') AS race, race AS race_raw, missing_state
        FROM read_csv('{exports["cases.csv"]}', header = true, all_varchar = true,
                      nullstr = '\x01')
    """)
    db.execute(f"""
        CREATE VIEW pop AS
        SELECT *, CASE WHEN resolved <= DATE '{YEAR}-12-31' THEN 'resolved' ELSE 'active' END AS status
        FROM cases
        WHERE year(intake) = {YEAR} OR (intake < DATE '{YEAR}-01-01' AND year(resolved) = {YEAR})
    """)
    db.execute(f"CREATE VIEW ct AS SELECT * FROM '{exports['cybertipline_reports.parquet']}'")
    return db


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def test_files_headers_and_line_endings(exports: dict[str, Path]) -> None:
    assert set(exports) == {
        "cases.csv",
        "cybertipline_reports.parquet",
        "cvip_requests.csv",
        "cvip_offender_relationships.csv",
        "program_metrics.csv",
    }
    headers = {
        "cases.csv": "case_number,intake_date,resolved_date,case_type,age_at_missing,race,missing_state",
        "cvip_requests.csv": "request_id,received_date,agency_type,image_count,video_count",
        "cvip_offender_relationships.csv": "victim_id,relationship",
        "program_metrics.csv": "metric_id,period,value,since,source",
    }
    for name, header in headers.items():
        data = exports[name].read_bytes()
        assert b"\r" not in data, name
        text = data.decode("utf-8")
        assert text.split("\n", 1)[0] == header
        assert text.endswith("\n")
    leftovers = [p.name for p in exports["cases.csv"].parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


# ---------------------------------------------------------------------------------------------
# cases.csv
# ---------------------------------------------------------------------------------------------


def test_case_type_table_matches_reference(con: duckdb.DuckDBPyConnection) -> None:
    got = {
        CASE_TYPE_LABELS[t]: (a, r)
        for t, a, r in con.sql(
            "SELECT case_type, count(*) FILTER (status = 'active'), count(*) FILTER (status = 'resolved') "
            "FROM pop GROUP BY ALL"
        ).fetchall()
    }
    expected = {
        row["case_type"]: (int(row["active"]), int(row["resolved"]))
        for row in _reference("missing_children_by_case_type")
        if row["case_type"] != "Total"
    }
    assert got == expected
    total = next(r for r in _reference("missing_children_by_case_type") if r["case_type"] == "Total")
    assert con.sql("SELECT count(*) FROM pop").fetchall()[0][0] == int(total["total"])


def test_age_and_race_table_matches_reference(con: duckdb.DuckDBPyConnection) -> None:
    group_sql = """
        CASE WHEN age IS NULL THEN 'Unknown' WHEN age <= 2 THEN 'Less than 1 to 2'
             WHEN age <= 5 THEN '3 to 5' WHEN age <= 8 THEN '6 to 8' WHEN age <= 11 THEN '9 to 11'
             WHEN age <= 14 THEN '12 to 14' WHEN age <= 17 THEN '15 to 17' ELSE '18 to 20' END
    """
    got: dict[str, dict[str, int]] = {}
    for group, race, count in con.sql(f"SELECT {group_sql}, race, count(*) FROM pop GROUP BY ALL").fetchall():
        got.setdefault(group, {})[RACE_COLUMNS[race]] = count
    for row in _reference("missing_children_by_age_and_race"):
        if row["age_group"] == "Total":
            continue
        expected = {column: int(row[column]) for column in RACE_COLUMNS.values()}
        observed = {column: got.get(row["age_group"], {}).get(column, 0) for column in RACE_COLUMNS.values()}
        assert observed == expected, row["age_group"]


def test_state_table_matches_reference(con: duckdb.DuckDBPyConnection) -> None:
    def name(code: str) -> str:
        return "International" if code == "INTL" else pycountry.subdivisions.get(code=f"US-{code}").name

    got = {
        name(s): (a, r)
        for s, a, r in con.sql(
            "SELECT missing_state, count(*) FILTER (status = 'active'), count(*) FILTER (status = 'resolved') "
            "FROM pop GROUP BY ALL"
        ).fetchall()
    }
    for row in _reference("missing_children_by_state"):
        if row["missing_state"] == "Total":
            continue
        assert got.get(row["missing_state"], (0, 0)) == (int(row["active"]), int(row["resolved"])), row


def test_every_population_rule_is_exercised(con: duckdb.DuckDBPyConnection) -> None:
    y = YEAR
    counts = (
        con.sql(f"""
        SELECT
          count(*) FILTER (year(intake) < {y} AND year(resolved) = {y}) AS recovered_from_earlier,
          count(*) FILTER (year(intake) = {y} AND year(resolved) = {y + 1}) AS active_found_next_year,
          count(*) FILTER (intake = DATE '{y}-12-31' AND resolved = DATE '{y + 1}-01-02') AS dec31_jan2,
          count(*) FILTER (year(intake) = {y} AND resolved IS NULL) AS active_open,
          count(*) FILTER (year(intake) < {y} AND resolved IS NULL) AS excluded_still_open,
          count(*) FILTER (year(intake) = {y - 1} AND year(resolved) = {y - 1}) AS excluded_resolved_before,
          count(*) FILTER (year(intake) = {y - 1} AND year(resolved) = {y + 1}) AS excluded_resolved_after,
          count(*) FILTER (year(intake) = {y + 1}) AS excluded_opened_after,
          count(*) FILTER (resolved < intake) AS resolved_before_intake,
          count(*) - count(DISTINCT case_number) AS duplicate_numbers,
          count(*) FILTER (race_raw = 'U') AS race_u,
          count(*) FILTER (race_raw IS NULL OR race_raw = '') AS race_blank
        FROM cases
    """)
        .pl()
        .row(0, named=True)
    )
    for kind in (
        "recovered_from_earlier",
        "active_found_next_year",
        "dec31_jan2",
        "active_open",
        "excluded_still_open",
        "excluded_resolved_before",
        "excluded_resolved_after",
        "excluded_opened_after",
        "race_u",
        "race_blank",
    ):
        assert counts[kind] > 0, kind
    assert counts["resolved_before_intake"] == 0
    assert counts["duplicate_numbers"] == 0
    excluded = con.sql("SELECT (SELECT count(*) FROM cases) - (SELECT count(*) FROM pop)").fetchall()[0][0]
    assert 100 <= excluded <= 1000  # "a few hundred" rows outside the population
    # The January recoveries are Active for YEAR; recoveries in YEAR of earlier cases are Resolved.
    statuses = con.sql(f"""SELECT DISTINCT status FROM pop WHERE year(resolved) = {y + 1}""").fetchall()
    assert statuses == [("active",)]


def test_case_codes_and_ages_are_valid(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql("""
        SELECT
          count(*) FILTER (case_type NOT IN ('ERU', 'FA', 'LIOM', 'MYA', 'NFA')),
          count(*) FILTER (race NOT IN ('AI', 'AS', 'MR', 'BL', 'HI', 'PI', 'WH', 'U')),
          count(*) FILTER (age < 0 OR age > 20),
          count(*) FILTER (case_type = 'MYA' AND (age IS NULL OR age < 18)),
          count(*) FILTER (case_type = 'FA' AND age BETWEEN 0 AND 11),
          count(*) FILTER (case_type = 'FA'),
          count(*) FILTER (case_number NOT SIMILAR TO 'MC-[0-9]{4}-[0-9]{6}')
        FROM cases
    """).fetchall()[0]
    bad_type, bad_race, bad_age, mya_not_adult, fa_young, fa_all, bad_number = rows
    assert (bad_type, bad_race, bad_age, mya_not_adult, bad_number) == (0, 0, 0, 0, 0)
    assert fa_young > 0.6 * fa_all  # family abductions are mostly young children
    states = {s for (s,) in con.sql("SELECT DISTINCT missing_state FROM cases").fetchall()}
    assert states <= set(common.STATES)


# ---------------------------------------------------------------------------------------------
# CVIP
# ---------------------------------------------------------------------------------------------


def test_cvip_requests_match_reference(exports: dict[str, Path]) -> None:
    rows = _read_csv(exports["cvip_requests.csv"])
    got: dict[str, list[int]] = {}
    for row in rows:
        totals = got.setdefault(AGENCY_LABELS[row["agency_type"]], [0, 0, 0])
        totals[0] += 1
        totals[1] += int(row["image_count"])
        totals[2] += int(row["video_count"])
        assert row["received_date"].startswith(f"{YEAR}-")
    expected = {
        r["agency_type"]: [int(r["requests"]), int(r["images"]), int(r["videos"])]
        for r in _reference("cvip_requests_by_agency")
        if r["agency_type"] != "Grand Total"
    }
    assert got == expected
    assert len({r["request_id"] for r in rows}) == len(rows)
    images = sorted(int(r["image_count"]) for r in rows if r["agency_type"] == "FEDERAL")
    assert images[-1] > 10 * images[len(images) // 2]  # skewed: a few very large requests


def test_offender_relationships_match_reference(exports: dict[str, Path]) -> None:
    rows = _read_csv(exports["cvip_offender_relationships.csv"])
    counts: dict[str, int] = {}
    for row in rows:
        label = RELATIONSHIP_LABELS[row["relationship"]]
        counts[label] = counts.get(label, 0) + 1
    expected = {
        r["relationship"]: int(r["known_relationships"])
        for r in _reference("offender_relationship_actively_traded")
        if r["relationship"] != "Total"
    }
    assert counts == expected
    assert len({(r["victim_id"], r["relationship"]) for r in rows}) == len(rows)
    assert 2100 < len({r["victim_id"] for r in rows}) < 2200


# ---------------------------------------------------------------------------------------------
# program_metrics.csv
# ---------------------------------------------------------------------------------------------


def _catalog() -> dict[tuple[str, str], dict[str, str]]:
    return {(r["metric_id"], r["period"]): r for r in _read_csv(CATALOG)}


def test_program_metrics_reproduce_headline_figures(exports: dict[str, Path]) -> None:
    catalog = _catalog()
    metrics = {(r["metric_id"], r["period"]): r for r in _read_csv(exports["program_metrics.csv"])}
    assert all(not catalog[key]["computed_from"] for key in metrics), "a computed metric is in the file"
    for ref in _reference("headline_metrics"):
        key = (ref["metric_id"], ref["period"])
        if catalog[key]["computed_from"]:
            continue
        assert key in metrics, key
        if key == ("cybertipline_reports", "prior_year"):
            # Resized exports carry last year's resized report count (see pipelines/demo/program_metrics.py).
            assert int(metrics[key]["value"]) == cybertipline_plan(load_profile(2019), SCALE)["n"]
            continue
        if key == ("cybertipline_reports", "cumulative"):
            # ... and the cumulative count resized like the export.
            profiled = {(m["metric_id"], m["period"]): m["value"] for m in load_profile(YEAR)["program_metrics"]}
            assert int(metrics[key]["value"]) == math.floor(profiled[key] * SCALE + 0.5)
            continue
        value, bound = int(metrics[key]["value"]), int(ref["value"])
        step = int(catalog[key]["display_step"])
        truncated = value // step * step
        if ref["qualifier"] == "exact":
            assert value == bound, key
        elif ref["qualifier"] == "more_than":
            assert value > bound and truncated == bound, key
        else:
            assert truncated == bound, key
        assert metrics[key]["since"] == ref["since"], key
        assert metrics[key]["source"].strip(), key


# ---------------------------------------------------------------------------------------------
# cybertipline_reports.parquet (scaled)
# ---------------------------------------------------------------------------------------------


def test_scaled_cybertipline_is_consistent(con: duckdb.DuckDBPyConnection) -> None:
    types = dict(con.sql("SELECT column_name, column_type FROM (DESCRIBE ct)").fetchall())
    assert types == {
        "report_id": "BIGINT",
        "received_at": "TIMESTAMP WITH TIME ZONE",
        "reporter_type": "VARCHAR",
        "esp_name": "VARCHAR",
        "incident_type": "VARCHAR",
        "incident_country": "VARCHAR",
        "image_count": "INTEGER",
        "video_count": "INTEGER",
        "other_file_count": "INTEGER",
    }
    n = math.floor(FULL_REPORTS * SCALE + 0.5)
    summary = con.sql(f"""
        SELECT count(*), count(DISTINCT report_id),
          count(*) FILTER (reporter_type NOT IN ('ESP', 'PUBLIC')),
          count(*) FILTER ((reporter_type = 'ESP') <> (esp_name IS NOT NULL)),
          count(*) FILTER (received_at < TIMESTAMPTZ '{YEAR}-01-01 00:00:00+00'
                           OR received_at >= TIMESTAMPTZ '{YEAR + 1}-01-01 00:00:00+00'),
          count(*) FILTER (least(image_count, video_count, other_file_count) < 0),
          sum(image_count), sum(video_count), sum(other_file_count),
          count(*) FILTER (reporter_type = 'PUBLIC'),
          count(*) FILTER (incident_country IS NULL), count(*) FILTER (incident_country = 'XK')
        FROM ct
    """).fetchall()[0]
    (rows, ids, bad_reporter, bad_esp, outside_year, negative, images, videos, others, public, no_country, kosovo) = (
        summary
    )
    assert (rows, ids) == (n, n)
    assert (bad_reporter, bad_esp, outside_year, negative) == (0, 0, 0, 0)
    assert (images, videos, others) == (round(33_690_561 * SCALE), round(31_654_163 * SCALE), round(120_590 * SCALE))
    assert public == round(303_299 * SCALE)
    assert no_country > 0 and kosovo > 0
    assert [r[0] for r in con.sql("SELECT report_id FROM ct").fetchall()] == sorted(
        r[0] for r in con.sql("SELECT report_id FROM ct").fetchall()
    )
    countries = {
        c for (c,) in con.sql("SELECT DISTINCT incident_country FROM ct WHERE incident_country IS NOT NULL").fetchall()
    }
    assert countries <= {c.alpha_2 for c in pycountry.countries} | {"XK"}
    assert len(countries) > 200
    assert {t for (t,) in con.sql("SELECT DISTINCT incident_type FROM ct").fetchall()} == INCIDENT_TYPES


def test_scaled_cybertipline_keeps_every_category(con: duckdb.DuckDBPyConnection) -> None:
    esps = dict(con.sql("SELECT esp_name, count(*) FROM ct WHERE esp_name IS NOT NULL GROUP BY ALL").fetchall())
    named = [r["esp_name"] for r in _reference("cybertipline_reports_by_esp_partial")]
    assert all(esps.get(name, 0) >= 1 for name in named)
    others = {k: v for k, v in esps.items() if k not in named}
    assert len(others) >= 150
    assert any("," in name for name in others) and any('"' in name for name in others)


def test_sql_category_mapping_equals_the_plan(con: duckdb.DuckDBPyConnection) -> None:
    """The nested-CASE search in DuckDB gives exactly the planned count of every category."""
    plan = cybertipline_plan(load_profile(YEAR), SCALE)
    sources = dict(con.sql("SELECT esp_name, count(*) FROM ct GROUP BY ALL").fetchall())
    assert sources == {name: count for name, count in plan["sources"] if count}
    incidents = dict(con.sql("SELECT incident_type, count(*) FROM ct GROUP BY ALL").fetchall())
    assert incidents == {code: count for code, count in plan["incident_types"] if count}
    countries = dict(con.sql("SELECT incident_country, count(*) FROM ct GROUP BY ALL").fetchall())
    assert countries == {code: count for code, count in plan["countries"] if count}


def test_full_size_plan_has_the_published_counts() -> None:
    plan = cybertipline_plan(load_profile(YEAR), 1.0)
    assert plan["n"] == FULL_REPORTS
    sources = dict(plan["sources"])
    assert sources[None] == 303_299
    assert sum(c for name, c in plan["sources"] if name is not None) == 21_447_786
    profile = tomllib.loads((PROFILES_DIR / "2020.toml").read_text(encoding="utf-8"))
    named = profile["cybertipline"]["named_esps"]
    assert all(sources[name] == count for name, count in named.items())
    others = [c for name, c in plan["sources"] if name is not None and name not in named]
    assert len(others) >= 150 and sum(others) == 231_747
    assert max(others) < min(named.values()) and min(others) >= 1
    assert sum(c for _, c in plan["countries"]) == FULL_REPORTS
    assert plan["files"] == {"image_count": 33_690_561, "video_count": 31_654_163, "other_file_count": 120_590}


def test_realistic_export_has_the_same_tables_in_no_order(exports: dict[str, Path], tmp_path: Path) -> None:
    """The realistic export (the default above full size) holds the same categories and file
    totals as the tidy one, with unique report ids that are neither consecutive nor sorted and
    random times within the year; it is as reproducible as the tidy one."""
    path = tmp_path / str(YEAR) / "cybertipline_reports.parquet"
    write_demo_exports(YEAR, tmp_path, scale=SCALE, realistic=True)
    tables = (
        "SELECT reporter_type, esp_name, incident_type, incident_country, count(*), "
        "sum(image_count), sum(video_count), sum(other_file_count) FROM '{}' GROUP BY ALL ORDER BY ALL"
    )
    assert duckdb.sql(tables.format(path)).fetchall() == duckdb.sql(tables.format(exports[path.name])).fetchall()
    rows, ids, sorted_ids, steps_of_one, outside_year, days = duckdb.sql(f"""
        SELECT count(*), count(DISTINCT report_id),
               count(*) FILTER (id_step > 0), count(*) FILTER (id_step = 1),
               count(*) FILTER (received_at < TIMESTAMPTZ '{YEAR}-01-01 00:00:00+00'
                                OR received_at >= TIMESTAMPTZ '{YEAR + 1}-01-01 00:00:00+00'),
               count(DISTINCT received_at::DATE)
        FROM (SELECT *, report_id - lag(report_id) OVER () AS id_step FROM '{path}')
    """).fetchall()[0]
    assert ids == rows == math.floor(FULL_REPORTS * SCALE + 0.5)
    assert 0.3 * rows < sorted_ids < 0.7 * rows  # ids in no order...
    assert steps_of_one < 0.01 * rows  # ...and not consecutive
    assert outside_year == 0 and days > 350
    write_demo_exports(YEAR, tmp_path / "again", scale=SCALE, realistic=True)
    assert (tmp_path / "again" / str(YEAR) / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize("scale", [0.001, 4.5, 10.0, 100.0])
def test_resized_cybertipline_figures_keep_the_products_rules(scale: float, tmp_path: Path) -> None:
    """Without releases beside them, at any one scale, each demo year's cumulative CyberTipline
    count is at least its yearly count and last year's cumulative count, and its prior-year count
    is last year's yearly count: the product's own checks (second computation, previous year)
    accept every year, in any order (tests/demo/test_neighbours.py: beside releases)."""
    figures = {}
    for year in available_years():
        path = tmp_path / f"{year}.csv"
        program_metrics_export.write(path, program_metrics_export.rows(load_profile(year), year, scale))
        metrics = {(r["metric_id"], r["period"]): int(r["value"]) for r in _read_csv(path)}
        figures[year] = (
            cybertipline_plan(load_profile(year), scale)["n"],
            metrics[("cybertipline_reports", "cumulative")],
            metrics[("cybertipline_reports", "prior_year")],
        )
    for year, (reports, cumulative, prior_year) in figures.items():
        assert cumulative >= reports, (year, scale)
        if year - 1 in figures:
            assert cumulative >= figures[year - 1][1], (year, scale)
            assert prior_year == figures[year - 1][0], (year, scale)


# ---------------------------------------------------------------------------------------------
# Determinism, errors, atomic writes
# ---------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(exports: dict[str, Path], tmp_path: Path) -> None:
    again = write_demo_exports(YEAR, tmp_path, scale=SCALE, seed=2020)
    for path in again:
        assert path.read_bytes() == exports[path.name].read_bytes(), path.name


def test_other_seed_changes_rows_not_tables(exports: dict[str, Path], tmp_path: Path) -> None:
    other = {p.name: p for p in write_demo_exports(YEAR, tmp_path, scale=SCALE, seed=7)}
    assert other["cases.csv"].read_bytes() != exports["cases.csv"].read_bytes()
    assert other["cybertipline_reports.parquet"].read_bytes() != exports["cybertipline_reports.parquet"].read_bytes()
    query = "SELECT esp_name, incident_type, count(*) FROM '{}' GROUP BY ALL ORDER BY ALL"
    a = duckdb.sql(query.format(exports["cybertipline_reports.parquet"])).fetchall()
    b = duckdb.sql(query.format(other["cybertipline_reports.parquet"])).fetchall()
    assert a != b  # attributes are combined differently...
    margin = "SELECT esp_name, count(*) FROM '{}' GROUP BY ALL ORDER BY ALL"
    assert (
        duckdb.sql(margin.format(exports["cybertipline_reports.parquet"])).fetchall()
        == duckdb.sql(margin.format(other["cybertipline_reports.parquet"])).fetchall()
    )  # ...marginals fixed


def test_unknown_year_and_bad_scale_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no demo-data profile for year 1990"):
        write_demo_exports(1990, tmp_path)
    with pytest.raises(ValueError, match="scale"):
        write_demo_exports(YEAR, tmp_path, scale=0)
    assert not (tmp_path / "1990").exists()


def test_failed_write_leaves_previous_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / str(YEAR) / "cybertipline_reports.parquet"
    target.parent.mkdir()
    target.write_bytes(b"previous")
    (target.parent / COMPLETE_MARKER).touch()  # a complete year, being written again

    def broken(profile, year, scale, seed, path, realistic):
        path.write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(cybertipline, "write", broken)
    with pytest.raises(RuntimeError):
        write_demo_exports(YEAR, tmp_path, scale=SCALE)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []
    assert not (target.parent / COMPLETE_MARKER).exists()  # no longer complete


def test_the_complete_marker_is_written_after_the_last_export(exports: dict[str, Path]) -> None:
    marker = exports["cases.csv"].parent / COMPLETE_MARKER
    assert all(marker.stat().st_mtime_ns >= path.stat().st_mtime_ns for path in exports.values())


# ---------------------------------------------------------------------------------------------
# Codes from the seeds
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "changed", "message"),
    [
        (
            "ERU = [2042, 25030]",
            "ERX = [2042, 25030]",
            r"\[cases.status_by_case_type\] has codes \['ERX'\] that sql/seeds/case_types.csv does not have "
            r"and no entry for the codes \['ERU'\] of sql/seeds/case_types.csv",
        ),
        ('"0-2" = [', '"0-3" = [', r"\[cases.race_by_age_group\] has codes \['0-3'\] that sql/seeds/age_groups.csv"),
        ("INTL = [23, 10]", "XX = [23, 10]", r"\[cases.status_by_state\] has codes \['XX'\] that the states of"),
        ("MILITARY = [113,", "NAVY = [113,", r"\[cvip.requests_by_agency\] has codes \['NAVY'\] that sql/seeds/agency"),
        (
            "SELF_PRODUCTION = 230",
            "SELFIE = 230",
            r"\[cvip.relationships.counts\] has codes \['SELFIE'\] that sql",
        ),
        (
            "CHILD_SEX_TOURISM = 955",
            "SEX_TOURISM = 955",
            r"\[cybertipline.incident_types\] has codes \['SEX_TOURISM'\] ",
        ),
        ("XK = 4000", "XX = 4000", r"\[cybertipline.countries.weights\] has codes \['XX'\] that pycountry"),
        (
            'metric_id = "hotline_calls"',
            'metric_id = "hotline_minutes"',
            r"program metric \('hotline_minutes', 'cumulative'\) is not in sql/seeds/metric_catalog.csv",
        ),
        (
            'metric_id = "cybertipline_reports"\nperiod = "prior_year"',
            'metric_id = "cybertipline_reports"\nperiod = "year"',
            r"program metric \('cybertipline_reports', 'year'\) is computed by the pipeline",
        ),
    ],
)
def test_profile_codes_must_be_the_seeds(
    line: str, changed: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile naming a code that ``sql/seeds/`` (or pycountry) does not have fails in one
    line that names the section, the code and where the codes come from; nothing is written."""
    text = (PROFILES_DIR / f"{YEAR}.toml").read_text(encoding="utf-8")
    assert text.count(line) == 1, line
    (tmp_path / f"{YEAR}.toml").write_text(text.replace(line, changed), encoding="utf-8")
    monkeypatch.setattr(profiles, "PROFILES_DIR", tmp_path)
    with pytest.raises(ValueError, match=f"^demo profile {YEAR}.toml: {message}") as raised:
        write_demo_exports(YEAR, tmp_path / "raw", scale=SCALE)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "raw").exists()


def test_generator_tables_must_be_the_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator's own tables per code (age preferences per case type, file-count curves per
    file type, the reporter types it writes) fail clearly when the seeds no longer match them."""
    profile = load_profile(YEAR)
    with monkeypatch.context() as patch:
        patch.setattr(cases, "CASE_TYPES", (*common.CASE_TYPES, "NEW"))
        with pytest.raises(ValueError, match=r"age preferences .* no entry for the codes \['NEW'\] of sql/seeds/case"):
            cases.case_type_by_age_group(profile)
    with monkeypatch.context() as patch:
        patch.setattr(cases, "AGE_GROUPS", {k: v for k, v in common.AGE_GROUPS.items() if k != "18-20"})
        with pytest.raises(ValueError, match=r"age groups \['18-20'\] that sql/seeds/age_groups.csv does not have"):
            cases.case_type_by_age_group(profile)
    with monkeypatch.context() as patch:
        patch.setattr(cybertipline, "FILE_TYPES", (*common.FILE_TYPES, "audio_count"))
        with pytest.raises(ValueError, match=r"file types .* no entry for the codes \['audio_count'\] of sql/seeds"):
            cybertipline_plan(profile, SCALE)
    with pytest.raises(ValueError, match=r"sql/seeds/reporter_types\.csv has no code 'BOT'"):
        common.seed_code("reporter_types", "BOT")


# ---------------------------------------------------------------------------------------------
# Profiles across years
# ---------------------------------------------------------------------------------------------


def _yearly_figure(profile: dict, metric: str) -> int | None:
    """The `year` figure of a metric: from program metrics, or computed from the profile."""
    if metric == "cybertipline_reports":
        return sum(profile["cybertipline"]["incident_types"].values())
    for item in profile.get("program_metrics", []):
        if item["metric_id"] == metric and item["period"] == "year":
            return item["value"]
    return None


def test_profiles_are_consistent_across_years() -> None:
    years = available_years()
    assert years == [2019, 2020, 2021, 2022, 2023]
    profiles = {y: load_profile(y) for y in years}
    for year, profile in profiles.items():
        cases.case_type_by_age_group(profile)  # the case tables can be joined
        cybertipline_plan(profile)  # the other ESPs fit below the named ones
        if year != 2020:
            assert "SYNTHETIC" in profile["description"]
        metrics = {(m["metric_id"], m["period"]): m["value"] for m in profile["program_metrics"]}
        for (metric, period), value in metrics.items():
            if period == "cumulative":
                yearly = _yearly_figure(profile, metric)
                assert yearly is None or value >= yearly, (year, metric)
                previous = profiles.get(year - 1)
                if previous is not None:
                    before = {(m["metric_id"], m["period"]): m["value"] for m in previous["program_metrics"]}
                    if (metric, period) in before:
                        assert value >= before[(metric, period)], (year, metric)
            if period == "prior_year" and year - 1 in profiles:
                assert value == _yearly_figure(profiles[year - 1], metric), (year, metric)
        if year - 1 in profiles:
            assert (
                profile["cvip"]["relationships"]["distinct_victims"]
                >= profiles[year - 1]["cvip"]["relationships"]["distinct_victims"]
            )
    p2019 = profiles[2019]["cybertipline"]
    assert sum(p2019["incident_types"].values()) == 16_987_361
    assert (p2019["public_reports"], p2019["images"], p2019["videos"], p2019["other_files"]) == (
        150_667,
        27_788_328,
        41_280_816,
        89_053,
    )
    assert _yearly_figure(profiles[2019], "ncic_missing_child_entries") == 421_394
    assert sum(profiles[2021]["cybertipline"]["incident_types"].values()) == 29_397_681
    assert sum(profiles[2022]["cybertipline"]["incident_types"].values()) == 32_059_029
    assert 2100 < profiles[2020]["cvip"]["relationships"]["distinct_victims"] < 2200


# ---------------------------------------------------------------------------------------------
# apportion
# ---------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=40),
    st.integers(min_value=0, max_value=10**6),
)
def test_apportion_is_exact(weights: list[int], total: int) -> None:
    if sum(weights) == 0:
        total = 0
    counts = apportion(weights, total)
    assert sum(counts) == total and all(c >= 0 for c in counts)
    assert all(c == 0 for w, c in zip(weights, counts) if w == 0)
    positive = sum(1 for w in weights if w > 0)
    if total >= positive:
        assert all(c >= 1 for w, c in zip(weights, counts) if w > 0)
    assert apportion(weights, sum(weights)) == weights


def test_the_generator_marks_what_it_writes(exports: dict[str, Path]) -> None:
    """raw/<year>/demo-exports.json holds the SHA-256 of each of the five files: what makes a
    release of them say it is synthetic (tests/accepting/test_demo_mark.py)."""
    folder = exports["cases.csv"].parent
    recorded = json.loads((folder / DEMO_MARKER).read_text(encoding="utf-8"))
    assert recorded["generator"] == "impact demo-data"
    assert recorded["sha256"] == {name: sha256_file(path) for name, path in sorted(exports.items())}
