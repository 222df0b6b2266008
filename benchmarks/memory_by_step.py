"""Where `impact run` holds its memory and spends its CPU: sampled every 0.1 s, step by step.

    .venv/bin/python benchmarks/memory_by_step.py --raw-dir bench/scale-10/raw --work-dir /tmp/mem

Runs ``impact run --year 2020`` (fresh release and warehouse folders under the work folder, logged
at DEBUG), reads its RSS from ``/proc/<pid>/status`` (VmRSS) and its CPU time from
``/proc/<pid>/stat`` (user + system, every thread) every 0.1 s, and prints, for each Dagster step
in the order it ran, its start, its duration, its CPU seconds and the cores it kept busy on average
(CPU / wall: 1.0 is one core, serial work), the RSS when it started and the highest RSS while it
ran; then the same for the time before the first step (interpreter, imports, run setup), between
the steps and after the last one, and the peak. CPU time, unlike wall time, is little changed by
other processes on the machine. A script that prints numbers, like the other benchmarks; Linux
only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

STEP = re.compile(r'^(?P<at>\S+) \w+ \S+ - (?:Started|Finished) execution of step "(?P<step>[^"]+)"', re.M)
"""A step's start or end in a run's log file (<warehouse>/logs/<year>-<run id>.log: every event)."""
MIB = 1024  # VmRSS is in KiB


TICK = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of the process so far, every thread (``/proc/<pid>/stat``)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def sample(command: list[str], log: Path) -> list[tuple[float, int, float]]:
    """Run ``command`` (output to ``log``) and sample its RSS and CPU time until it exits."""
    samples = []
    with log.open("wb") as out:
        env = {**os.environ, "IMPACT_LOG_LEVEL": "DEBUG"}
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        while process.poll() is None:
            rss, cpu = rss_kib(process.pid), cpu_seconds(process.pid)
            if rss is not None and cpu is not None:
                samples.append((time.time(), rss, cpu))
            time.sleep(0.1)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} exited with {process.returncode} (log: {log})")
    return samples


def steps(logs: Path) -> list[tuple[str, float, float]]:
    """(step, start, end) in epoch seconds, from the step events of every run's log file in
    ``logs`` (the year's runs: accepting, then publishing), in start order."""
    started: dict[str, float] = {}
    spans = []
    text = "\n".join(log.read_text(errors="replace") for log in sorted(logs.glob("*.log")))
    for match in STEP.finditer(text):
        at = datetime.fromisoformat(match["at"]).timestamp()
        if match["step"] in started:
            spans.append((match["step"], started.pop(match["step"]), at))
        else:
            started[match["step"]] = at
    return sorted(spans, key=lambda span: span[1])


def with_gaps(spans: list[tuple[str, float, float]], start: float, end: float) -> list[tuple[str, float, float]]:
    """The steps, and what lies outside them: before the first (interpreter, imports, the first
    run's launch), a gap of 0.2 s or more between two steps (Dagster's own work: the next run's
    launch, the first step of a run) and after the last (run teardown, the run's log, exit)."""
    rows, at = [], start
    for name, begin, finish in spans:
        if not rows:
            rows.append(("(before the first step)", start, begin))
        elif begin - at >= 0.2:
            rows.append(("(between the steps)", at, begin))
        rows.append((name, begin, finish))
        at = max(at, finish)
    rows.append(("(after the last step)", at, end))
    return rows


def cpu_between(spans: list[tuple[str, float, float]], samples: list[tuple[float, int, float]]) -> tuple[float, float]:
    """Wall and CPU seconds between consecutive steps, all gaps together."""
    wall = cpu = 0.0
    for (_, _, finish), (_, begin, _) in zip(spans, spans[1:]):
        if begin <= finish:
            continue
        before = [s for s in samples if s[0] <= finish] or samples[:1]
        after = [s for s in samples if s[0] >= begin] or samples[-1:]
        wall += begin - finish
        cpu += after[0][2] - before[-1][2]
    return wall, cpu


def row(name: str, begin: float, end: float, start: float, samples: list[tuple[float, int, float]]) -> str:
    """One line of the table: the samples within [begin, end] give the RSS and the CPU time."""
    before = [s for s in samples if s[0] <= begin] or samples[:1]
    inside = [s for s in samples if begin <= s[0] <= end] or before[-1:]
    after = [s for s in samples if s[0] >= end] or samples[-1:]
    cpu = after[0][2] - before[-1][2] if samples else 0.0
    span = (after[0][0] - before[-1][0]) if samples else 0.0
    busy = f"{cpu / span:.2f}" if span > 0 else ""
    return (
        f"| {name} | {begin - start:.1f} | {end - begin:.2f} | {cpu:.2f} | {busy} "
        f"| {before[-1][1] // MIB if before else 0} MiB | {max(s[1] for s in inside) // MIB if inside else 0} MiB |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, required=True, help="holds 2020/ with the exports")
    parser.add_argument("--work-dir", type=Path, required=True, help="release, warehouse and log")
    args = parser.parse_args()
    work = args.work_dir.resolve()
    for folder in ("published", "warehouse"):
        shutil.rmtree(work / folder, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    impact = str(Path(sys.executable).with_name("impact"))
    log = work / "impact-run.log"
    command = [impact, "run", "--verbose", "--year", "2020", "--raw-dir", str(args.raw_dir)]
    command += ["--out-dir", str(work / "published"), "--warehouse-dir", str(work / "warehouse")]
    load = os.getloadavg()[0]
    started = time.time()
    samples = sample(command, log)
    print(f"load average when it started: {load:.1f} (1 minute)")
    print("| step | starts (s) | takes (s) | CPU (s) | cores busy | RSS at start | highest RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    spans = steps(work / "warehouse" / "logs")
    for name, begin, end in with_gaps(spans, started, samples[-1][0] if samples else started):
        print(row(name, begin, end, started, samples))
    wall, cpu = cpu_between(spans, samples)
    print(f"\nBetween the steps, all gaps together: {wall:.2f} s, {cpu:.2f} CPU-s")
    peak_at, peak, _ = max(samples, key=lambda s: s[1])
    print(f"Peak: {peak // MIB} MiB at {peak_at - started:.1f} s of {samples[-1][0] - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
