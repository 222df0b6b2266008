"""`make bench`: `impact run` side by side with the dbt-duckdb peer and the bare DuckDB floor.

For each scale (1 = the 21,751,085 CyberTipline reports of 2020), on realistic exports (report ids
in no order, random times: ``impact demo-data --realistic``, written once under the work folder
and kept for the next run), in one run:

* ``dbt``: the peer a team would build instead (benchmarks/peers/dbt/): ``dbt build`` of a
  dbt-duckdb project publishing the same eleven tables as Parquet and CSV, with its tests; in its
  own virtual environment (benchmarks/.venv-dbt, from benchmarks/peers/dbt/requirements.txt,
  created on first use), DuckDB capped at 512MiB like the product, dbt's ``threads`` set to the
  machine's cores as a team sets them;
* ``floor``: benchmarks/floor.sql, a bare DuckDB script over the Parquet export computing the
  CyberTipline aggregates and row rules (benchmarks/peers.py), DuckDB capped like the product;
* ``impact run``: the whole pipeline end to end (every export, every check, the second
  computation, the release), fresh warehouse and release folders each time;
* ``polars``, ``pandas``: the single-file peers, only at the scales asked for (``--polars-scale``,
  ``--pandas-scale``): uncapped, they need 11.5 GiB (polars, scale 10) and 160 MiB per million
  reports (pandas).

The dbt peer, the floor and ``impact run`` run back to back, ``--repeat`` times in turn (3 by
default), so that each sees the same load; each figure is the median of its runs. The dbt peer and
``impact run`` must publish the same tables, cell for cell (Parquet values and CSV fields), in
every round; every peer must agree with the release on the totals and find no bad row.

Each command is its own process, timed with ``time.perf_counter`` and measured with ``wait4``
(peak RSS of the process, and of the processes it waited for). The exports sit in the page cache
(warm). ``impact run`` runs as a user runs it (quiet); its Dagster step durations, read from its
runs' log files (<warehouse>/logs/), give the profile of where its time goes; what is outside
every step (interpreter, imports, the runs' launch, exit) is shown apart.

Prints a markdown table and writes JSON. A script, not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers.py"
DBT_PROJECT = HERE / "peers" / "dbt"
DBT_VENV = HERE / ".venv-dbt"
YEAR = 2020
GIB, MIB = 1 << 30, 1 << 20

TARGETS = {
    # scale: (impact run wall / dbt peer wall at most, impact run peak RSS / dbt peer's at most)
    1.0: (1.0, 1.0),
    2.0: (1.0, 1.0),
    10.0: (1.0, 1.0),
}
DBT_THREADS = os.cpu_count() or 1
"""dbt's ``threads``: the machine's cores, as a team running the peer on this machine sets it."""
TARGET_MARGINAL = 1.2
"""impact run's seconds per extra million reports at most this times the floor's."""


def measure(command: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command`` (output to ``log``); its wall time, CPU time and peak RSS."""
    load_before = os.getloadavg()[0]
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        sys.exit(f"{' '.join(command)} exited with {process.returncode} (log: {log})\n{tail}")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_bytes": usage.ru_maxrss * 1024,  # Linux: KiB
        "load_1m_before": round(load_before, 2),
        "log": str(log),
    }


STEP = re.compile(r'Finished execution of step "(?P<step>[^"]+)" in (?P<duration>[0-9hms.]+)\.')
DURATION = re.compile(r"([0-9.]+)(ms|h|m|s)")
SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def step_durations(logs: Path) -> dict[str, float]:
    """Seconds of every Dagster step of an ``impact run``, slowest first, from its runs' log
    files in ``logs`` (<warehouse>/logs/: every event of each run of the year)."""
    text = "\n".join(log.read_text(errors="replace") for log in sorted(logs.glob("*.log")))
    steps = {
        m["step"]: sum(float(v) * SECONDS[u] for v, u in DURATION.findall(m["duration"])) for m in STEP.finditer(text)
    }
    return dict(sorted(steps.items(), key=lambda kv: -kv[1]))


