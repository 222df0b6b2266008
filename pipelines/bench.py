"""``impact bench`` (issue 5): how fast ``impact run`` is at full size, next to a floor and a peer.

For each scale of the CyberTipline export (1.0 = the 21,751,085 reports of 2020, 2.0 = twice as
many), in one run and on the same exports (generated once per scale with
:func:`pipelines.demo_data.write_demo_exports`; generation is timed apart and not counted):

``impact_run``
    ``<venv>/bin/impact run --year Y`` end to end as a subprocess, fresh release and warehouse
    folders each time. The Dagster step durations are parsed from its log (``Finished execution
    of step "X" in 2.3s``, logged with ``IMPACT_LOG_LEVEL=DEBUG``) into a per-stage profile; what
    is not inside a step (interpreter start, imports, loading the definitions, Dagster's run setup
    and teardown, interpreter exit) is reported as ``outside_steps``. The CSV checks' Great
    Expectations validation runs in a worker process beside the run
    (pipelines/checks/gx_validation.py): their steps show only the time the run waited for it.
``floor``
    A bare DuckDB script (``pipelines/bench_floor.sql``) computing the CyberTipline aggregates
    (reports by source, incident type, ESP and country; file sums) and the row rules of raw/README.md
    (report_id unique, received_at within the year, codes in their sets, esp_name present iff
    ESP, counts >= 0) straight from the Parquet file. This is the floor of issue 5; its
    uniqueness check hashes every id, as a user would write it.
``floor_tight``
    The same with the bitmap uniqueness check the pipeline's audit uses (not a target, context).
``pandas``
    What a user might write instead: ``pd.read_parquet`` + ``groupby`` for the same aggregates
    and rules.

Every command runs in a fresh wrapper process (this file, ``_measure``), which times it with
``time.perf_counter`` and reads its peak RSS from ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the
largest RSS of the command's process; RUSAGE_CHILDREN is a max over every child a process ever
waited for, hence one wrapper per command). Each command runs ``repeats`` times, interleaved;
the wall time reported is the **minimum** over the repeats, the peak RSS the **maximum**. The
exports sit in the page cache (they were just written): these are warm-cache figures.

The results are written as JSON (machine, versions, every raw number, ratios, marginal cost per
million reports between the smallest and the largest scale, targets) and rendered as markdown by
:func:`render_markdown`. This is a script, not a timed test: nothing here asserts a duration.

The module imports only the standard library at top level, because the worker processes run this
file directly (``python pipelines/bench.py _floor ...``) and must not pay for the pipeline's
imports.
"""

from __future__ import annotations

import compileall
import csv
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_FILE = Path(__file__).resolve()
FLOOR_SQL = BENCH_FILE.with_name("bench_floor.sql")
GIB = 1 << 30
MIB = 1 << 20

COMMANDS = ("impact_run", "floor", "floor_tight", "pandas")
LABELS = {
    "impact_run": "impact run (end to end)",
    "floor": "floor: bare DuckDB script",
    "floor_tight": "floor, tight (bitmap uniqueness)",
    "pandas": "pandas peer",
}

TARGET_RUN_OVER_FLOOR = 2.0
TARGET_PEAK_RSS_BYTES = 2 * GIB
TARGET_MARGINAL_RATIO = 1.5
TARGET_PANDAS_SPEEDUP = 4.0

INCIDENT_TYPES = (
    "CSAM", "ONLINE_ENTICEMENT", "CHILD_SEX_TRAFFICKING", "CHILD_SEXUAL_MOLESTATION",
    "MISLEADING_WORDS_OR_IMAGES", "UNSOLICITED_OBSCENE_MATERIAL", "MISLEADING_DOMAIN_NAME",
    "CHILD_SEX_TOURISM",
)
"""raw/README.md (the pandas peer's set; the floor's is in bench_floor.sql)."""

HEAVY_PACKAGES = (
    "dagster", "great_expectations", "pandera", "pandas", "polars", "pyarrow", "duckdb",
    "numpy", "frictionless", "pycountry", "jinja2", "sqlalchemy",
)
"""Packages whose import cost the benchmark reports when it profiles ``import pipelines.definitions``."""


class BenchmarkError(RuntimeError):
    """A benchmarked command failed; the message says which and where its log is."""


# ---------------------------------------------------------------------------------------------
# Measuring one command


def _max_rss_bytes(ru_maxrss: int) -> int:
    # Linux reports KiB, macOS bytes.
    return int(ru_maxrss) if sys.platform == "darwin" else int(ru_maxrss) * 1024


