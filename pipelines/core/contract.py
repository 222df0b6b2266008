"""The raw export contract of raw/README.md as data: which files a year folder holds and their columns.

Ingest reads the column lists to reject unknown and missing columns; the validation suites
(pipelines/defs/accepting/export_contract.py, sql/audits/) hold the row-level rules.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_EXAMPLES = 5
"""A broken rule of the contract is reported with its count of bad rows and at most this many
example data-row numbers (or report ids)."""

DEMO_MARKER = "demo-exports.json"
"""Written by ``impact demo-data`` next to the exports it makes: ``{"generator": "impact
demo-data", "sha256": {<file name>: <SHA-256>}}``. Not an export (the ingest reads only the
five files by name); a release made from files whose content is the one recorded here says it
is synthetic (pipelines/accepting/ingest.py, ``demo_exports``)."""


@dataclass(frozen=True, eq=False)
class RawExport:
    """One file of a year's raw exports."""

    name: str  # the asset and table stem: raw_<name>
    file_name: str
    columns: tuple[str, ...]
    description: str
    parquet_types: dict[str, str] | None = None
    """For a Parquet export, the contract type of each column (pipelines/accepting/ingest.py: PARQUET_TYPES)."""

    @property
    def is_csv(self) -> bool:
        return self.file_name.endswith(".csv")

    @property
    def table(self) -> str:
        return f"raw_{self.name}"


CASES = RawExport(
    name="cases",
    file_name="cases.csv",
    columns=(
        "case_number",
        "intake_date",
        "resolved_date",
        "case_type",
        "age_at_missing",
        "race",
        "missing_state",
    ),
    description="Case-management export: one row per missing-child case the source system touched.",
)
CYBERTIPLINE_REPORTS = RawExport(
    name="cybertipline_reports",
    file_name="cybertipline_reports.parquet",
    columns=(
        "report_id",
        "received_at",
        "reporter_type",
        "esp_name",
        "incident_type",
        "incident_country",
        "image_count",
        "video_count",
        "other_file_count",
    ),
    description="One row per CyberTipline report received in the year.",
    parquet_types={
        "report_id": "integer",
        "received_at": "timestamp with a time zone (a UTC instant)",
        "reporter_type": "string",
        "esp_name": "string",
        "incident_type": "string",
        "incident_country": "string",
        "image_count": "integer",
        "video_count": "integer",
        "other_file_count": "integer",
    },
)
CVIP_REQUESTS = RawExport(
    name="cvip_requests",
    file_name="cvip_requests.csv",
    columns=("request_id", "received_date", "agency_type", "image_count", "video_count"),
    description="One row per law-enforcement request to the Child Victim Identification Program.",
)
CVIP_OFFENDER_RELATIONSHIPS = RawExport(
    name="cvip_offender_relationships",
    file_name="cvip_offender_relationships.csv",
    columns=("victim_id", "relationship"),
    description="Known offender relationships of children in actively traded imagery, as of Dec 31.",
)
PROGRAM_METRICS = RawExport(
    name="program_metrics",
    file_name="program_metrics.csv",
    columns=("metric_id", "period", "value", "since", "source"),
    description="Figures kept in other systems (FBI NCIC, AMBER, forensic imaging, Team Adam...).",
)

RAW_EXPORTS: tuple[RawExport, ...] = (
    CASES,
    CYBERTIPLINE_REPORTS,
    CVIP_REQUESTS,
    CVIP_OFFENDER_RELATIONSHIPS,
    PROGRAM_METRICS,
)

COMPLETE_MARKER = "_SUCCESS"
"""The file a producer writes in ``raw/<year>/`` after the last export of the year, as Spark and
Hadoop jobs do: the year is complete when the five exports and this marker are there and no
export was modified after it (raw/README.md, "When a year is complete")."""
