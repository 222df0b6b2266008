"""``impact bench`` (pipelines/bench.py) at a tiny scale: the JSON has every field, with positive
numbers, and the markdown renders. No timing is asserted: the benchmark is a script, not a test
of speed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipelines.bench import (
    COMMANDS,
    STAGES,
    parse_duration,
    parse_step_durations,
    render_markdown,
    run_benchmark,
    stage_of,
)

SCALES = (0.001, 0.002)


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, Path]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "results" / "bench.json"
    returned = run_benchmark(work, scales=SCALES, year=2020, out_json=out, repeats=1, log=lambda _: None)
    return returned, json.loads(out.read_text(encoding="utf-8")), work


def test_json_has_every_field_with_positive_numbers(bench: tuple[dict, dict, Path]) -> None:
    returned, results, _ = bench
    for key in ("benchmark", "started_at", "finished_at", "year", "scales", "repeats", "statistics",
                "machine", "commands", "imports", "per_scale", "marginal", "targets"):
        assert key in results, key
    assert results["scales"] == list(SCALES)
    machine = results["machine"]
    assert _positive(machine["cpu_count"])
    assert machine["python"] and machine["duckdb"] and machine["dagster"] and machine["pandas"]
    assert _positive(results["imports"]["wall_s"]) and _positive(results["imports"]["peak_rss_bytes"])
    assert "dagster" in results["imports"]["heavy_packages_s"]

    assert [entry["scale"] for entry in results["per_scale"]] == list(SCALES)
    for entry in results["per_scale"]:
        assert _positive(entry["reports"]) and _positive(entry["parquet_bytes"]) and _positive(entry["generation_s"])
        assert entry["results_agree"], entry["disagreements"]
        assert entry["floor_summary"]["bad_rows"] == 0
        for name in COMMANDS:
            measured = entry["measurements"][name]
            assert _positive(measured["wall_s"]), name
            assert _positive(measured["peak_rss_bytes"]), name
            assert _positive(measured["cpu_s"]), name
            assert len(measured["runs"]) == results["repeats"]
            for run in measured["runs"]:
                assert run["returncode"] == 0
                assert _positive(run["wall_s"]) and _positive(run["peak_rss_bytes"])
        impact_run = entry["measurements"]["impact_run"]
        assert set(impact_run["stages_s"]) == set(STAGES)
        assert all(seconds >= 0 for seconds in impact_run["stages_s"].values())
        assert "raw_cybertipline_reports" in impact_run["steps_s"]
        assert "release" in impact_run["steps_s"]
        assert all(_positive(s) for s in impact_run["steps_s"].values())
        for ratio in ("impact_run_over_floor", "impact_run_over_floor_tight", "pandas_over_impact_run",
                      "pandas_over_floor"):
            assert _positive(entry["ratios"][ratio]), ratio

    assert results["per_scale"][1]["reports"] == 2 * results["per_scale"][0]["reports"]
    marginal = results["marginal"]
    assert marginal["from_scale"] == SCALES[0] and marginal["to_scale"] == SCALES[1]
    assert _positive(marginal["extra_reports"])
    for name in COMMANDS:
        # A difference of two wall times at a tiny scale: present and finite, sign not asserted.
        assert math.isfinite(marginal[f"{name}_s_per_million"]), name
    assert {t["name"] for t in results["targets"]} == {
        "impact_run_over_floor", "impact_run_peak_rss", "marginal_cost_over_floor", "pandas_over_impact_run",
    }
    for target in results["targets"]:
        assert target["target"]
        if target["name"] == "marginal_cost_over_floor":
            # At a tiny scale the floor's marginal cost is noise and may be <= 0: then no ratio.
            assert target["met"] in (True, False, None)
        else:
            assert _positive(target["value"]) and target["met"] in (True, False)
    assert returned["out_json"]


def test_markdown_has_the_table_the_targets_and_the_profile(bench: tuple[dict, dict, Path]) -> None:
    returned, _, _ = bench
    text = render_markdown(returned)
    assert "| scale | reports | command | wall (s) | × floor |" in text
    assert "minimum of 1 run(s)" in text
    assert "### Targets" in text and "### Marginal cost per million reports" in text
    assert "### impact run by stage" in text
    for label in ("impact run (end to end)", "floor: bare DuckDB script", "pandas peer"):
        assert text.count(label) >= len(SCALES)


def test_dagster_durations_and_stages_parse() -> None:
    assert parse_duration("0.83ms") == pytest.approx(0.00083)
    assert parse_duration("533ms") == pytest.approx(0.533)
    assert parse_duration("5.6s") == pytest.approx(5.6)
    assert parse_duration("4m52s") == pytest.approx(292)
    assert parse_duration("1h4m") == pytest.approx(3840)
    with pytest.raises(ValueError):
        parse_duration("soon")
    log = (
        '... - raw_cases - STEP_SUCCESS - Finished execution of step "raw_cases" in 80ms.\n'
        '... - STEP_SUCCESS - Finished execution of step "raw_cases_export_contract" in 2.32s.\n'
        '... - STEP_SUCCESS - Finished execution of step "release" in 1m3s.\n'
    )
    assert parse_step_durations(log) == pytest.approx(
        {"raw_cases": 0.08, "raw_cases_export_contract": 2.32, "release": 63.0}
    )
    assert stage_of("raw_cybertipline_reports_export_contract").startswith("raw check: CyberTipline")
    assert stage_of("raw_cases_export_contract").startswith("raw checks: CSV")
    assert stage_of("raw_cases") == "raw ingest"
    assert stage_of("stg_cybertipline_report_counts") == "staging: CyberTipline counts"
    assert stage_of("headline_metrics_cross_table_invariants").startswith("cross-table invariants")
    assert stage_of("headline_metrics_consistent_with_previous_year").startswith("cross-table invariants")
    assert stage_of("cybertipline_reports_by_esp").startswith("published tables")
