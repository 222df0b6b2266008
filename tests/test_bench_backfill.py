"""``impact bench-backfill`` (pipelines/bench_backfill.py) at a tiny size: every year publishes,
the JSON holds the fit, the markdown renders; and the fit itself on known points. No timing is
asserted: the benchmark is a script, not a test of speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.bench_backfill import BackfillError, _impact_run, linear_fit, render_backfill_markdown, run_backfill_benchmark

YEARS = (2019, 2020)


def test_linear_fit_finds_the_line_and_the_residuals() -> None:
    fit = linear_fit([(10.0, 11.0), (20.0, 12.0), (40.0, 14.0)])
    assert fit["seconds_per_million_reports"] == pytest.approx(0.1)
    assert fit["fixed_seconds"] == pytest.approx(10.0)
    assert fit["residuals_s"] == pytest.approx([0.0, 0.0, 0.0])
    bent = linear_fit([(10.0, 11.0), (20.0, 13.0), (40.0, 14.0)])
    assert bent["max_relative_residual"] > 0.03
    with pytest.raises(ValueError):
        linear_fit([(10.0, 1.0), (10.0, 2.0)])


def test_a_tiny_backfill_publishes_every_year_and_reports_the_fit(tmp_path: Path) -> None:
    results = run_backfill_benchmark(
        tmp_path, scales=(0.001, 0.0005), years=YEARS, parallel=2, repeats=1, log=lambda _: None
    )
    saved = json.loads((tmp_path / "results" / "backfill.json").read_text(encoding="utf-8"))
    assert [entry["scale"] for entry in saved["per_scale"]] == [0.0005, 0.001]
    small, large = saved["per_scale"]
    assert 0 < small["total_reports"] < large["total_reports"]
    assert set(small["reports"]) == {"2019", "2020"}
    for entry in saved["per_scale"]:
        assert entry["wall_s"] > 0 and len(entry["runs"]) == 1
        assert set(entry["runs"][0]["per_year_s"]) == {"2019", "2020"}
        for year in YEARS:
            assert (tmp_path / f"scale-{entry['scale']:g}" / "run" / "published" / str(year) / "manifest.json").is_file()
    assert len(saved["fit"]["residuals_s"]) == 2
    text = render_backfill_markdown(results)
    assert "s per million reports" in text and "| 0.001 |" in text


def test_a_failing_year_fails_the_benchmark_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(BackfillError, match="impact run --year 2019 failed"):
        _impact_run(2019, tmp_path / "no-raw", tmp_path / "out", tmp_path / "warehouse", tmp_path)
