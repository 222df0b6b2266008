"""``program_metrics.csv``: the profile's figures kept in other systems, with the CyberTipline
counts resized like the export and the figures that look back a year following last year's
release when there is one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.core.contract import PROGRAM_METRICS
from pipelines.demo.common import write_csv
from pipelines.demo.cybertipline_reports import cybertipline_plan, resized
from pipelines.demo.neighbours import YearFigures
from pipelines.demo.profiles import PROFILES_DIR, load_profile

CYBERTIPLINE = "cybertipline_reports"


def rows(profile: dict[str, Any], year: int, scale: float, previous: YearFigures | None = None) -> list[tuple]:
    """The rows of program_metrics.csv, in the profile's order.

    Beside a release of last year (``previous``), the product's checks require each
    ``prior_year`` figure to equal last year's published yearly figure and each ``cumulative``
    figure to be at least last year's: a prior-year figure is then last year's published one,
    and a cumulative figure last year's published one plus the year's growth (for the
    CyberTipline reports, the reports of this year's export; otherwise the profile's growth from
    last year's profile). Demo years at the same scale get the profiles' figures back; at another
    scale they still agree with the release beside them.

    Without that release, a resized CyberTipline export resizes its figures too, or the checks
    would refuse the year: last year's count is the resized count of last year's profile when
    there is one, otherwise the figure resized like the export; the cumulative count is resized
    like the export, so it stays at least the year's count and never goes down from one year to
    the next at one scale. The other figures are the profile's."""
    reports = cybertipline_plan(profile, scale)["n"]
    earlier = load_profile(year - 1) if (PROFILES_DIR / f"{year - 1}.toml").is_file() else None
    before = {(m["metric_id"], m["period"]): int(m["value"]) for m in (earlier or {}).get("program_metrics", [])}

    def growth(metric: dict[str, Any]) -> int:
        if metric["metric_id"] == CYBERTIPLINE:
            return reports
        key = (metric["metric_id"], metric["period"])
        return int(metric["value"]) - before[key] if key in before else 0

    def value(metric: dict[str, Any]) -> int:
        metric_id, period = metric["metric_id"], metric["period"]
        published = previous.headline if previous is not None else {}
        if period == "prior_year" and (metric_id, "year") in published:
            return published[(metric_id, "year")]
        if period == "cumulative" and (metric_id, period) in published:
            return published[(metric_id, period)] + growth(metric)
        if scale == 1.0 or metric_id != CYBERTIPLINE:
            return int(metric["value"])
        if period == "prior_year" and earlier is not None:
            return cybertipline_plan(earlier, scale)["n"]
        return resized(int(metric["value"]), scale)

    return [
        (m["metric_id"], m["period"], value(m), "" if m.get("since") in (None, "") else int(m["since"]), m["source"])
        for m in profile.get("program_metrics", [])
    ]


def write(path: Path, metric_rows: list[tuple]) -> None:
    write_csv(path, PROGRAM_METRICS.columns, metric_rows)
