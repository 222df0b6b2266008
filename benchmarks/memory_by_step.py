"""Where `impact run` holds its memory: its resident set sampled every 0.1 s, step by step.

    .venv/bin/python benchmarks/memory_by_step.py --raw-dir bench/scale-10/raw --work-dir /tmp/mem

Runs ``impact run --year 2020`` (fresh release and warehouse folders under the work folder, logged
at DEBUG), reads its RSS from ``/proc/<pid>/status`` (VmRSS) every 0.1 s, and prints, for each
Dagster step in the order it ran, its start, its duration, the RSS when it started and the
highest RSS while it ran; then the RSS before the first step (interpreter and imports) and the
peak. A script that prints numbers, like the other benchmarks; Linux only.
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

STEP = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) - dagster - .*? - (?:Started|Finished) execution of step "
    r'"(?P<step>[^"]+)"',
    re.M,
)
MIB = 1024  # VmRSS is in KiB


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def sample(command: list[str], log: Path) -> list[tuple[float, int]]:
    """Run ``command`` (output to ``log``) and sample its RSS until it exits."""
    samples = []
    with log.open("wb") as out:
        env = {**os.environ, "IMPACT_LOG_LEVEL": "DEBUG"}
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        while process.poll() is None:
            rss = rss_kib(process.pid)
            if rss is not None:
                samples.append((time.time(), rss))
            time.sleep(0.1)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} exited with {process.returncode} (log: {log})")
    return samples


def steps(log: Path) -> list[tuple[str, float, float]]:
    """(step, start, end) in epoch seconds, from the DEBUG log's step events, in start order."""
    started: dict[str, float] = {}
    spans = []
    for match in STEP.finditer(log.read_text(errors="replace")):
        at = datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if match["step"] in started:
            spans.append((match["step"], started.pop(match["step"]), at))
        else:
            started[match["step"]] = at
    return sorted(spans, key=lambda span: span[1])


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
    samples = sample(command, log)
    start = samples[0][0]
    spans = steps(log)
    print("| step | starts (s) | takes (s) | RSS at start | highest RSS |")
    print("|---|---:|---:|---:|---:|")
    for step, begin, end in spans:
        before = [rss for at, rss in samples if at <= begin]
        inside = [rss for at, rss in samples if begin <= at <= end] or before[-1:]
        print(
            f"| {step} | {begin - start:.1f} | {end - begin:.2f} | {before[-1] // MIB if before else 0} MiB "
            f"| {max(inside) // MIB if inside else 0} MiB |"
        )
    first = spans[0][1] if spans else samples[-1][0]
    imports = max((rss for at, rss in samples if at <= first), default=0)
    peak_at, peak = max(samples, key=lambda s: s[1])
    print(f"\nBefore the first step (interpreter, imports, run setup): {imports // MIB} MiB")
    print(f"Peak: {peak // MIB} MiB at {peak_at - start:.1f} s of {samples[-1][0] - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
