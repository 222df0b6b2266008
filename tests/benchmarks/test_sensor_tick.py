"""benchmarks/sensor_tick.py runs over a raw folder and writes its ticks: the first asks for the
year, warm ones read no export, a touched export is hashed again. No timing: it is a script, run
here in this process (its main, with its command line) rather than in an interpreter of its own."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks import sensor_tick
from tests.exports import YearExports


def test_the_sensor_benchmark_writes_its_ticks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    folder = YearExports.small(2020).write(tmp_path / "raw")
    (folder / "_SUCCESS").touch()
    out = tmp_path / "ticks.json"
    arguments = ["--raw-dir", str(tmp_path / "raw"), "--warm-ticks", "2", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["benchmarks/sensor_tick.py", *arguments])
    sensor_tick.main()
    ticks = json.loads(out.read_text())["ticks"]
    assert [t["run_requests"] for t in ticks] == [1, 0, 0, 0]
    assert ticks[-1]["tick"] == "cybertipline_reports.parquet touched (hashed again)"
    assert all(t["seconds"] >= 0 for t in ticks)
    assert len(capsys.readouterr().out.splitlines()) == len(ticks)  # one printed line per tick
