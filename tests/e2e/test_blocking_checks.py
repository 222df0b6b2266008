"""The published tables' checks gate the release: a check that fails leaves its table
unmaterialized, fails its step and the run, and skips the release, so nothing is published; the
failure names the table, the row, the column and the values (the rules themselves are tested without Dagster in
tests/accepting/ and tests/proving/). The public copy's audit does not: when it fails (severity WARN), the
exact tables are published without the public copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.core.config import Folders
from pipelines.definitions import build_definitions, build_resources
from pipelines.defs.proving.assets import PUBLISHED_STEP
from pipelines.public_copy import tables as public_copy_tables
from pipelines.public_copy.suppression import naive_pattern
from pipelines.public_copy.tables import UNSAFE_PATTERN
from pipelines.runner import run_year
from pipelines.tables import specs
from tests.e2e.test_sensors import Sensor, touch_marker
from tests.exports import report
from tests.proving.test_published_invariants import CO, tiny_exports
from tests.proving.test_second_computation import WRONG_RULES, YEAR, exports, use_wrong_rule
from tests.publishing.test_public_use import exports as small_counts


def test_a_wrong_business_rule_fails_second_computation_and_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance
) -> None:
    _, sql_file, right, wrong, fragments = WRONG_RULES[0]  # status as of December 1
    use_wrong_rule(monkeypatch, tmp_path / "sql", sql_file, right, wrong)
    exports().write(tmp_path / "raw")

    folders = Folders(str(tmp_path / "raw"), str(tmp_path / "published"), str(tmp_path / "warehouse"))
    outcome = run_year(YEAR, folders, instance, log_level="WARNING")

    assert not outcome.success
    assert not (tmp_path / "published" / str(YEAR)).exists()
    text = "\n".join(outcome.failures)
    assert ":second_computation failed" in text
    assert ":schema_and_totals failed" not in text  # the tables still add up
    for fragment in fragments:
        assert fragment in text, text
    # Refused at a table check by `impact run`: the sensor does not run that content again.
    touch_marker(tmp_path / "raw" / str(YEAR))
    tick = Sensor(folders, instance).tick()
    assert not tick.run_requests
    assert f"{YEAR}: these exports already have a run, run " in tick.skip_message
    assert "of yearly_release (failure)" in tick.skip_message


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def test_every_published_table_has_its_schema_and_its_second_computation_checked() -> None:
    checks = {
        (check.asset_key.to_user_string(), check.name)
        for definition in build_definitions().assets
        for check in definition.check_specs
        if check.asset_key.to_user_string() in specs()
    }
    assert {table for table, name in checks if name == "schema_and_totals"} == set(specs())
    assert {table for table, name in checks if name == "second_computation"} == set(specs())


def test_a_failing_check_blocks_the_release_and_names_table_column_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A country code outside the catalog is counted in the Total but in no row."""
    import pipelines.defs.accepting.assets

    exports = tiny_exports()
    exports.reports.append(report(8, esp_name="Gamma", country="ZZ"))
    exports.write(tmp_path / "raw")
    folders = Folders(str(tmp_path / "raw"), str(tmp_path / "published"), str(tmp_path / "warehouse"))
    # Without the raw exports' contract (evaluated in their step), which would stop the unknown code first.
    monkeypatch.setattr(
        pipelines.defs.accepting.assets,
        "export_contract",
        lambda con, export, *_: dg.AssetCheckResult(asset_key=export.table, check_name="export_contract", passed=True),
    )
    result = dg.materialize(
        build_definitions().assets,
        partition_key=str(YEAR),
        resources=build_resources(folders),
        raise_on_error=False,
    )
    found = evaluations(result)
    failed = found[(CO, "schema_and_totals")]
    assert not failed.passed
    assert failed.description == "1 invariant(s) broken, nothing is published:"
    assert failed.metadata["failure"].value == (
        "cybertipline_reports_by_country: column reports: the category rows do not add up to the Total row "
        "in row(s) 'Total' (category rows sum to 7 but the Total row says 8) (rule: column totals)"
    )
    # The table is not materialized for the year, the other tables of its step are, the step
    # fails with the check's line, what reads the tables never starts and the run fails, red
    # (pipelines/defs/gate.py).
    assert not (tmp_path / "published" / str(YEAR)).exists()
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert CO not in materialized and "missing_children_by_state" in materialized
    [failure] = result.get_step_failure_events()
    assert failure.step_key == PUBLISHED_STEP
    assert failure.step_failure_data.user_failure_data.description == (
        f"check {CO}:schema_and_totals failed: " + failed.metadata["failure"].value
    )
    started = {e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert PUBLISHED_STEP in started and not started & {"public_use_tables", "release"}
    assert not result.success


@pytest.mark.guard("schema_and_totals")
def test_no_table_is_built_from_a_refused_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The published tables share one step: a refused table is not materialized, nor is any table
    built from it (the reports by country, ESP and incident type and the headline figures read the
    reports by source), while the tables independent of it are; the step fails with the refused
    table's line alone."""
    import pipelines.defs.proving.assets as proving

    source = "cybertipline_reports_by_source"
    schema_and_totals = proving.schema_and_totals

    def refusing(con, table, year):
        found = schema_and_totals(con, table, year)
        if table != source:
            return found
        return found._replace(passed=False, metadata={"failure": dg.MetadataValue.text(f"{source}: broken")})

    monkeypatch.setattr(proving, "schema_and_totals", refusing)
    tiny_exports().write(tmp_path / "raw")
    folders = Folders(str(tmp_path / "raw"), str(tmp_path / "published"), str(tmp_path / "warehouse"))
    result = dg.materialize(
        build_definitions().assets, partition_key=str(YEAR), resources=build_resources(folders), raise_on_error=False
    )
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    built_from_source = {
        source,
        "cybertipline_reports_by_country",
        "cybertipline_reports_by_esp",
        "cybertipline_reports_by_incident_type",
        "headline_metrics",
    }
    assert not materialized & built_from_source
    assert set(specs()) - built_from_source <= materialized
    assert {table for table, _ in evaluations(result)} & built_from_source == {source}
    [failure] = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description == (
        f"check {source}:schema_and_totals failed: {source}: broken"
    )
    assert not (tmp_path / "published" / str(YEAR)).exists()


def test_a_leaking_pattern_withholds_the_public_copy_and_the_exact_tables_are_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance
) -> None:
    """Primary suppression alone: the audit finds a derivable cell in the suppressor's own
    pattern, a product error. The public copy never blocks the exact release: the check fails
    with severity WARN and says it is a product error, public_use_tables is materialized saying
    withheld, the exact tables are published without public/, the run succeeds and its line
    says why, and alerts.jsonl gets one line."""
    monkeypatch.setattr(
        public_copy_tables,
        "suppress",
        lambda model, k, revision=None: public_copy_tables.Pattern(naive_pattern(model, k), 0, 0, 0.0),
    )
    small_counts().write(tmp_path / "raw")
    folders = Folders(str(tmp_path / "raw"), str(tmp_path / "pub"), str(tmp_path / "wh"))
    outcome = run_year(YEAR, folders, instance)
    assert outcome.success and not outcome.failures
    # How many more cells the audit names depends on the children tables (a new one adds some).
    named = re.search(
        r"\(new; public copy withheld: (missing_children_by_age_and_race, 3 to 5, asian and \d+ more)\)$",
        outcome.publication,
    )
    assert named, outcome.publication
    release = tmp_path / "pub" / str(YEAR)
    assert (release / "missing_children_by_state.csv").is_file() and not (release / "public").exists()
    public = json.loads((release / "manifest.json").read_text())["public"]
    assert (public["status"], public["reason"], public["current"]) == ("withheld", UNSAFE_PATTERN, None)
    run = instance.get_runs(limit=1)[0]
    events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event is not None]
    audit = next(
        e.event_specific_data
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.event_specific_data.check_name == "disclosure_audit"
    )
    assert not audit.passed and audit.severity == dg.AssetCheckSeverity.WARN
    assert "product error" in audit.description
    materialized = {
        e.event_specific_data.materialization.asset_key.to_user_string(): e
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    assert (
        materialized["public_use_tables"].event_specific_data.materialization.metadata["public_copy"].value
        == "withheld"
    )
    assert materialized["release"].event_specific_data.materialization.metadata["public_copy"].value == "withheld"
    lines = (tmp_path / "wh" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line)["problems"] for line in lines] == [
        [
            f"year {YEAR}: published, public copy withheld: {named[1]}; the year's current public copy: none: "
            "the year has no public copy"
        ]
    ]


