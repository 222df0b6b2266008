"""The release's ``datapackage.json``: a Frictionless (Tabular) Data Package describing its CSVs.

One resource per published table: where the CSV is, how it is written (UTF-8, comma, LF line
ends, double-quote quoting), its size and SHA-256, and a Table Schema (types from the sibling
Parquet file, titles as published, constraints, primary key). The table descriptions are the
header comments of ``sql/published/<table>.sql``, so they are written in one place.

The file is part of the release and so must be byte-identical from run to run: no ``created``
time stamp, keys sorted, fixed indentation. The frictionless tool is the validator
(``frictionless validate published/<year>/datapackage.json``); see tests/test_release_docs.py.

The titles and column descriptions below are also the table headers of ``report.html``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import SEEDS_DIR
from pipelines.manifest import sha256_file
from pipelines.sql_models import models

FILE_NAME = "datapackage.json"
VERSION = "1.0.0"
"""Version of a year's data package; bump it by hand if a year is ever reissued."""

LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}

DIALECT = {
    "delimiter": ",",
    "doubleQuote": True,
    "header": True,
    "lineTerminator": "\n",
    "quoteChar": '"',
}

TABLE_TITLES = {
    "missing_children_by_case_type": "Missing children by case type",
    "missing_children_by_age_and_race": "Missing children by age group and race",
    "missing_children_by_state": "Missing children by state",
    "cvip_requests_by_agency": "Child Victim Identification Program requests by agency",
    "offender_relationship_actively_traded": (
        "Offender relationships of children in actively traded imagery"
    ),
    "cybertipline_reports_by_source": "CyberTipline reports by source",
    "cybertipline_files_by_type": "CyberTipline files by type",
    "cybertipline_reports_by_incident_type": "CyberTipline reports by incident type",
    "cybertipline_reports_by_esp": "CyberTipline reports by electronic service provider",
    "cybertipline_reports_by_country": "CyberTipline reports by country",
    "headline_metrics": "Headline figures",
}

PRIMARY_KEYS = {
    "missing_children_by_case_type": ["year", "case_type"],
    "missing_children_by_age_and_race": ["year", "age_group"],
    "missing_children_by_state": ["year", "missing_state"],
    "cvip_requests_by_agency": ["year", "agency_type"],
    "offender_relationship_actively_traded": ["year", "relationship"],
    "cybertipline_reports_by_source": ["year", "reporter_type"],
    "cybertipline_files_by_type": ["year", "file_type"],
    "cybertipline_reports_by_incident_type": ["year", "incident_type"],
    "cybertipline_reports_by_esp": ["year", "esp_name"],
    "cybertipline_reports_by_country": ["year", "country"],
    "headline_metrics": ["year", "metric_id", "period"],
}

# (title, description) of every published column; race columns come from sql/seeds/races.csv.
COLUMNS = {
    "year": ("Year", "The calendar year the figures are about."),
    "case_type": ("Case type", "Type of missing-child case, then Total."),
    "active": ("Active", "Cases of the year still open on December 31 of the year."),
    "resolved": ("Resolved", "Cases of the year resolved by December 31 of the year."),
    "total": ("Total", "All cases of the row."),
    "age_group": ("Age group", "Age of the child when missing, in years, then Total."),
    "missing_state": ("State", "Where the child went missing: a US state, DC, Puerto Rico or International, then Total."),
    "agency_type": ("Agency type", "Type of law-enforcement agency that made the requests, then Grand Total."),
    "requests": ("Requests", "Requests received in the year."),
    "images": ("Images", "Images submitted with the requests."),
    "videos": ("Videos", "Videos submitted with the requests."),
    "relationship": ("Relationship", "Known relationship of the offender to the child, then Total."),
    "known_relationships": ("Known relationships", "Known offender relationships (a child can have several)."),
    "percent_of_total": ("Percent of total", "Share of all known relationships, in percent, two decimals rounded half away from zero."),
    "reporter_type": ("Source", "Who made the reports, then Total."),
    "reports": ("Reports", "CyberTipline reports received in the year."),
    "file_type": ("File type", "Kind of file attached to the reports, then Total."),
    "files": ("Files", "Files attached to the reports received in the year."),
    "incident_type": ("Incident type", "Type of incident reported, in published order, then Total."),
    "esp_name": ("Electronic service provider", "Name of the reporting company, most reports first, then Total."),
    "country_code": ("Country code", "ISO 3166-1 alpha-2 code (XK for Kosovo); empty for No Country Listed and Total."),
    "country": ("Country", "Country of the incident (English short name), then No Country Listed, then Total."),
    "metric_id": ("Metric", "Identifier of the figure in the metric catalog (sql/seeds/metric_catalog.csv)."),
    "period": ("Period", "year, cumulative (since the year in since, when known), current (level at year end) or prior_year."),
    "since": ("Since", "First year of a cumulative count; empty when not stated."),
    "value": ("Value", "The exact figure."),
    "display_text": ("As published", "The figure as it is written in prose, from the catalog's display rule."),
    "source": ("Source", "Where the figure comes from."),
    "change_from_prior_year": (
        "Change from prior year",
        "This figure less the same figure in last year's release; empty when there is none.",
    ),
}
TOTAL_DESCRIPTIONS = {
    "missing_children_by_case_type": "Active and resolved cases of the row.",
    "missing_children_by_age_and_race": "Cases of the age group, all races.",
    "missing_children_by_state": "Active and resolved cases of the row.",
}
OPTIONAL_COLUMNS = {"country_code", "since", "change_from_prior_year"}
SIGNED_COLUMNS = {"since", "change_from_prior_year"}
"""Integer columns that are not counts: no minimum of 0."""
"""Columns that may be empty; every other column is required."""


