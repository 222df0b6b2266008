"""Demo years beside published ones: the figures of program_metrics.csv that look back a year follow
last year's release, and what no derivation can fix is said in one line before writing
(pipelines/demo/neighbours.py). Most tests work on the figures alone (``expected``, what the
exports will hold, which one test proves against the SQL models on written exports) with the
product's own year-over-year rules; README.md's tables of which combinations publish are checked
here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines.core.config import REPO_ROOT
from pipelines.core.year_over_year import inconsistent, load_previous_export_rows, outside_band
from pipelines.demo import available_years, cybertipline_plan, load_profile, write_demo_exports
from pipelines.demo import program_metrics as program_metrics_export
from pipelines.demo.neighbours import YearFigures, expected, released, violations, warnings
from tests.harness import build_tables, publish_year

BAND = 0.5
PAIRS = [(year - 1, year) for year in available_years() if year - 1 in available_years()]


def demo_year(year: int, scale: float, previous: YearFigures | None = None) -> YearFigures:
    """The figures of ``year``'s demo exports at ``scale``, written beside ``previous``."""
    profile = load_profile(year)
    return expected(profile, year, scale, program_metrics_export.rows(profile, year, scale, previous))


def metrics(year: int, scale: float, previous: YearFigures | None = None) -> dict[tuple[str, str], int]:
    rows = program_metrics_export.rows(load_profile(year), year, scale, previous)
    return {(metric, period): value for metric, period, value, _since, _source in rows}


# --------------------------------------------------------------------------------------------
# program_metrics.csv beside last year's release


def test_beside_last_years_release_the_figures_that_look_back_follow_it() -> None:
    """Prior-year figures are last year's published yearly ones; cumulative figures last year's
    published ones plus the year's growth: the export's own CyberTipline reports, the profile's
    growth for the others; a figure the release lacks stays the profile's."""
    release = YearFigures(
        2020,
        {
            ("cybertipline_reports", "year"): 1_234,
            ("cybertipline_reports", "cumulative"): 50_000,
            ("ncic_missing_child_entries", "year"): 999,
            ("hotline_calls", "cumulative"): 6_000_000,
        },
        {},
    )
    figures = metrics(2021, 0.001, release)
    alone = metrics(2021, 0.001)
    profile_2020, profile_2021 = metrics(2020, 1.0), metrics(2021, 1.0)

    assert figures[("cybertipline_reports", "prior_year")] == 1_234
    assert figures[("cybertipline_reports", "cumulative")] == 50_000 + cybertipline_plan(load_profile(2021), 0.001)["n"]
    assert figures[("ncic_missing_child_entries", "prior_year")] == 999
    growth = profile_2021[("hotline_calls", "cumulative")] - profile_2020[("hotline_calls", "cumulative")]
    assert growth > 0 and figures[("hotline_calls", "cumulative")] == 6_000_000 + growth
    assert figures[("age_progressions", "cumulative")] == alone[("age_progressions", "cumulative")]
    assert {key for key in figures if figures[key] != alone[key]} == {
        ("cybertipline_reports", "prior_year"),
        ("cybertipline_reports", "cumulative"),
        ("ncic_missing_child_entries", "prior_year"),
        ("hotline_calls", "cumulative"),
    }


@pytest.mark.parametrize(("earlier", "year"), PAIRS)
def test_at_full_size_beside_the_demo_release_the_profiles_figures_come_back(earlier: int, year: int) -> None:
    """``make demo`` and the years after it write the same bytes with or without the release
    beside them: the profiles' prior-year and cumulative figures agree with each other."""
    assert metrics(year, 1.0, demo_year(earlier, 1.0)) == metrics(year, 1.0)


@pytest.mark.parametrize("scale", [0.00001, 0.001, 1.0, 10.0])
@pytest.mark.parametrize(("earlier", "year"), PAIRS)
def test_adjacent_demo_years_at_one_scale_publish_in_either_order(earlier: int, year: int, scale: float) -> None:
    """In order: the later year written beside the earlier one's release breaks no rule. The
    other way: the earlier year written after the later one was published alone gives no line."""
    before = demo_year(earlier, scale)
    assert violations(demo_year(year, scale, before), before, BAND) == ([], [])
    assert warnings(before, scale, None, demo_year(year, scale), BAND) == []


# --------------------------------------------------------------------------------------------
# What cannot be fixed: one line


def test_a_scale_far_from_last_years_release_gets_one_line_naming_what_to_acknowledge() -> None:
    before = demo_year(2020, 1.0)
    [line] = warnings(demo_year(2021, 0.01, before), 0.01, before, None, BAND)

    assert "\n" not in line
    assert line.startswith("2021 at scale 0.01 moves outside ±50% of the published 2020 (cybertipline_files/year ")
    assert "cybertipline_reports.parquet 293,977 in 2021 against 21,751,085 in 2020" in line
    assert (
        "impact run publishes it only with --acknowledge-change cybertipline_files/year --acknowledge-change "
        "cybertipline_reports.parquet --acknowledge-change cybertipline_reports/year;" in line
    )
    assert line.endswith("(its release is its profile at scale 1: 21,751,085 CyberTipline reports)")
    # The consistency rules, which cannot be acknowledged, hold.
    assert violations(demo_year(2021, 0.01, before), before, BAND)[0] == []


