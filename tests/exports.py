"""Tiny hand-made raw exports for tests: a year folder that follows the contract of raw/README.md.

Each test states only the rows it is about; everything else is a small valid default.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.contract import CASES, CVIP_OFFENDER_RELATIONSHIPS, CVIP_REQUESTS, PROGRAM_METRICS

REPORT_SCHEMA = pa.schema(
    [
        ("report_id", pa.int64()),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("reporter_type", pa.string()),
        ("esp_name", pa.string()),
        ("incident_type", pa.string()),
        ("incident_country", pa.string()),
        ("image_count", pa.int32()),
        ("video_count", pa.int32()),
        ("other_file_count", pa.int32()),
    ]
)


def case(
    number: str,
    intake: str,
    resolved: str = "",
    case_type: str = "ERU",
    age: int | str = 15,
    race: str = "WH",
    state: str = "TX",
) -> dict[str, str]:
    return {
        "case_number": number,
        "intake_date": intake,
        "resolved_date": resolved,
        "case_type": case_type,
        "age_at_missing": str(age),
        "race": race,
        "missing_state": state,
    }


def resolved_cases(prefix: str, count: int, year: int = 2020, state: str = "TX") -> list[dict[str, str]]:
    """``count`` resolved cases of one kind (ERU, age 15, WH) in one state. A revision that adds
    one more such case changes no count across the line of small counts, so it can be published
    with its public tables protected together with the earlier release's (a 0 or a 9 that
    becomes small or published can not: docs/public-use.md, "A revised year")."""
    return [case(f"{prefix}{i}", f"{year}-06-01", f"{year}-06-02", state=state) for i in range(count)]


def report(
    report_id: int,
    reporter_type: str = "ESP",
    esp_name: str | None = "Example ESP",
    incident_type: str = "CSAM",
    country: str | None = "US",
    images: int = 1,
    videos: int = 0,
    other: int = 0,
    received_at: datetime | None = None,
    year: int = 2020,
) -> dict:
    return {
        "report_id": report_id,
        "received_at": received_at or datetime(year, 6, 1, 12, 0, tzinfo=UTC),
        "reporter_type": reporter_type,
        "esp_name": esp_name if reporter_type == "ESP" else None,
        "incident_type": incident_type,
        "incident_country": country,
        "image_count": images,
        "video_count": videos,
        "other_file_count": other,
    }


@dataclass
class YearExports:
    """The five exports of one year, as rows; ``write`` puts them in ``raw_dir/<year>/``."""

    year: int = 2020
    cases: list[dict] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    cvip_requests: list[dict] = field(default_factory=list)
    relationships: list[dict] = field(default_factory=list)
    program_metrics: list[dict] = field(default_factory=list)

    @classmethod
    def small(cls, year: int = 2020) -> YearExports:
        return cls(
            year=year,
            cases=[
                case("C1", f"{year}-02-01", f"{year}-02-03"),
                case("C2", f"{year}-03-01", "", case_type="FA", age=4, race="BL", state="CA"),
            ],
            reports=[
                report(1, year=year),
                report(2, "PUBLIC", None, "ONLINE_ENTICEMENT", None, 0, 1, 0, year=year),
            ],
            cvip_requests=[
                {
                    "request_id": "R1",
                    "received_date": f"{year}-04-01",
                    "agency_type": "FEDERAL",
                    "image_count": "10",
                    "video_count": "2",
                },
            ],
            relationships=[{"victim_id": "V1", "relationship": "PARENT_GUARDIAN"}],
            program_metrics=[
                {
                    "metric_id": "ncic_missing_child_entries",
                    "period": "year",
                    "value": "1000",
                    "since": "",
                    "source": "FBI NCIC",
                },
            ],
        )

    def write(self, raw_dir: Path) -> Path:
        folder = raw_dir / str(self.year)
        folder.mkdir(parents=True, exist_ok=True)
        for export, rows in (
            (CASES, self.cases),
            (CVIP_REQUESTS, self.cvip_requests),
            (CVIP_OFFENDER_RELATIONSHIPS, self.relationships),
            (PROGRAM_METRICS, self.program_metrics),
        ):
            with (folder / export.file_name).open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=export.columns, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
        table = pa.Table.from_pylist(self.reports, schema=REPORT_SCHEMA)
        pq.write_table(table, folder / "cybertipline_reports.parquet")
        return folder