def _measure_main(result_file: str, command: Sequence[str]) -> int:
    """The wrapper process: run ``command``, write its wall time and peak RSS to ``result_file``."""
    import resource

    start = time.perf_counter()
    completed = subprocess.run(list(command), check=False)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(result_file).write_text(
        json.dumps(
            {
                "returncode": completed.returncode,
                "wall_s": wall,
                "peak_rss_bytes": _max_rss_bytes(usage.ru_maxrss),
                "user_s": usage.ru_utime,
                "sys_s": usage.ru_stime,
            }
        ),
        encoding="utf-8",
    )
    return 0


def measure(command: Sequence[str], log_dir: Path, name: str, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``command`` once in a fresh wrapper; stdout/stderr go to ``log_dir/name.{out,err}``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    result_file = log_dir / f"{name}.measure.json"
    result_file.unlink(missing_ok=True)
    stdout, stderr = log_dir / f"{name}.out", log_dir / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        wrapper = subprocess.run(
            [sys.executable, str(BENCH_FILE), "_measure", str(result_file), "--", *command],
            stdout=out, stderr=err, cwd=cwd, check=False,
            # DEBUG: the step durations of impact run's log feed the per-stage profile.
            env={**os.environ, "IMPACT_LOG_LEVEL": "DEBUG"},
        )
    if wrapper.returncode != 0 or not result_file.is_file():
        raise BenchmarkError(f"the measuring wrapper of {name} failed; see {stderr}")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    if result["returncode"] != 0:
        tail = "\n".join(stderr.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise BenchmarkError(
            f"{name} exited with {result['returncode']}: {' '.join(command)}\n"
            f"(log: {stderr})\n{tail}"
        )
    result["stdout"], result["stderr"] = str(stdout), str(stderr)
    return result


# ---------------------------------------------------------------------------------------------
# Dagster step durations of an impact run log

STEP_LINE = re.compile(r'Finished execution of step "(?P<step>[^"]+)" in (?P<duration>[0-9hms.]+)\.')
DURATION_PART = re.compile(r"(?P<value>[0-9.]+)(?P<unit>ms|h|m|s)")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds of a duration as Dagster formats it: ``0.83ms``, ``533ms``, ``5.6s``, ``4m52s``, ``1h4m``."""
    parts = DURATION_PART.findall(text)
    if not parts or "".join(v + u for v, u in parts) != text:
        raise ValueError(f"not a Dagster duration: {text!r}")
    return sum(float(value) * UNIT_SECONDS[unit] for value, unit in parts)


def parse_step_durations(log_text: str) -> dict[str, float]:
    """Step key -> seconds, in execution order, from a Dagster run log."""
    steps: dict[str, float] = {}
    for match in STEP_LINE.finditer(log_text):
        steps[match["step"]] = steps.get(match["step"], 0.0) + parse_duration(match["duration"])
    return steps


STAGES = (
    "outside steps (interpreter, imports, definitions, Dagster run setup)",
    "raw ingest",
    "raw check: CyberTipline (DuckDB audit)",
    "raw checks: CSV exports (Great Expectations)",
    "seeds",
    "staging: CyberTipline counts",
    "staging: other models",
    "published tables and their Pandera checks (one step each)",
    "cross-table invariants and consistency with the previous year",
    "release (files, manifest, data package, report)",
)


def stage_of(step: str) -> str:
    if step == "raw_cybertipline_reports_export_contract":
        return STAGES[2]
    if step.startswith("raw_") and step.endswith("_export_contract"):
        return STAGES[3]
    if step.startswith("raw_"):
        return STAGES[1]
    if step == "seeds":
        return STAGES[4]
    if step == "stg_cybertipline_report_counts":
        return STAGES[5]
    if step.startswith("stg_"):
        return STAGES[6]
    if step.endswith(("_invariants", "_consistent_with_previous_year")):
        return STAGES[8]
    if step == "release":
        return STAGES[9]
    return STAGES[7]


def stage_profile(steps: dict[str, float], wall_s: float) -> dict[str, float]:
    """Seconds per stage; what is not inside a step is the first stage."""
    profile = {stage: 0.0 for stage in STAGES}
    for step, seconds in steps.items():
        profile[stage_of(step)] += seconds
    profile[STAGES[0]] = max(0.0, wall_s - sum(steps.values()))
    return profile


# ---------------------------------------------------------------------------------------------
# The workers: the floor (DuckDB) and the pandas peer. Both return the same summary, so the
# benchmark can check they computed the same thing.


def _country_codes() -> list[str]:
    import pycountry

    return sorted({country.alpha_2 for country in pycountry.countries} | {"XK"})


def floor_statements() -> dict[str, str]:
    """The named statements of bench_floor.sql, in file order."""
    statements: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in FLOOR_SQL.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^--\s*name:\s*(\w+)\s*$", line)
        if match:
            if name is not None:
                statements[name] = "\n".join(lines).strip().rstrip(";")
            name, lines = match[1], []
        elif name is not None:
            lines.append(line)
    if name is not None:
        statements[name] = "\n".join(lines).strip().rstrip(";")
    return statements


def _key(value: Any) -> str:
    return "(null)" if value is None else str(value)


def _floor_main(path: str, year: int, variant: str, out: str) -> int:
    import duckdb

    params = {
        "path": path,
        "year_start": datetime(year, 1, 1, tzinfo=timezone.utc),
        "next_year_start": datetime(year + 1, 1, 1, tzinfo=timezone.utc),
        "country_codes": _country_codes(),
    }
    skip = "unique_ids" if variant == "tight" else "unique_ids_bitmap"
    con = duckdb.connect()
    results: dict[str, list[tuple]] = {}
    for name, sql in floor_statements().items():
        if name == skip:
            continue
        used = {k: params[k] for k in dict.fromkeys(re.findall(r"\$(\w+)", sql))}
        con.execute(sql, used)
        results[name] = con.fetchall() if name != "counts" else []
    con.close()
    rules_row = results["rules"][0]
    rule_names = (
        "row_count", "report_id_null", "received_at_within_year", "reporter_type_in_set",
        "esp_name_required_when_esp", "esp_name_null_when_public", "incident_type_in_set",
        "incident_country_in_set", "image_count_non_negative", "video_count_non_negative",
        "other_file_count_non_negative",
    )
    rules = dict(zip(rule_names, (int(v) for v in rules_row)))
    row_count = rules.pop("row_count")
    unique = results.get("unique_ids") or results["unique_ids_bitmap"]
    rules["report_id_unique"] = int(unique[0][0])
    images, videos, other_files = results["files"][0]
    summary = _summary(
        reports=row_count,
        by_source={_key(k): int(n) for k, n in results["by_source"]},
        by_incident_type={_key(k): int(n) for k, n in results["by_incident_type"]},
        by_esp=[(_key(k), int(n)) for k, n in results["by_esp"]],
        by_country={_key(k): int(n) for k, n in results["by_country"]},
        files={"images": int(images or 0), "videos": int(videos or 0), "other_files": int(other_files or 0)},
        rules=rules,
    )
    Path(out).write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")
    return 0


def _pandas_main(path: str, year: int, out: str) -> int:
    import pandas as pd

    df = pd.read_parquet(path)

    # The aggregates of the published CyberTipline tables.
    by_source = df.groupby("reporter_type", dropna=False).size()
    by_incident_type = df.groupby("incident_type", dropna=False).size()
    by_esp = (
        df[df["reporter_type"] == "ESP"].groupby("esp_name").size().reset_index(name="reports")
        .sort_values(["reports", "esp_name"], ascending=[False, True])
    )
    by_country = df.groupby("incident_country", dropna=False).size()
    files = df[["image_count", "video_count", "other_file_count"]].sum()

    # The row rules of raw/README.md.
    start = pd.Timestamp(year=year, month=1, day=1, tz="UTC")
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz="UTC")
    esp = df["reporter_type"] == "ESP"
    public = df["reporter_type"] == "PUBLIC"
    has_name = df["esp_name"].notna() & (df["esp_name"].str.strip() != "")
    country = df["incident_country"]
    rules = {
        "report_id_null": int(df["report_id"].isna().sum()),
        "report_id_unique": int(df["report_id"].dropna().duplicated().sum()),
        "received_at_within_year": int(
            (df["received_at"].isna() | (df["received_at"] < start) | (df["received_at"] >= end)).sum()
        ),
        "reporter_type_in_set": int((~df["reporter_type"].isin(["ESP", "PUBLIC"])).sum()),
        "esp_name_required_when_esp": int((esp & ~has_name).sum()),
        "esp_name_null_when_public": int((public & df["esp_name"].notna()).sum()),
        "incident_type_in_set": int((~df["incident_type"].isin(INCIDENT_TYPES)).sum()),
        "incident_country_in_set": int((country.notna() & ~country.isin(_country_codes())).sum()),
    }
    for column in ("image_count", "video_count", "other_file_count"):
        rules[f"{column}_non_negative"] = int((df[column].isna() | (df[column] < 0)).sum())

    def keyed(series: Any) -> dict[str, int]:
        return {_key(None if pd.isna(k) else k): int(n) for k, n in series.items()}

    summary = _summary(
        reports=len(df),
        by_source=keyed(by_source),
        by_incident_type=keyed(by_incident_type),
        by_esp=[(_key(k), int(n)) for k, n in zip(by_esp["esp_name"], by_esp["reports"])],
        by_country=keyed(by_country),
        files={"images": int(files["image_count"]), "videos": int(files["video_count"]),
               "other_files": int(files["other_file_count"])},
        rules=rules,
    )
    Path(out).write_text(json.dumps(summary, sort_keys=True), encoding="utf-8")
    return 0


def _summary(*, reports: int, by_source: dict[str, int], by_incident_type: dict[str, int],
             by_esp: list[tuple[str, int]], by_country: dict[str, int], files: dict[str, int],
             rules: dict[str, int]) -> dict[str, Any]:
    """What a worker computed, in a form that compares across workers (no record-level data)."""
    return {
        "reports": int(reports),
        "by_source": dict(sorted(by_source.items())),
        "by_incident_type": dict(sorted(by_incident_type.items())),
        "esps": len(by_esp),
        "esp_ranking_checksum": sum((rank + 1) * n for rank, (_, n) in enumerate(by_esp)),
        "countries_listed": sum(1 for k in by_country if k != "(null)"),
        "no_country_listed": int(by_country.get("(null)", 0)),
        "files": files,
        "rules": dict(sorted(rules.items())),
        "bad_rows": int(sum(rules.values())),
    }


# ---------------------------------------------------------------------------------------------
# The benchmark


def _impact_command() -> list[str]:
    script = Path(sys.executable).parent / "impact"
    if script.is_file():
        return [str(script)]
    found = shutil.which("impact")
    return [found] if found else [sys.executable, "-m", "pipelines.cli"]


def _scale_name(scale: float) -> str:
    return f"scale-{scale:g}"


def machine_facts() -> dict[str, Any]:
    from importlib import metadata

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    cpu_name = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_available": affinity,
        "cpu_model": cpu_name or platform.processor() or None,
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "duckdb": version("duckdb"),
        "dagster": version("dagster"),
        "pandas": version("pandas"),
        "pyarrow": version("pyarrow"),
        "polars": version("polars"),
        "great_expectations": version("great-expectations"),
        "pandera": version("pandera"),
        "impact_duckdb_threads": os.environ.get("IMPACT_DUCKDB_THREADS"),
    }


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Min wall and max peak RSS over the repeats, and the raw runs."""
    fastest = min(runs, key=lambda r: r["wall_s"])
    return {
        "wall_s": fastest["wall_s"],
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
        "cpu_s": fastest["user_s"] + fastest["sys_s"],
        "runs": runs,
    }


def _published_totals(release: Path) -> dict[str, int]:
    """Total reports and files of a release, to check the pipeline computed what the floor did."""
    totals: dict[str, int] = {}
    with (release / "cybertipline_reports_by_source.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["reporter_type"] == "Total":
                totals["reports"] = int(row["reports"])
    with (release / "cybertipline_files_by_type.csv").open(encoding="utf-8", newline="") as f:
        names = {"Images": "images", "Videos": "videos", "Other": "other_files"}
        for row in csv.DictReader(f):
            if row["file_type"] in names:
                totals[names[row["file_type"]]] = int(row["files"])
    return totals


def _import_profile(log_dir: Path, repeats: int) -> dict[str, Any]:
    """Wall time of ``import pipelines.definitions`` (min over repeats) and, from one
    ``-X importtime`` run, the cumulative import time of the heavy packages."""
    command = [sys.executable, "-c", "import pipelines.definitions"]
    runs = [measure(command, log_dir, f"import-definitions-{rep + 1}") for rep in range(repeats)]
    traced = measure([sys.executable, "-X", "importtime", *command[1:]], log_dir, "importtime")
    cumulative: dict[str, float] = {}
    for line in Path(traced["stderr"]).read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not line.startswith("import time:"):
            continue
        try:
            total_us = int(parts[1].strip())
        except ValueError:
            continue  # the header line
        module = parts[2].strip()
        if "." not in module:
            cumulative[module] = max(cumulative.get(module, 0.0), total_us / 1e6)
        if module == "pipelines.definitions":
            cumulative["pipelines.definitions"] = total_us / 1e6
    heavy = {m: round(cumulative[m], 3) for m in HEAVY_PACKAGES if m in cumulative}
    definitions_s = cumulative.pop("pipelines.definitions", None)
    top = sorted(cumulative.items(), key=lambda kv: kv[1], reverse=True)[:12]
    return {
        "command": " ".join(command),
        **_best(runs),
        "importtime_log": traced["stderr"],
        "definitions_cumulative_s": definitions_s,
        "heavy_packages_s": heavy,
        "top_level_modules_s": {m: round(s, 3) for m, s in top},
        "note": "cumulative import time at first import, from -X importtime (nested packages overlap)",
    }


def run_benchmark(
    work_dir: Path,
    scales: Sequence[float] = (1.0, 2.0),
    year: int = 2020,
    out_json: Path | None = None,
    *,
    repeats: int = 2,
    seed: int = 2020,
    pandas_max_scale: float | None = None,
    profile_imports: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Benchmark ``impact run`` against the floor and the pandas peer at each scale; write the
    results to ``out_json`` (default ``work_dir/results/bench.json``) and return them.

    ``pandas_max_scale``: skip the pandas peer above this scale (it needs about 4.4 GiB per
    21.75M reports). Raises :class:`BenchmarkError` when a command fails.
    """
    from pipelines.demo_data import CYBERTIPLINE_FILE, write_demo_exports

    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    scales = [float(s) for s in scales]
    if not scales or any(s <= 0 for s in scales):
        raise ValueError(f"scales must be positive numbers, got {scales!r}")
    if len(set(scales)) != len(scales):
        raise ValueError(f"scales must be distinct, got {scales!r}")
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    work_dir = Path(work_dir).resolve()
    out_json = Path(out_json) if out_json is not None else work_dir / "results" / "bench.json"
    work_dir.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "benchmark": "impact bench (issue 5)",
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "year": year,
        "seed": seed,
        "scales": scales,
        "repeats": repeats,
        "statistics": (
            f"wall time: minimum over {repeats} run(s); peak RSS: maximum over the runs; "
            "exports in the page cache (warm)"
        ),
        "rss_method": "getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh wrapper process per command",
        "work_dir": str(work_dir),
        "machine": machine_facts(),
        "commands": {
            "impact_run": " ".join(_impact_command())
            + f" run --year {year} --raw-dir <raw> --out-dir <out> --warehouse-dir <warehouse>",
            "floor": f"python {BENCH_FILE.name} _floor <parquet> {year} full   ({FLOOR_SQL.name}, unique_ids)",
            "floor_tight": f"python {BENCH_FILE.name} _floor <parquet> {year} tight   ({FLOOR_SQL.name}, unique_ids_bitmap)",
            "pandas": f"python {BENCH_FILE.name} _pandas <parquet> {year}",
        },
        "per_scale": [],
    }

    compile_package()

    if profile_imports:
        say("import profile: import pipelines.definitions")
        results["imports"] = _import_profile(work_dir / "imports", repeats)

    for scale in scales:
        scale_dir = work_dir / _scale_name(scale)
        raw_dir, log_dir, run_dir = scale_dir / "raw", scale_dir / "logs", scale_dir / "run"
        shutil.rmtree(raw_dir, ignore_errors=True)
        load_before = _load_average()
        say(f"scale {scale:g}: generating the demo exports into {raw_dir}")
        start = time.perf_counter()
        write_demo_exports(year, raw_dir, scale=scale, seed=seed)
        generation_s = time.perf_counter() - start
        parquet = raw_dir / str(year) / CYBERTIPLINE_FILE
        import pyarrow.parquet as pq

        reports = pq.read_metadata(parquet).num_rows
        skip_pandas = pandas_max_scale is not None and scale > pandas_max_scale
        commands: dict[str, list[str]] = {
            "floor": [sys.executable, str(BENCH_FILE), "_floor", str(parquet), str(year), "full",
                      str(log_dir / "floor.summary.json")],
            "floor_tight": [sys.executable, str(BENCH_FILE), "_floor", str(parquet), str(year), "tight",
                            str(log_dir / "floor_tight.summary.json")],
        }
        if not skip_pandas:
            commands["pandas"] = [sys.executable, str(BENCH_FILE), "_pandas", str(parquet), str(year),
                                  str(log_dir / "pandas.summary.json")]

        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in COMMANDS}
        step_runs: list[dict[str, float]] = []
        published: dict[str, int] = {}
        for rep in range(1, repeats + 1):
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            say(f"scale {scale:g}, run {rep}/{repeats}: impact run")
            command = [*_impact_command(), "run", "--year", str(year), "--raw-dir", str(raw_dir),
                       "--out-dir", str(run_dir / "published"),
                       "--warehouse-dir", str(run_dir / "warehouse")]
            measured = measure(command, log_dir, f"impact_run-{rep}", cwd=run_dir)
            steps = parse_step_durations(Path(measured["stderr"]).read_text(encoding="utf-8", errors="replace"))
            measured["steps_s"] = steps
            runs["impact_run"].append(measured)
            step_runs.append(steps)
            published = _published_totals(run_dir / "published" / str(year))
            for name, cmd in commands.items():
                say(f"scale {scale:g}, run {rep}/{repeats}: {name}")
                runs[name].append(measure(cmd, log_dir, f"{name}-{rep}"))

        measurements: dict[str, Any] = {}
        for name in COMMANDS:
            if not runs[name]:
                measurements[name] = {"skipped": f"pandas peer skipped above scale {pandas_max_scale:g}"}
                continue
            measurements[name] = _best(runs[name])
        fastest_run = min(runs["impact_run"], key=lambda r: r["wall_s"])
        measurements["impact_run"]["steps_s"] = fastest_run["steps_s"]
        measurements["impact_run"]["stages_s"] = stage_profile(fastest_run["steps_s"], fastest_run["wall_s"])

        summaries = {name: json.loads((log_dir / f"{name}.summary.json").read_text(encoding="utf-8"))
                     for name in commands}
        reference = summaries["floor"]
        disagreements = [name for name, s in summaries.items() if s != reference]
        pipeline_expected = {"reports": reference["reports"], **reference["files"]}
        if published != pipeline_expected:
            disagreements.append("impact_run (published totals)")
        if reference["reports"] != reports:
            disagreements.append("floor (row count)")
        floor_wall = measurements["floor"]["wall_s"]
        run_wall = measurements["impact_run"]["wall_s"]
        ratios: dict[str, Any] = {
            "impact_run_over_floor": run_wall / floor_wall,
            "impact_run_over_floor_tight": run_wall / measurements["floor_tight"]["wall_s"],
            "pandas_over_impact_run": (
                measurements["pandas"]["wall_s"] / run_wall if "wall_s" in measurements["pandas"] else None
            ),
            "pandas_over_floor": (
                measurements["pandas"]["wall_s"] / floor_wall if "wall_s" in measurements["pandas"] else None
            ),
        }
        results["per_scale"].append({
            "scale": scale,
            "reports": reports,
            "parquet_bytes": parquet.stat().st_size,
            "generation_s": generation_s,
            "measurements": measurements,
            "ratios": ratios,
            "results_agree": not disagreements,
            "disagreements": disagreements,
            "floor_summary": {k: reference[k] for k in ("reports", "esps", "countries_listed", "files", "bad_rows")},
            "logs": str(log_dir),
            # Other processes on the machine skew the figures: 1-minute load before and after.
            "load_average_1m": {"before": load_before, "after": _load_average()},
        })
        say(
            f"scale {scale:g}: impact run {run_wall:.2f} s, floor {floor_wall:.2f} s "
            f"({ratios['impact_run_over_floor']:.2f}x)"
        )

    results["marginal"] = _marginal(results["per_scale"])
    results["targets"] = _targets(results)
    write_results(results, out_json)
    return results


def compile_package() -> None:
    """Compile the package's bytecode before timing anything. Python writes a module's bytecode at
    its first import, unless PYTHONDONTWRITEBYTECODE is set (as in some sandboxes and containers):
    then every timed run would compile the sources again. Compiled once here, as any earlier run
    would have left them."""
    compileall.compile_dir(str(BENCH_FILE.parent), quiet=2)


def write_results(results: dict[str, Any], out_json: Path) -> None:
    """Stamp ``finished_at``, write ``results`` as JSON to ``out_json`` and record its path under
    ``out_json``."""
    results["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    results["out_json"] = str(out_json)


def _marginal(per_scale: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Seconds per million reports between the smallest and the largest scale."""
    if len(per_scale) < 2:
        return None
    low = min(per_scale, key=lambda s: s["reports"])
    high = max(per_scale, key=lambda s: s["reports"])
    extra = high["reports"] - low["reports"]
    if extra <= 0:
        return None

    def per_million(name: str) -> float | None:
        a, b = low["measurements"][name], high["measurements"][name]
        if "wall_s" not in a or "wall_s" not in b:
            return None
        return (b["wall_s"] - a["wall_s"]) / extra * 1e6

    marginal: dict[str, Any] = {
        "from_scale": low["scale"],
        "to_scale": high["scale"],
        "extra_reports": extra,
        "formula": "(wall(high) - wall(low)) / (reports(high) - reports(low)) * 1e6",
    }
    for name in COMMANDS:
        marginal[f"{name}_s_per_million"] = per_million(name)
    floor = marginal["floor_s_per_million"]
    run = marginal["impact_run_s_per_million"]
    # A ratio only means something when the floor's cost does grow with the rows (at tiny scales
    # both differences are noise and may be negative).
    marginal["impact_run_over_floor"] = run / floor if floor is not None and floor > 0 and run is not None else None
    tight = marginal["floor_tight_s_per_million"]
    marginal["impact_run_over_floor_tight"] = (
        run / tight if tight is not None and tight > 0 and run is not None else None
    )
    return marginal


def _reference_scale(per_scale: list[dict[str, Any]]) -> dict[str, Any]:
    """The full-size year (scale 1.0) when benchmarked, else the largest scale."""
    for entry in per_scale:
        if entry["scale"] == 1.0:
            return entry
    return max(per_scale, key=lambda s: s["scale"])


def _targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    per_scale = results["per_scale"]
    ref = _reference_scale(per_scale)
    at = f"scale {ref['scale']:g}"
    targets = [
        {
            "name": "impact_run_over_floor",
            "target": f"impact run ≤ {TARGET_RUN_OVER_FLOOR:g}× the floor's wall time ({at})",
            "value": ref["ratios"]["impact_run_over_floor"],
            "met": ref["ratios"]["impact_run_over_floor"] <= TARGET_RUN_OVER_FLOOR,
        },
    ]
    worst = max(per_scale, key=lambda s: s["measurements"]["impact_run"]["peak_rss_bytes"])
    rss = worst["measurements"]["impact_run"]["peak_rss_bytes"]
    targets.append({
        "name": "impact_run_peak_rss",
        "target": f"impact run peak RSS ≤ {TARGET_PEAK_RSS_BYTES / GIB:g} GiB at every scale",
        "value": rss,
        "at_scale": worst["scale"],
        "met": rss <= TARGET_PEAK_RSS_BYTES,
    })
    marginal = results.get("marginal") or {}
    ratio = marginal.get("impact_run_over_floor")
    targets.append({
        "name": "marginal_cost_over_floor",
        "target": f"impact run's marginal cost per million reports ≤ {TARGET_MARGINAL_RATIO:g}× the floor's",
        "value": ratio,
        "met": None if ratio is None else ratio <= TARGET_MARGINAL_RATIO,
        # Not a target: the same against the tight floor, whose uniqueness check is the pipeline's.
        "value_against_tight_floor": marginal.get("impact_run_over_floor_tight"),
    })
    speedup = ref["ratios"]["pandas_over_impact_run"]
    targets.append({
        "name": "pandas_over_impact_run",
        "target": f"impact run ≥ {TARGET_PANDAS_SPEEDUP:g}× faster than the pandas peer ({at})",
        "value": speedup,
        "met": None if speedup is None else speedup >= TARGET_PANDAS_SPEEDUP,
    })
    return targets


# ---------------------------------------------------------------------------------------------
# Markdown


def _mark(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "**no**")


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def render_markdown(results: dict[str, Any]) -> str:
    """The benchmark as markdown: the table with ratios to the floor, the targets, the marginal
    cost, the profile of impact run by stage, and the import cost."""
    machine = results["machine"]
    repeats = results["repeats"]
    lines = [
        f"## impact bench: year {results['year']}, scales {', '.join(f'{s:g}' for s in results['scales'])}",
        "",
        f"{machine['cpus_available'] or machine['cpu_count']} CPU(s) ({machine['cpu_model'] or 'unknown CPU'}), "
        f"{_num((machine['memory_bytes'] or 0) / GIB, '{:.0f}')} GiB RAM, Python {machine['python']}, "
        f"DuckDB {machine['duckdb']}, Dagster {machine['dagster']}, pandas {machine['pandas']}. "
        f"Wall time: **minimum of {repeats} run(s)**; peak RSS: maximum of the runs; warm page cache.",
        "",
        "| scale | reports | command | wall (s) | × floor | peak RSS (MiB) | CPU (s) | target |",
        "|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    ref = _reference_scale(results["per_scale"])
    for entry in results["per_scale"]:
        floor = entry["measurements"]["floor"]["wall_s"]
        for name in COMMANDS:
            m = entry["measurements"][name]
            if "wall_s" not in m:
                lines.append(f"| {entry['scale']:g} | {entry['reports']:,} | {LABELS[name]} | skipped | | | | |")
                continue
            target = ""
            if name == "impact_run":
                target = f"≤ {TARGET_PEAK_RSS_BYTES / GIB:g} GiB RSS"
                if entry is ref:
                    target = f"≤ {TARGET_RUN_OVER_FLOOR:g}× floor, " + target
            elif name == "pandas" and entry is ref:
                target = f"≥ {TARGET_PANDAS_SPEEDUP:g}× impact run"
            lines.append(
                f"| {entry['scale']:g} | {entry['reports']:,} | {LABELS[name]} | {m['wall_s']:.2f} | "
                f"{m['wall_s'] / floor:.2f}× | {m['peak_rss_bytes'] / MIB:,.0f} | {m['cpu_s']:.1f} | {target} |"
            )
    lines += ["", "### Targets", "", "| target | measured | met |", "|---|---|---|"]
    for target in results["targets"]:
        value = target["value"]
        if target["name"] == "impact_run_peak_rss":
            shown = f"{value / GIB:.2f} GiB (scale {target['at_scale']:g})"
        elif target["name"] == "pandas_over_impact_run":
            shown = _num(value, "{:.2f}× (pandas wall / impact run wall)")
        elif target["name"] == "marginal_cost_over_floor":
            shown = _num(value, "{:.2f}×") + _num(
                target.get("value_against_tight_floor"), " ({:.2f}× the tight floor's)"
            ).replace("n/a", "")
        else:
            shown = _num(value, "{:.2f}×")
        lines.append(f"| {target['target']} | {shown} | {_mark(target['met'])} |")

    marginal = results.get("marginal")
    if marginal:
        lines += [
            "",
            f"### Marginal cost per million reports (scale {marginal['from_scale']:g} → {marginal['to_scale']:g}, "
            f"+{marginal['extra_reports']:,} reports)",
            "",
            "| command | s per million reports | × floor |",
            "|---|---:|---:|",
        ]
        floor = marginal["floor_s_per_million"]
        for name in COMMANDS:
            value = marginal[f"{name}_s_per_million"]
            ratio = value / floor if value is not None and floor is not None and floor > 0 else None
            lines.append(f"| {LABELS[name]} | {_num(value, '{:.3f}')} | {_num(ratio, '{:.2f}×')} |")

    lines += ["", "### impact run by stage (Dagster step durations of the fastest run)", ""]
    header = "| stage | " + " | ".join(f"scale {e['scale']:g} (s)" for e in results["per_scale"]) + " |"
    lines += [header, "|---|" + "---:|" * len(results["per_scale"])]
    for stage in STAGES:
        cells = []
        for entry in results["per_scale"]:
            m = entry["measurements"]["impact_run"]
            seconds = m["stages_s"][stage]
            cells.append(f"{seconds:.2f} ({seconds / m['wall_s']:.0%})")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    cells = [f"{e['measurements']['impact_run']['wall_s']:.2f}" for e in results["per_scale"]]
    lines.append("| **wall** | " + " | ".join(cells) + " |")
    lines += [
        "",
        "The CSV checks' Great Expectations validation runs in a worker process beside the run "
        "(pipelines/checks/gx_validation.py); their steps show only the time the run waited for it.",
    ]

    lines += ["", "Slowest steps:", ""]
    for entry in results["per_scale"]:
        steps = entry["measurements"]["impact_run"]["steps_s"]
        top = sorted(steps.items(), key=lambda kv: kv[1], reverse=True)[:6]
        lines.append(f"- scale {entry['scale']:g}: " + ", ".join(f"`{s}` {t:.2f} s" for s, t in top))

    imports = results.get("imports")
    if imports:
        heavy = ", ".join(f"{m} {s:.2f} s" for m, s in
                          sorted(imports["heavy_packages_s"].items(), key=lambda kv: -kv[1]))
        lines += [
            "",
            f"`{imports['command']}`: {imports['wall_s']:.2f} s wall (interpreter included), "
            f"{imports['peak_rss_bytes'] / MIB:,.0f} MiB; -X importtime: "
            f"{_num(imports['definitions_cumulative_s'])} s for the module, of which "
            f"(cumulative at first import, nested packages overlap) {heavy}.",
        ]
    loads = [f"scale {e['scale']:g}: {e['load_average_1m']['before']} → {e['load_average_1m']['after']}"
             for e in results["per_scale"]]
    lines += ["", f"1-minute load average before → after each scale (other processes skew the figures): "
              f"{'; '.join(loads)}."]
    disagree = [e for e in results["per_scale"] if not e["results_agree"]]
    lines.append("")
    if disagree:
        for entry in disagree:
            lines.append(f"**Results differ** at scale {entry['scale']:g}: {', '.join(entry['disagreements'])}.")
    else:
        lines.append("Floor, tight floor, pandas and the published totals of impact run agree at every scale.")
    if results.get("out_json"):
        lines.append(f"Raw numbers: `{results['out_json']}`.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Entry points: the workers (run as a script) and a stand-alone command line


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="impact bench (issue 5)")
    parser.add_argument("--work-dir", default="bench", type=Path)
    parser.add_argument("--scale", dest="scales", action="append", type=float)
    parser.add_argument("--year", default=2020, type=int)
    parser.add_argument("--out", default=None, type=Path)
    parser.add_argument("--repeats", default=2, type=int)
    parser.add_argument("--skip-pandas-above", default=None, type=float)
    parser.add_argument("--no-import-profile", action="store_true")
    args = parser.parse_args(argv)
    results = run_benchmark(
        args.work_dir, scales=tuple(args.scales or (1.0, 2.0)), year=args.year, out_json=args.out,
        repeats=args.repeats, pandas_max_scale=args.skip_pandas_above,
        profile_imports=not args.no_import_profile,
    )
    print(render_markdown(results))
    return 0


def _worker(argv: list[str]) -> int:
    command, *args = argv
    if command == "_measure":
        result_file, separator, *rest = args
        if separator != "--" or not rest:
            raise SystemExit("usage: bench.py _measure RESULT.json -- COMMAND...")
        return _measure_main(result_file, rest)
    if command == "_floor":
        path, year, variant, out = args
        return _floor_main(path, int(year), variant, out)
    if command == "_pandas":
        path, year, out = args
        return _pandas_main(path, int(year), out)
    raise SystemExit(f"unknown worker {command!r}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        # Run as a script: do not let the modules beside this file shadow installed ones.
        if sys.path and Path(sys.path[0]).resolve() == BENCH_FILE.parent:
            sys.path.pop(0)
        sys.exit(_worker(sys.argv[1:]))
    sys.exit(main())
