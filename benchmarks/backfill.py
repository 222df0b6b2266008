"""`make bench-backfill`: five demo years backfilled two at a time, at several sizes, and how the
wall time grows with the total rows.

For each scale, the demo exports of every year are written once, every year at that scale (so
that the prior-year figures of one year agree with the release of the year before). Then,
``repeats`` times and into fresh release and warehouse folders, one ``impact run --year Y``
process per year runs, ``parallel`` at a time, taking the years in order: what a Dagster
backfill of the yearly partitions does on two cores. Every year has its own DuckDB file, so two
years never contend for a lock; a run that fails or prints a lock error fails the benchmark.

The wall time of each backfill (the minimum of the repeats) is fitted against the total
CyberTipline reports by least squares: seconds per million reports (the slope), a fixed cost
(the intercept: one process per year, each paying the interpreter, imports and run setup) and
the residual of every point. Linear growth shows as small residuals. This is a script, not a
test: nothing asserts a duration.

``python benchmarks/backfill.py [--work-dir bench/backfill] [--scale 0.25 --scale 0.5 --scale 1]
[--parallel 2] [--repeats 2]`` prints a markdown table and writes ``WORK_DIR/backfill.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

YEARS = (2019, 2020, 2021, 2022, 2023)
LOCK_ERRORS = ("could not set lock", "conflicting lock", "lock on file", "database is locked")


class BackfillError(RuntimeError):
    """A year of the backfill failed; the message names it and ends with its log."""


def _impact_run(year: int, raw: Path, out: Path, warehouse: Path, log_dir: Path) -> float:
    """One ``impact run`` process for ``year``; returns its wall time."""
    log = log_dir / f"{year}.log"
    start = time.perf_counter()
    with log.open("wb") as handle:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "run",
                "--verbose",  # the log of a failed year ends the error
                "--year",
                str(year),
                "--raw-dir",
                str(raw),
                "--out-dir",
                str(out),
                "--warehouse-dir",
                str(warehouse),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            check=False,
        )
    wall = time.perf_counter() - start
    text = log.read_text(encoding="utf-8", errors="replace")
    locked = [error for error in LOCK_ERRORS if error in text.lower()]
    if completed.returncode != 0 or locked:
        tail = "\n".join(text.splitlines()[-15:])
        raise BackfillError(f"impact run --year {year} failed (lock errors: {locked or 'none'}; log: {log})\n{tail}")
    return wall


def backfill(years: Sequence[int], raw: Path, run_dir: Path, parallel: int) -> dict[str, Any]:
    """Run every year, ``parallel`` processes at a time in year order, into fresh folders under
    ``run_dir``; returns the wall time of the whole backfill and of each year."""
    out, warehouse, logs = run_dir / "published", run_dir / "warehouse", run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        walls = list(pool.map(lambda year: _impact_run(year, raw, out, warehouse, logs), years))
    return {"wall_s": time.perf_counter() - start, "per_year_s": dict(zip(map(str, years), walls))}


def linear_fit(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """Least-squares line through (million reports, seconds): slope, intercept and each point's
    residual, absolute and relative to its measured time."""
    n = len(points)
    if n < 2 or len({x for x, _ in points}) < 2:
        raise ValueError("a line needs at least two different sizes")
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    intercept = mean_y - slope * mean_x
    residuals = [y - (intercept + slope * x) for x, y in points]
    return {
        "seconds_per_million_reports": slope,
        "fixed_seconds": intercept,
        "residuals_s": residuals,
        "max_relative_residual": max(abs(r) / y for r, (_, y) in zip(residuals, points)),
    }


def _reports(raw: Path, years: Sequence[int]) -> dict[str, int]:
    import pyarrow.parquet as pq

    from pipelines.core.contract import CYBERTIPLINE_REPORTS

    return {str(year): pq.read_metadata(raw / str(year) / CYBERTIPLINE_REPORTS.file_name).num_rows for year in years}


def run_backfill_benchmark(
    work_dir: Path,
    scales: Sequence[float] = (0.25, 0.5, 1.0),
    years: Sequence[int] = YEARS,
    *,
    parallel: int = 2,
    repeats: int = 2,
    out_json: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Backfill ``years`` at each scale; write the results to ``out_json`` (default
    ``work_dir/results/backfill.json``) and return them. Raises :class:`BackfillError`."""
    import shutil

    from pipelines.demo import write_demo_exports

    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    scales = sorted(float(s) for s in scales)
    if len(set(scales)) < 2 or scales[0] <= 0:
        raise ValueError(f"at least two different positive scales are needed, got {scales!r}")
    if repeats < 1 or parallel < 1:
        raise ValueError("repeats and parallel must be at least 1")
    work_dir = Path(work_dir).resolve()
    out_json = Path(out_json) if out_json is not None else work_dir / "backfill.json"

    results: dict[str, Any] = {
        "benchmark": "impact bench-backfill (issue 5, part 3)",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "years": list(years),
        "parallel": parallel,
        "repeats": repeats,
        "statistics": f"wall time of the whole backfill: minimum over {repeats} run(s); warm page cache",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_1m": round(os.getloadavg()[0], 2)},
        "per_scale": [],
    }
    for scale in scales:
        raw = work_dir / f"scale-{scale:g}" / "raw"
        shutil.rmtree(raw, ignore_errors=True)
        say(f"scale {scale:g}: writing the demo exports of {', '.join(map(str, years))}")
        started = time.perf_counter()
        for year in years:
            write_demo_exports(year, raw, scale=scale)
        generation = time.perf_counter() - started
        reports = _reports(raw, years)
        runs = []
        for repeat in range(1, repeats + 1):
            say(f"scale {scale:g}, backfill {repeat}/{repeats}")
            run_dir = work_dir / f"scale-{scale:g}" / "run"
            shutil.rmtree(run_dir, ignore_errors=True)
            runs.append(backfill(years, raw, run_dir, parallel))
        results["per_scale"].append(
            {
                "scale": scale,
                "reports": reports,
                "total_reports": sum(reports.values()),
                "generation_s": generation,
                "wall_s": min(run["wall_s"] for run in runs),
                "runs": runs,
            }
        )
    points = [(entry["total_reports"] / 1e6, entry["wall_s"]) for entry in results["per_scale"]]
    results["fit"] = linear_fit(points)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    results["out_json"] = str(out_json)
    return results