def test_a_broken_second_computation_is_a_product_error_that_quotes_no_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exports passed their contract before the second computation reads them, so a polars
    error there is a bug (exit 2), not bad input; its message may quote a value and is dropped."""
    import duckdb

    from pipelines.defs.proving import second_computation as check
    from pipelines.tables.raw_year import raw_year
    from tests.harness import build_tables

    exports().write(tmp_path / "raw")
    year_dir = tmp_path / "raw" / str(YEAR)

    def broken(*_):
        raise pl.exceptions.ColumnNotFoundError("Q7SECRET")

    monkeypatch.setattr(check, "compare", broken)
    with duckdb.connect() as con:
        build_tables(con, year_dir, None)
        with pytest.raises(check.SecondComputationError) as raised:
            check.second_computation(con, "missing_children_by_state", raw_year(year_dir, YEAR, None))
    assert str(raised.value) == "missing_children_by_state: the second computation failed (ColumnNotFoundError)"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.guard("exports_accepted")
def test_a_publishing_run_of_exports_not_accepted_fails_at_its_first_step(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """The publishing job launched by hand (the UI) for exports no accepting run accepted, or over
    a warehouse holding another file than the accepted one, fails in ``accepted_exports``, its
    first step, naming each export; no table is built."""
    import duckdb

    from pipelines.accepting.ingest import ingest
    from pipelines.core.contract import CASES
    from pipelines.core.files import sha256_file
    from pipelines.defs.jobs import EXPORTS_TAG, accepting_job, content_key, publishing_job
    from pipelines.runner import job_for
    from tests.exports import YearExports, case

    folders = Folders(str(tmp_path / "raw"), str(tmp_path / "published"), str(tmp_path / "warehouse"))
    for year in (2020, 2021):
        YearExports.small(year).write(tmp_path / "raw")
    accepted = job_for(folders, accepting_job.name).execute_in_process(partition_key="2020", instance=instance)
    accepted_hashes = {p.name: sha256_file(p) for p in (tmp_path / "raw" / "2020").iterdir()}
    corrected = YearExports.small(2020)
    corrected.cases.append(case("C3", "2020-05-01"))
    corrected.write(tmp_path / "raw")  # valid, but never accepted: ingested behind the runs' back
    with duckdb.connect(str(tmp_path / "warehouse" / "2020.duckdb")) as con:
        ingest(con, CASES, tmp_path / "raw" / "2020")

    publishing = job_for(folders, publishing_job.name)
    for year, expected in (
        ("2020", "not published: cases.csv: the warehouse of 2020 does not hold the accepted export (SHA-256 differs)"),
        ("2021", "not published: cases.csv: not accepted for 2021 (its latest export_contract check: never checked)"),
    ):
        result = publishing.execute_in_process(partition_key=year, instance=instance, raise_on_error=False)
        assert not result.success
        [failure] = result.get_step_failure_events()
        assert failure.step_key == "accepted_exports"
        lines = failure.step_failure_data.user_failure_data.description.splitlines()
        assert lines[0] == expected, lines
        assert len(lines) == (1 if year == "2020" else 5), lines  # every export of 2021 is unaccepted
        started = [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
        assert started == ["accepted_exports"]
    assert accepted.success and not list((tmp_path / "published").glob("20*"))
    # Launched by hand, the accepting run says which content it read; the refused publishing
    # runs, which accepted none, say nothing.
    key = content_key(2020, accepted_hashes)
    assert [r.run_id for r in instance.get_runs(filters=dg.RunsFilter(tags={EXPORTS_TAG: key}))] == [accepted.run_id]