def race_titles() -> dict[str, str]:
    with (SEEDS_DIR / "races.csv").open(encoding="utf-8", newline="") as handle:
        return {row["column_name"]: row["label"] for row in csv.DictReader(handle)}


def column_title(name: str) -> str:
    races = race_titles()
    if name in races:
        return races[name]
    try:
        return COLUMNS[name][0]
    except KeyError:
        raise KeyError(f"published column {name!r} has no title: add it to COLUMNS in {__name__}") from None


def column_description(table: str, name: str) -> str:
    if name == "total" and table in TOTAL_DESCRIPTIONS:
        return TOTAL_DESCRIPTIONS[table]
    races = race_titles()
    if name in races:
        return f"Cases of the age group whose race is {races[name]}."
    return COLUMNS[name][1]


def table_title(table: str) -> str:
    try:
        return TABLE_TITLES[table]
    except KeyError:
        raise KeyError(f"published table {table!r} has no title: add it to TABLE_TITLES in {__name__}") from None


def _field_type(table: str, field: pa.Field) -> str:
    if pa.types.is_integer(field.type):
        return "integer"
    if pa.types.is_decimal(field.type) or pa.types.is_floating(field.type):
        return "number"
    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
        return "string"
    raise TypeError(f"{table}.{field.name}: no Table Schema type for Parquet type {field.type}")


def _field(table: str, field: pa.Field, year: int) -> dict:
    kind = _field_type(table, field)
    constraints: dict = {}
    if field.name not in OPTIONAL_COLUMNS:
        constraints["required"] = True
    if field.name == "year":
        constraints.update(minimum=year, maximum=year)
    elif field.name == "percent_of_total":
        constraints.update(minimum=0, maximum=100)
    elif kind == "integer" and field.name not in SIGNED_COLUMNS:
        constraints["minimum"] = 0  # every other integer column is a count
    described = {
        "name": field.name,
        "title": column_title(field.name),
        "description": column_description(table, field.name),
        "type": kind,
    }
    if constraints:
        described["constraints"] = constraints
    return described


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def _resource(folder: Path, table: str, description: str, year: int) -> dict:
    csv_path = folder / f"{table}.csv"
    parquet_path = folder / f"{table}.parquet"
    schema = pq.read_schema(parquet_path)
    header = _csv_header(csv_path)
    if header != schema.names:
        raise ValueError(f"{csv_path.name}: columns {header} differ from {parquet_path.name}: {schema.names}")
    return {
        "name": table,
        "path": csv_path.name,
        "title": table_title(table),
        "description": description,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": dict(DIALECT),
        "bytes": csv_path.stat().st_size,
        "hash": f"sha256:{sha256_file(csv_path)}",
        "schema": {
            "fields": [_field(table, f, year) for f in schema],
            "primaryKey": PRIMARY_KEYS[table],
            "missingValues": [""],
        },
    }


def build_datapackage(folder: Path, year: int) -> dict:
    """The data package descriptor of the release in ``folder`` (every published table's CSV)."""
    folder = Path(folder)
    published = {m.name: m for m in models("published")}
    found = {p.stem for p in folder.glob("*.csv")}
    unexpected = sorted(found - published.keys())
    if unexpected:
        raise ValueError(f"{folder}: CSV files that are not published tables: {unexpected}")
    missing = sorted(published.keys() - found)
    if missing:
        raise FileNotFoundError(f"{folder}: published tables missing from the release: {missing}")
    return {
        "profile": "tabular-data-package",
        "name": f"impact-statistics-{year}",
        "title": f"Impact statistics {year}",
        "description": (
            f"The published impact tables of {year}: missing-child cases, CyberTipline reports, "
            "Child Victim Identification Program requests and offender relationships, and the "
            "year's headline figures. Aggregates only; each table's rows are in published order "
            "with the total row last. The same tables are in the release as Parquet files."
        ),
        "version": VERSION,
        "keywords": ["missing children", "child sexual exploitation", "CyberTipline", str(year)],
        "licenses": [dict(LICENSE)],
        "sources": [
            {
                "title": (
                    f"Record-level yearly exports of {year} (case management, CyberTipline, "
                    "Child Victim Identification Program); confidential, not published"
                )
            },
            {
                "title": (
                    "Program metrics kept in other systems (FBI NCIC, AMBER Alert, forensic "
                    "imaging, Team Adam, training, outreach), program_metrics.csv"
                )
            },
        ],
        "resources": [
            _resource(folder, name, published[name].description, year) for name in sorted(published)
        ],
    }


def dumps(descriptor: dict) -> str:
    return json.dumps(descriptor, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_datapackage(folder: Path, year: int) -> Path:
    """Write ``folder/datapackage.json`` describing the release's CSVs; returns its path."""
    path = Path(folder) / FILE_NAME
    path.write_text(dumps(build_datapackage(folder, year)), encoding="utf-8", newline="\n")
    return path