def render_backfill_markdown(results: dict[str, Any]) -> str:
    fit = results["fit"]
    lines = [
        f"## Backfill: years {results['years'][0]}-{results['years'][-1]}, {results['parallel']} at a time",
        "",
        f"Wall time of the whole backfill: **minimum of {results['repeats']} run(s)**; one "
        "`impact run` process per year.",
        "",
        "| scale | total reports | wall (s) | line (s) | residual |",
        "|---:|---:|---:|---:|---:|",
    ]
    for entry, residual in zip(results["per_scale"], fit["residuals_s"]):
        line = entry["wall_s"] - residual
        lines.append(
            f"| {entry['scale']:g} | {entry['total_reports']:,} | {entry['wall_s']:.2f} | {line:.2f} "
            f"| {residual:+.2f} s ({residual / entry['wall_s']:+.1%}) |"
        )
    lines += [
        "",
        f"Fit: **{fit['seconds_per_million_reports']:.4f} s per million reports** + "
        f"{fit['fixed_seconds']:.2f} s fixed; largest residual {fit['max_relative_residual']:.1%} "
        "of its measured time.",
        "",
        f"Raw numbers: `{results.get('out_json', 'backfill.json')}`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("bench/backfill"))
    parser.add_argument("--scale", type=float, action="append", help="every year's size [0.25, 0.5, 1]")
    parser.add_argument("--parallel", type=int, default=2, help="years running at once [2]")
    parser.add_argument("--repeats", type=int, default=2, help="backfills per scale; the fastest counts [2]")
    args = parser.parse_args()
    try:
        results = run_backfill_benchmark(
            args.work_dir, scales=args.scale or (0.25, 0.5, 1.0), parallel=args.parallel, repeats=args.repeats
        )
    except (BackfillError, ValueError) as error:
        sys.exit(str(error))
    print(render_backfill_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
