"""``program_metrics.csv``: the profile's figures kept in other systems, with the CyberTipline
counts resized like the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.core.contract import PROGRAM_METRICS
from pipelines.demo.common import write_csv
from pipelines.demo.cybertipline_reports import cybertipline_plan, resized
from pipelines.demo.profiles import PROFILES_DIR, load_profile


def write(profile: dict[str, Any], year: int, scale: float, path: Path) -> None:
    """The profile's program metrics. With a resized CyberTipline export, the CyberTipline report
    counts kept in other systems are resized with it, or the product's own checks would refuse
    the year: last year's count (``prior_year``) is the resized count of last year's profile when
    there is one (demo years generated at the same scale then agree with each other), otherwise
    the figure resized like the export; the ``cumulative`` count is resized like the export, so
    it stays at least the year's count and never goes down from one year to the next."""
    previous = PROFILES_DIR / f"{year - 1}.toml"

    def value(metric: dict[str, Any]) -> int:
        if scale == 1.0 or metric["metric_id"] != "cybertipline_reports":
            return int(metric["value"])
        if metric["period"] == "prior_year" and previous.is_file():
            return cybertipline_plan(load_profile(year - 1), scale)["n"]
        return resized(int(metric["value"]), scale)

    rows = [
        (m["metric_id"], m["period"], value(m), "" if m.get("since") in (None, "") else int(m["since"]), m["source"])
        for m in profile.get("program_metrics", [])
    ]
    write_csv(path, PROGRAM_METRICS.columns, rows)