def exports(work: Path, scale: float, impact: str) -> tuple[Path, int, float | None]:
    """The realistic exports at ``scale`` (written once, then reused): folder, reports, seconds
    taken to write them (None when reused)."""
    raw = work / f"scale-{scale:g}" / "raw"
    parquet = raw / str(YEAR) / "cybertipline_reports.parquet"
    seconds = None
    if not parquet.is_file():
        start = time.perf_counter()
        subprocess.run(
            [impact, "demo-data", "--year", str(YEAR), "--scale", f"{scale:g}", "--realistic", "--raw-dir", str(raw)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = round(time.perf_counter() - start, 1)
    import pyarrow.parquet as pq

    return raw, pq.read_metadata(parquet).num_rows, seconds


def peer(name: str, parquet: Path, out: Path) -> dict[str, Any]:
    result = measure(
        [sys.executable, str(PEERS), name, str(parquet), str(YEAR), str(out / f"{name}.json")], out / f"{name}.log"
    )
    result["summary"] = json.loads((out / f"{name}.json").read_text())
    return result


def dbt_executable() -> Path:
    """dbt in its own virtual environment, installed from the peer's pinned requirements when
    missing or when the requirements changed (a stamp holds the file's text)."""
    requirements = DBT_PROJECT / "requirements.txt"
    stamp = DBT_VENV / "requirements.installed"
    dbt = DBT_VENV / "bin" / "dbt"
    if not dbt.is_file() or not stamp.is_file() or stamp.read_text() != requirements.read_text():
        print("installing the dbt peer's environment (benchmarks/.venv-dbt)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(DBT_VENV)], check=True)
        pip = [str(DBT_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        installed = subprocess.run([*pip, "-r", str(requirements)], capture_output=True, text=True)
        if installed.returncode != 0:
            sys.exit(f"installing {requirements} failed:\n{installed.stdout}{installed.stderr}")
        stamp.write_text(requirements.read_text())
    return dbt


def dbt_peer(dbt: Path, raw: Path, out: Path) -> dict[str, Any]:
    """``dbt build`` of the peer: seeds, models, the eleven tables as Parquet and CSV, every test;
    fresh warehouse and output folders each time."""
    folder = out / "dbt"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "tables").mkdir(parents=True)
    env = {
        "IMPACT_PEER_RAW_DIR": str(raw / str(YEAR)),
        "IMPACT_PEER_OUT_DIR": str(folder / "tables"),
        "IMPACT_PEER_WAREHOUSE": str(folder / "peer.duckdb"),
        "IMPACT_PEER_YEAR": str(YEAR),
        "IMPACT_PEER_THREADS": str(DBT_THREADS),
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    project = ["--profiles-dir", str(DBT_PROJECT), "--project-dir", str(DBT_PROJECT)]
    result = measure([str(dbt), "build", *project], out / "dbt.log", env=env)
    result["tables"] = str(folder / "tables")
    result["threads"] = DBT_THREADS
    return result


def table_differences(release: Path, peer: Path) -> list[str]:
    """Where the peer's tables differ from the release's: the same tables, columns, Parquet values
    and CSV fields, row by row; empty when they are equal cell for cell."""
    import csv

    import pyarrow.parquet as pq

    ours = sorted(p.stem for p in release.glob("*.parquet"))
    theirs = sorted(p.stem for p in peer.glob("*.parquet"))
    problems = [f"tables: release {', '.join(ours)}; peer {', '.join(theirs)}"] if ours != theirs else []
    for name in sorted(set(ours) & set(theirs)):
        a, b = pq.read_table(release / f"{name}.parquet"), pq.read_table(peer / f"{name}.parquet")
        if a.column_names != b.column_names:
            problems.append(f"{name}: columns {a.column_names} and {b.column_names}")
        elif a.to_pylist() != b.to_pylist():
            problems.append(f"{name}.parquet: the values differ")
        with (
            (release / f"{name}.csv").open(newline="", encoding="utf-8") as x,
            (peer / f"{name}.csv").open(newline="", encoding="utf-8") as y,
        ):
            if list(csv.reader(x)) != list(csv.reader(y)):
                problems.append(f"{name}.csv: the fields differ")
    return problems


def impact_run(impact: str, raw: Path, out: Path) -> dict[str, Any]:
    shutil.rmtree(out / "published", ignore_errors=True)
    shutil.rmtree(out / "warehouse", ignore_errors=True)
    log = out / "impact-run.log"
    result = measure(
        [
            impact,
            "run",  # as a user runs it, quiet: the step durations come from the runs' log files
            "--year",
            str(YEAR),
            "--raw-dir",
            str(raw),
            "--out-dir",
            str(out / "published"),
            "--warehouse-dir",
            str(out / "warehouse"),
        ],
        log,
    )
    steps = step_durations(out / "warehouse" / "logs")
    result["outside_steps_s"] = round(result["wall_s"] - sum(steps.values()), 3)
    result["steps_s"] = {step: round(s, 3) for step, s in steps.items()}
    result["published_reports"] = _published_reports(out / "published" / str(YEAR))
    return result


def _published_reports(release: Path) -> int:
    import csv

    with (release / "cybertipline_reports_by_source.csv").open(encoding="utf-8", newline="") as f:
        return next(int(r["reports"]) for r in csv.DictReader(f) if r["reporter_type"] == "Total")


def per_million(low: dict[str, Any], high: dict[str, Any], name: str) -> float:
    return (high[name]["wall_s"] - low[name]["wall_s"]) / (high["reports"] - low["reports"]) * 1e6


MEDIAN_OF = ("wall_s", "cpu_s", "peak_rss_bytes")


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One command's figures over its rounds: the median of each of ``MEDIAN_OF`` (taken apart),
    the rest from the run of median wall time, and every run under ``runs``."""
    middle = sorted(runs, key=lambda r: r["wall_s"])[(len(runs) - 1) // 2]
    figures = {k: statistics.median(r[k] for r in runs) for k in MEDIAN_OF}
    return {**middle, **figures, "runs": runs}


def rounds(dbt: Path, impact: str, raw: Path, parquet: Path, out: Path, repeat: int) -> dict[str, Any]:
    """The dbt peer, the floor and ``impact run``, one after the other, ``repeat`` times; the
    tables of each round's peer compared with that round's release."""
    runs: dict[str, list[dict[str, Any]]] = {"dbt": [], "floor": [], "impact_run": []}
    differences: list[str] = []
    for round_ in range(1, repeat + 1):
        runs["dbt"].append(dbt_peer(dbt, raw, out))
        runs["floor"].append(peer("floor", parquet, out))
        runs["impact_run"].append(impact_run(impact, raw, out))
        differences += table_differences(out / "published" / str(YEAR), Path(runs["dbt"][-1]["tables"]))
        for name, measured in runs.items():
            m = measured[-1]
            print(
                f"  round {round_}: {name} {m['wall_s']:.2f} s, {m['cpu_s']:.1f} CPU-s, "
                f"{m['peak_rss_bytes'] / MIB:,.0f} MiB, load {m['load_1m_before']:.1f}",
                file=sys.stderr,
            )
    return {**{name: median(measured) for name, measured in runs.items()}, "table_differences": differences}


def run(
    work: Path, scales: list[float], polars_scales: list[float], pandas_scales: list[float], repeat: int = 3
) -> dict[str, Any]:
    impact = str(Path(sys.executable).with_name("impact"))
    dbt = dbt_executable() if scales else None
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "environment": {k: v for k, v in os.environ.items() if k.startswith("IMPACT_DUCKDB")},
        },
        "dbt_threads": DBT_THREADS,
        "repeat": repeat,
        "scales": [],
    }
    for scale in sorted(set(scales) | set(polars_scales) | set(pandas_scales)):
        raw, reports, generated_s = exports(work, scale, impact)
        parquet = raw / str(YEAR) / "cybertipline_reports.parquet"
        out = work / f"scale-{scale:g}" / "runs"
        out.mkdir(parents=True, exist_ok=True)
        print(f"scale {scale:g}: {reports:,} reports, {parquet.stat().st_size / MIB:,.0f} MiB", file=sys.stderr)
        entry: dict[str, Any] = {
            "scale": scale,
            "reports": reports,
            "parquet_bytes": parquet.stat().st_size,
            "generated_s": generated_s,
        }
        if scale in scales:
            entry.update(rounds(dbt, impact, raw, parquet, out, repeat))
        if scale in polars_scales:
            entry["polars"] = peer("polars", parquet, out)
        if scale in pandas_scales:
            entry["pandas"] = peer("pandas", parquet, out)
        summaries = {n: entry[n]["summary"] for n in ("floor", "polars", "pandas") if n in entry}
        entry["peers_agree"] = len({json.dumps(s, sort_keys=True) for s in summaries.values()}) <= 1 and all(
            s["reports"] == reports and s["bad_rows"] == 0 for s in summaries.values()
        )
        if "impact_run" in entry:
            entry["peers_agree"] &= entry["impact_run"]["published_reports"] == reports
            entry["peers_agree"] &= not entry["table_differences"]
        results["scales"].append(entry)

    timed = [e for e in results["scales"] if "impact_run" in e]
    if len(timed) >= 2:
        low, high = timed[0], timed[-1]
        results["marginal_s_per_million"] = {
            "from_scale": low["scale"],
            "to_scale": high["scale"],
            "impact_run": round(per_million(low, high, "impact_run"), 4),
            "floor": round(per_million(low, high, "floor"), 4),
        }
    measured = sorted((e for e in results["scales"] if "pandas" in e), key=lambda e: e["reports"])
    if measured:
        # Peak RSS as a line in the reports (fixed part + per million), from the two extreme
        # pandas scales; with one scale, all of it per million.
        low, high = measured[0], measured[-1]
        rss = lambda e: e["pandas"]["peak_rss_bytes"]  # noqa: E731
        slope = (
            (rss(high) - rss(low)) / (high["reports"] - low["reports"])
            if high is not low
            else rss(high) / high["reports"]
        )
        fixed = rss(high) - slope * high["reports"]
        biggest = max(results["scales"], key=lambda e: e["reports"])
        results["pandas_need"] = {
            "peak_rss_bytes_per_million_reports": round(slope * 1e6),
            "fixed_bytes": round(fixed),
            "at_scale": biggest["scale"],
            "estimated_peak_rss_bytes": round(fixed + slope * biggest["reports"]),
        }
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def _load(m: dict[str, Any]) -> str:
    """The 1-minute load average when the command's runs started: one figure, or their range."""
    loads = [r["load_1m_before"] for r in m.get("runs", [m])]
    low, high = min(loads), max(loads)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}–{high:.1f}"


def render(results: dict[str, Any]) -> str:
    lines = [
        f"dbt peer with threads: {results.get('dbt_threads', 1)}; each figure the median of "
        f"{results.get('repeat', 1)} back-to-back round(s).",
        "",
        "| scale | reports | Parquet | command | wall (s) | × dbt | × floor | peak RSS | × dbt "
        "| CPU (s) | load | target |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e in results["scales"]:
        floor = e.get("floor", {}).get("wall_s")
        dbt = e.get("dbt")
        for name in ("dbt", "floor", "impact_run", "polars", "pandas"):
            if name not in e:
                continue
            m = e[name]
            target = ""
            if name == "impact_run" and e["scale"] in TARGETS and dbt:
                ratio, rss = TARGETS[e["scale"]]
                ok = m["wall_s"] <= ratio * dbt["wall_s"] and m["peak_rss_bytes"] <= rss * dbt["peak_rss_bytes"]
                target = f"≤ {ratio:g}× dbt, ≤ {rss:g}× its memory: {'met' if ok else '**missed**'}"
            versus_dbt = f"{m['wall_s'] / dbt['wall_s']:.2f}×" if dbt else ""
            versus_floor = f"{m['wall_s'] / floor:.2f}×" if floor else ""
            memory_dbt = f"{m['peak_rss_bytes'] / dbt['peak_rss_bytes']:.2f}×" if dbt else ""
            lines.append(
                f"| {e['scale']:g} | {e['reports']:,} | {e['parquet_bytes'] / MIB:,.0f} MiB | {name.replace('_', ' ')} "
                f"| {m['wall_s']:.2f} | {versus_dbt} | {versus_floor} "
                f"| {m['peak_rss_bytes'] / MIB:,.0f} MiB | {memory_dbt} | {m['cpu_s']:.1f} | {_load(m)} "
                f"| {target} |"
            )
    marginal = results.get("marginal_s_per_million")
    if marginal:
        # A ratio means something only when the floor's cost grows with the rows (at tiny scales
        # both differences are noise and may be negative).
        ratio = marginal["impact_run"] / marginal["floor"] if marginal["floor"] > 0 else None
        verdict = (
            "not measurable (the floor's time did not grow)"
            if ratio is None
            else f"{ratio:.2f}× (target ≤ {TARGET_MARGINAL:g}×: {'met' if ratio <= TARGET_MARGINAL else '**missed**'})"
        )
        lines += [
            "",
            f"Marginal cost per million reports (scale {marginal['from_scale']:g} → "
            f"{marginal['to_scale']:g}): impact run {marginal['impact_run']:.3f} s, floor "
            f"{marginal['floor']:.3f} s: {verdict}.",
        ]
    need = results.get("pandas_need")
    if need:
        lines += [
            "",
            f"pandas holds the whole export: {need['fixed_bytes'] / MIB:,.0f} MiB + "
            f"{need['peak_rss_bytes_per_million_reports'] / MIB:,.0f} MiB per million reports "
            f"(measured at the pandas scales), so about {need['estimated_peak_rss_bytes'] / GIB:.1f} GiB "
            f"at scale {need['at_scale']:g}.",
        ]
    timed = sorted((e for e in results["scales"] if "impact_run" in e), key=lambda e: e["reports"])
    for entry in {id(e): e for e in (timed[:1] + timed[-1:])}.values():  # the smallest and the largest
        run = entry["impact_run"]
        top = list(run["steps_s"].items())[:8]
        lines += [
            "",
            f"Where impact run's {run['wall_s']:.1f} s go at scale {entry['scale']:g} "
            f"(Dagster steps of its median round; threads of a step overlap only within it):",
            "",
            f"- outside every step (interpreter, imports, the runs' launch, exit): {run['outside_steps_s']:.1f} s",
        ]
        lines += [f"- `{step}`: {seconds:.1f} s" for step, seconds in top]
    agree = all(e["peers_agree"] for e in results["scales"])
    lines += [
        "",
        "The dbt peer publishes the same tables as the release, cell for cell; every peer and the release "
        "agree on the totals and find no bad row."
        if agree
        else "**The peers or the release disagree**: "
        + "; ".join(d for e in results["scales"] for d in e.get("table_differences", []))
        + " (see the JSON).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("bench"), help="exports (kept), runs and logs [bench/]")
    parser.add_argument("--scale", type=float, action="append", help="dbt peer, floor and impact run [1, 2, 10]")
    parser.add_argument("--polars-scale", type=float, action="append", default=[], help="polars streaming peer")
    parser.add_argument("--pandas-scale", type=float, action="append", default=[], help="pandas peer")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of dbt, floor and impact run per scale [3]")
    parser.add_argument("--out", type=Path, help="JSON results [WORK_DIR/bench.json]")
    args = parser.parse_args()
    work = args.work_dir.resolve()
    results = run(work, args.scale or [1.0, 2.0, 10.0], args.polars_scale, args.pandas_scale, args.repeat)
    out = args.out or work / "bench.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(render(results))
    print(f"\nRaw numbers: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
