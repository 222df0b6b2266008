"""The release's ``datapackage.json``: a Frictionless (Tabular) Data Package describing its CSVs.

One resource per published table: where the CSV is, how it is written (UTF-8, comma, LF line
ends, double-quote quoting), its size and SHA-256, and a Table Schema (types from the sibling
Parquet file, titles as published, constraints, primary key). The table descriptions are their
specs' (pipelines/tables/<table>.py), so they are written in one place.

The file is part of the release and so must be byte-identical from run to run: no ``created``
time stamp, keys sorted, fixed indentation. The frictionless tool is the validator
(``frictionless validate published/<year>/datapackage.json``); see tests/publishing/test_release_docs.py.

Titles, column titles and descriptions, constraints and primary keys come from the tables' specs
(pipelines/tables/).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.files import sha256_file
from pipelines.public_copy.suppression import LAYOUTS, WITHHELD
from pipelines.public_copy.tables import SUPPRESSED_CELLS, SUPPRESSED_SPEC
from pipelines.publishing.report import SYNTHETIC_NOTE
from pipelines.tables import TableSpec, spec, specs

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


def _field_type(table: str, field: pa.Field) -> str:
    if pa.types.is_integer(field.type):
        return "integer"
    if pa.types.is_decimal(field.type) or pa.types.is_floating(field.type):
        return "number"
    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
        return "string"
    raise TypeError(f"{table}.{field.name}: no Table Schema type for Parquet type {field.type}")


def _field(
    table: str, field: pa.Field, year: int, described: TableSpec | None = None, optional: frozenset[str] = frozenset()
) -> dict:
    """One field of a resource; ``described``: the spec of a file that is not a published table;
    ``optional``: columns that may be empty here (suppressed cells of public-use tables)."""
    kind = _field_type(table, field)
    column = (described or spec(table)).column(field.name)
    constraints: dict = {}
    if not column.nullable and field.name not in optional:
        constraints["required"] = True
    if field.name == "conf_status":
        constraints["enum"] = [WITHHELD]
    if field.name == "year":
        constraints.update(minimum=year, maximum=year)
    else:
        if column.minimum is not None:
            constraints["minimum"] = column.minimum
        if column.maximum is not None:
            constraints["maximum"] = column.maximum
    described = {
        "name": field.name,
        "title": column.title,
        "description": column.description,
        "type": kind,
    }
    if constraints:
        described["constraints"] = constraints
    return described


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def _resource(
    folder: Path,
    table: str,
    description: str,
    year: int,
    described: TableSpec | None = None,
    optional: frozenset[str] = frozenset(),
) -> dict:
    csv_path = folder / f"{table}.csv"
    parquet_path = folder / f"{table}.parquet"
    schema = pq.read_schema(parquet_path)
    header = _csv_header(csv_path)
    if header != schema.names:
        raise ValueError(f"{csv_path.name}: columns {header} differ from {parquet_path.name}: {schema.names}")
    return {
        "name": table,
        "path": csv_path.name,
        "title": (described or spec(table)).title,
        "description": description,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": dict(DIALECT),
        "bytes": csv_path.stat().st_size,
        "hash": f"sha256:{sha256_file(csv_path)}",
        "schema": {
            "fields": [_field(table, f, year, described, optional) for f in schema],
            "primaryKey": list((described or spec(table)).primary_key),
            "missingValues": [""],
        },
    }


def build_datapackage(folder: Path, year: int) -> dict:
    """The data package descriptor of the release in ``folder`` (every published table's CSV)."""
    folder = Path(folder)
    published = specs()
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
        "resources": [_resource(folder, name, published[name].description, year) for name in sorted(published)],
    }


def marked_synthetic(descriptor: dict, synthetic: bool) -> dict:
    """A data package of a release made from demo exports says so in its title, description and
    keywords; any other is returned as it is."""
    if not synthetic:
        return descriptor
    return {
        **descriptor,
        "title": descriptor["title"] + " (synthetic demo data)",
        "description": f"{SYNTHETIC_NOTE} {descriptor['description']}",
        "keywords": [*descriptor["keywords"], "synthetic data"],
    }


def dumps(descriptor: dict) -> str:
    return json.dumps(descriptor, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_datapackage(folder: Path, year: int, synthetic: bool = False) -> Path:
    """Write ``folder/datapackage.json`` describing the release's CSVs; returns its path."""
    path = Path(folder) / FILE_NAME
    descriptor = marked_synthetic(build_datapackage(folder, year), synthetic)
    path.write_text(dumps(descriptor), encoding="utf-8", newline="\n")
    return path


def build_public_datapackage(folder: Path, year: int) -> dict:
    """The data package of ``public/``: every published table as the public reads it (a
    suppressed cell is an empty field, so those columns are not required) and the list of
    suppressed cells with the one flag, SDMX CONF_STATUS C (docs/public-use.md)."""

    folder = Path(folder)
    published = specs()
    found = {p.stem for p in folder.glob("*.csv")}
    expected = published.keys() | {SUPPRESSED_CELLS}
    if found != expected:
        raise ValueError(f"{folder}: public CSV files {sorted(found)} are not {sorted(expected)}")
    resources = []
    for name in sorted(published):
        layout = LAYOUTS.get(name)
        optional = frozenset()
        if layout is not None:
            optional = frozenset(layout.counts) | {p for p, _ in layout.percents}
            if name == "headline_metrics":
                optional |= {"display_text"}
        description = (
            "Public-use copy: small counts of children suppressed (empty; see suppressed_cells.csv). "
            if layout is not None and layout.counts_children
            else "Public-use copy, as published. "
        ) + published[name].description
        resources.append(_resource(folder, name, description, year, optional=optional))
    resources.append(
        _resource(
            folder,
            SUPPRESSED_CELLS,
            SUPPRESSED_SPEC.description,
            year,
            SUPPRESSED_SPEC,
        )
    )
    return {
        "profile": "tabular-data-package",
        "name": f"impact-statistics-{year}-public-use",
        "title": f"Impact statistics {year}, public-use tables",
        "description": (
            f"The published impact tables of {year} for public use: in the tables that count "
            "children, counts from 1 to K-1 are suppressed, with further cells suppressed so that "
            "none can be derived from the totals, shared totals and percents, nor shown to be below "
            "K; every suppressed cell has the same flag. An audit proved it before publication. The "
            "same tables are here as Parquet files (a suppressed cell is null)."
        ),
        "version": VERSION,
        "keywords": ["missing children", "public use", "statistical disclosure control", str(year)],
        "licenses": [dict(LICENSE)],
        "resources": resources,
    }


def write_public_datapackage(folder: Path, year: int, synthetic: bool = False) -> Path:
    """Write ``folder/datapackage.json`` describing ``public/``; returns its path."""
    path = Path(folder) / FILE_NAME
    descriptor = marked_synthetic(build_public_datapackage(folder, year), synthetic)
    path.write_text(dumps(descriptor), encoding="utf-8", newline="\n")
    return path