def test_a_release_of_next_year_made_beside_another_year_gets_one_line() -> None:
    """2021 was published first at scale 0.001, without a 2020 release; 2020 written at scale
    0.01 then disagrees with 2021's prior-year and cumulative figures: 2021 run again would be
    refused."""
    after = demo_year(2021, 0.001)
    [line] = warnings(demo_year(2020, 0.01), 0.01, None, after, BAND)

    assert line.startswith(
        "the published 2021 was made beside another 2020 (cybertipline_reports/cumulative 125,811 in 2021 "
        "against 964,128 in 2020; cybertipline_reports/prior_year 21,751 in 2021 against 217,511 in 2020; "
    )
    assert line.endswith(
        "once 2020 is published from these exports, 2021 no longer publishes from its own; "
        "run impact demo-data --year 2021 again after publishing 2020"
    )


@pytest.fixture(scope="module")
def published_2020(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release folder holding 2020's demo exports at scale 0.001, published (the tests below
    only read it)."""
    root = tmp_path_factory.mktemp("published_2020")
    write_demo_exports(2020, root / "raw", scale=0.001)
    publish_year(root / "raw", root / "published", 2020)
    return root / "published"


def test_the_line_comes_before_any_file_is_written(tmp_path: Path, published_2020: Path) -> None:
    """``write_demo_exports`` reads both neighbours in the release folder and warns first."""
    published = published_2020
    seen: list[tuple[str, bool]] = []
    raw = tmp_path / "raw"

    write_demo_exports(
        2021, raw, scale=0.00001, published_root=published, warn=lambda line: seen.append((line, raw.exists()))
    )
    write_demo_exports(2019, raw, scale=0.00001, published_root=published, warn=seen.append)

    assert [(line[:60], exists) for line, exists in seen[:1]] == [
        ("2021 at scale 1e-05 moves outside ±50% of the published 2020", False)
    ]
    assert len(seen) == 2 and seen[1].startswith("the published 2020 was made beside another 2019 (")


# --------------------------------------------------------------------------------------------
# The figures are what the pipeline computes


def test_expected_figures_are_what_the_sql_models_compute_and_the_rules_agree(
    tmp_path: Path, published_2020: Path
) -> None:
    """2020 at scale 0.001 published; 2021 written beside it at 0.00001: the headline figures
    and row counts of 2021's warehouse are ``expected``'s, ``released`` reads 2020's back, and
    the year-over-year rules on the warehouse give the rows ``violations`` gives."""
    published = published_2020
    release = released(published, 2020)
    write_demo_exports(2021, tmp_path / "raw", scale=0.00001, published_root=published)

    with duckdb.connect() as con:
        build_tables(con, tmp_path / "raw" / "2021", published / "2020")
        load_previous_export_rows(con, release.export_rows)
        rules = (inconsistent(con), outside_band(con, BAND))
        program = con.sql("SELECT metric_id, period, value FROM stg_program_metrics").fetchall()
        computed = con.sql(
            "SELECT metric_id, period, value FROM headline_metrics WHERE source LIKE 'Computed%'"
        ).fetchall()
        rows = dict(con.sql("SELECT file_name, rows FROM ingest_log").fetchall())

    this = demo_year(2021, 0.00001, release)
    assert {(m, p): v for m, p, v in program + computed} == this.headline
    assert rows == this.export_rows
    assert release == demo_year(2020, 0.001)
    assert rules == violations(this, release, BAND)
    assert rules[0] == [] and [figure for figure, *_ in rules[1]] == [
        "cybertipline_files/year",
        "cybertipline_reports.parquet",
        "cybertipline_reports/year",
    ]


# --------------------------------------------------------------------------------------------
# README.md


README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_names_the_ratios_of_scales_that_publish() -> None:
    """Each pair's range of b/a in README.md: its bounds publish beside a release at scale
    0.01, two hundredths further do not."""
    ranges = re.findall(r"^\| (\d{4}), (\d{4}) \| ([\d.]+) to ([\d.]+) \|$", README, re.M)
    assert [(int(a), int(b)) for a, b, _, _ in ranges] == PAIRS
    for earlier, year, low, high in ranges:
        before = demo_year(int(earlier), 0.01)
        for ratio, publishes in ((float(low), True), (float(high), True), (float(low) - 0.02, False)):
            scale = round(0.01 * ratio, 6)
            assert (violations(demo_year(int(year), scale, before), before, BAND)[1] == []) is publishes, (
                earlier,
                ratio,
            )
        scale = round(0.01 * (float(high) + 0.02), 6)
        assert violations(demo_year(int(year), scale, before), before, BAND)[1] != []


def test_the_readme_example_line_is_the_generators() -> None:
    before = demo_year(2020, 1.0)
    [line] = warnings(demo_year(2021, 0.01, before), 0.01, before, None, BAND)
    assert f"\nimpact demo-data: {line}\n" in README
