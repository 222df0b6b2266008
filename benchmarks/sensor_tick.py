"""How long a tick of raw_exports_sensor takes over a raw folder: the first tick (it reads every
export once, for its SHA-256), then ticks with nothing changed (the cursor is warm: one ``stat``
per file), then a tick after one export's times changed (that file is read again).

The sensor is the code location's, evaluated in-process as the daemon evaluates it, over the
folders given; nothing is published (the requests are counted, not run). It prints a table and
writes JSON; it asserts nothing.

    .venv/bin/python benchmarks/sensor_tick.py --raw-dir /tmp/raw [--published-dir DIR] [--out ticks.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import dagster as dg

from pipelines.core.config import Folders
from pipelines.definitions import build_definitions
from pipelines.defs.sensors import EXPORT_FILES, MARKER, SENSOR_NAME


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", required=True)
    parser.add_argument("--published-dir", default=None, help="default: an empty folder beside the raw one")
    parser.add_argument("--warm-ticks", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    raw = Path(args.raw_dir).resolve()
    published = Path(args.published_dir or raw.parent / f"{raw.name}-published").resolve()
    folders = Folders(raw_dir=str(raw), published_dir=str(published), warehouse_dir=str(raw.parent / "unused"))
    defs = build_definitions(folders=folders)
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    instance = dg.DagsterInstance.ephemeral()
    cursor = None

    def tick(label: str) -> dict:
        nonlocal cursor
        started = time.perf_counter()
        # As the daemon ticks: the code location's resources, set up for the tick alone.
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, repository_def=defs.get_repository_def(), resources=defs.resources
        ) as context:
            data = sensor.evaluate_tick(context)
        seconds = time.perf_counter() - started
        cursor = data.cursor
        return {"tick": label, "seconds": round(seconds, 4), "run_requests": len(data.run_requests or [])}

    exports = sorted(p for year in raw.iterdir() if year.is_dir() for p in year.iterdir() if p.name in EXPORT_FILES)
    ticks = [tick("first (cold cursor: every export hashed)")]
    ticks += [tick(f"nothing changed ({i + 1})") for i in range(args.warm_ticks)]
    largest = max(exports, key=lambda p: p.stat().st_size)
    marker = largest.parent / MARKER
    now = time.time_ns()
    os.utime(largest, ns=(now, now))  # the same bytes, new times: read again, same hash
    os.utime(marker, ns=(now + 1, now + 1))
    ticks.append(tick(f"{largest.name} touched (hashed again)"))

    result = {
        "raw_dir": str(raw),
        "exports": {str(p.relative_to(raw)): p.stat().st_size for p in exports},
        "ticks": ticks,
    }
    for row in ticks:
        print(f"{row['seconds']:>10.4f} s  {row['run_requests']} request(s)  {row['tick']}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
