"""What `impact run` is compared with: the same CyberTipline aggregates and row rules computed
straight from the Parquet export by a bare DuckDB script (the floor), by polars' streaming engine
and by pandas, the programs a user would write instead of the pipeline.

Each peer reduces the export to one row per (reporter_type, esp_name, incident_type,
incident_country) with counts, file sums and the per-row rules, and counts the repeated report ids;
``summarize`` turns that into the same small summary (totals and bad rows, no record-level data),
so the benchmark can check that every peer and the pipeline computed the same figures.

Run as ``python benchmarks/peers.py {floor,polars,pandas} PARQUET YEAR OUT_JSON``; the benchmark
times each run as its own process (benchmarks/bench.py).
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FLOOR_SQL = Path(__file__).with_name("floor.sql")
KEYS = ("reporter_type", "esp_name", "incident_type", "incident_country")
COUNTS = ("reports", "ids", "images", "videos", "other_files", "bad_received_at", "bad_file_counts")
INCIDENT_TYPES = frozenset(
    {
        "CSAM",
        "ONLINE_ENTICEMENT",
        "CHILD_SEX_TRAFFICKING",
        "CHILD_SEXUAL_MOLESTATION",
        "MISLEADING_WORDS_OR_IMAGES",
        "UNSOLICITED_OBSCENE_MATERIAL",
        "MISLEADING_DOMAIN_NAME",
        "CHILD_SEX_TOURISM",
    }
)
"""raw/README.md: the incident types of the contract."""


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def summarize(groups: list[tuple], repeated_ids: int) -> dict[str, Any]:
    """The summary of a peer's groups (KEYS + COUNTS per row): totals and bad rows of every rule."""
    import pycountry

    countries = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    total = dict.fromkeys(COUNTS, 0)
    public = bad_codes = 0
    esps, listed = set(), set()
    for reporter_type, esp_name, incident_type, country, *counts in groups:
        row = dict(zip(COUNTS, (int(c or 0) for c in counts)))
        for name, value in row.items():
            total[name] += value
        public += row["reports"] if reporter_type == "PUBLIC" else 0
        esps.add(esp_name) if esp_name is not None else None
        listed.add(country) if country is not None else None
        named = esp_name is not None and esp_name.strip() != ""
        if (
            reporter_type not in ("ESP", "PUBLIC")
            or (reporter_type == "ESP" and not named)
            or (reporter_type == "PUBLIC" and esp_name is not None)
            or incident_type not in INCIDENT_TYPES
            or (country is not None and country not in countries)
        ):
            bad_codes += row["reports"]
    return {
        "reports": total["reports"],
        "public_reports": public,
        "esps": len(esps),
        "countries": len(listed),
        "images": total["images"],
        "videos": total["videos"],
        "other_files": total["other_files"],
        "bad_rows": (
            total["reports"]
            - total["ids"]
            + total["bad_received_at"]
            + total["bad_file_counts"]
            + bad_codes
            + int(repeated_ids)
        ),
    }


def floor(path: str, year: int) -> dict[str, Any]:
    import duckdb

    start, end = _year_bounds(year)
    params = {"path": path, "year_start": start, "next_year_start": end}
    sections = re.split(r"^-- name: (\w+)\s*$", FLOOR_SQL.read_text(encoding="utf-8"), flags=re.M)[1:]
    results = {}
    # Capped like the product's warehouse (IMPACT_DUCKDB_MEMORY_LIMIT, default 512MiB): uncapped,
    # DuckDB takes 80% of the machine's memory for uniqueness at ten times 2020 (8 GiB).
    con = duckdb.connect(config={"memory_limit": os.environ.get("IMPACT_DUCKDB_MEMORY_LIMIT", "512MiB")})
    for name, sql in zip(sections[::2], sections[1::2]):
        used = {k: params[k] for k in dict.fromkeys(re.findall(r"\$(\w+)", sql))}
        results[name] = con.execute(sql, used).fetchall()
    con.close()
    return summarize(results["counts"], results["repeated_ids"][0][0])


def polars_streaming(path: str, year: int) -> dict[str, Any]:
    import polars as pl

    start, end = _year_bounds(year)
    export = pl.scan_parquet(path)
    received = pl.col("received_at")
    files = ("image_count", "video_count", "other_file_count")
    groups = export.group_by(KEYS).agg(
        reports=pl.len(),
        ids=pl.col("report_id").count(),
        images=pl.col("image_count").sum(),
        videos=pl.col("video_count").sum(),
        other_files=pl.col("other_file_count").sum(),
        bad_received_at=(received.is_null() | (received < start) | (received >= end)).sum(),
        bad_file_counts=pl.any_horizontal(*(pl.col(c).is_null() | (pl.col(c) < 0) for c in files)).sum(),
    )
    repeated = export.select(pl.col("report_id").count() - pl.col("report_id").drop_nulls().n_unique())
    return summarize(groups.collect(engine="streaming").rows(), repeated.collect(engine="streaming").item())


def pandas(path: str, year: int) -> dict[str, Any]:
    import pandas as pd

    start, end = _year_bounds(year)
    df = pd.read_parquet(path)
    files = df[["image_count", "video_count", "other_file_count"]]
    df["bad_received_at"] = df["received_at"].isna() | (df["received_at"] < start) | (df["received_at"] >= end)
    df["bad_file_counts"] = (files.isna() | (files < 0)).any(axis=1)
    groups = (
        df.groupby(list(KEYS), dropna=False)
        .agg(
            reports=("report_id", "size"),
            ids=("report_id", "count"),
            images=("image_count", "sum"),
            videos=("video_count", "sum"),
            other_files=("other_file_count", "sum"),
            bad_received_at=("bad_received_at", "sum"),
            bad_file_counts=("bad_file_counts", "sum"),
        )
        .reset_index()
    )
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in groups.itertuples(index=False)]
    return summarize(rows, int(df["report_id"].dropna().duplicated().sum()))


PEERS = {"floor": floor, "polars": polars_streaming, "pandas": pandas}


def main(argv: list[str]) -> int:
    peer, path, year, out = argv
    Path(out).write_text(json.dumps(PEERS[peer](path, int(year)), sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
