"""benchmarks/sensor_tick.py runs over a raw folder and writes its ticks: the first asks for the
year, warm ones read no export, a touched export is hashed again. No timing: it is a script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.exports import YearExports

REPO = Path(__file__).resolve().parents[2]


def test_the_sensor_benchmark_writes_its_ticks(tmp_path: Path) -> None:
    folder = YearExports.small(2020).write(tmp_path / "raw")
    (folder / "_SUCCESS").touch()
    out = tmp_path / "ticks.json"
    subprocess.run(
        [sys.executable, "benchmarks/sensor_tick.py", "--raw-dir", str(tmp_path / "raw"), "--warm-ticks", "2"]
        + ["--out", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    ticks = json.loads(out.read_text())["ticks"]
    assert [t["run_requests"] for t in ticks] == [1, 0, 0, 0]
    assert ticks[-1]["tick"] == "cybertipline_reports.parquet touched (hashed again)"
    assert all(t["seconds"] >= 0 for t in ticks)
