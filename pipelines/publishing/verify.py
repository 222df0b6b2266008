"""Comparing a release with reference CSVs (``impact verify``).

Reference folders use the layout of ``tests/reference/2020``: one CSV per published table, with
two special cases. A file named ``<table>_partial.csv`` lists rows that must appear, in the same
relative order, in the table; ``headline_metrics.csv`` carries a ``qualifier`` per figure —
``exact`` (equal), ``more_than`` (a lower bound) or ``approx`` (truncated to the precision
written) — and the text as published, which the release's ``display_text`` must equal.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

PARTIAL_SUFFIX = "_partial"
HEADLINE = "headline_metrics"


@dataclass(frozen=True)
class Difference:
    table: str
    where: str
    column: str
    published: str
    reference: str

    def __str__(self) -> str:
        return (
            f"{self.table}: {self.where}, column {self.column}: "
            f"published {self.published!r}, reference {self.reference!r}"
        )


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _row_label(header: list[str], row: dict[str, str]) -> str:
    label_column = header[1] if len(header) > 1 else header[0]
    return f"row {row.get(label_column, '?')!r}"


def compare_exact(table: str, published: Path, reference: Path) -> list[Difference]:
    ref_header, ref_rows = read_csv(reference)
    pub_header, pub_rows = read_csv(published)
    if ref_header != pub_header:
        return [Difference(table, "header", "*", ",".join(pub_header), ",".join(ref_header))]
    differences = []
    for index in range(max(len(ref_rows), len(pub_rows))):
        ref = ref_rows[index] if index < len(ref_rows) else None
        pub = pub_rows[index] if index < len(pub_rows) else None
        if ref is None or pub is None:
            present = pub if ref is None else ref
            differences.append(
                Difference(
                    table,
                    f"row {index + 1} {_row_label(ref_header, present)}",
                    "*",
                    "<missing>" if pub is None else "present",
                    "<missing>" if ref is None else "present",
                )
            )
            continue
        for column in ref_header:
            if ref[column] != pub[column]:
                differences.append(
                    Difference(
                        table,
                        f"row {index + 1} {_row_label(ref_header, ref)}",
                        column,
                        pub[column],
                        ref[column],
                    )
                )
    return differences


def compare_partial(table: str, published: Path, reference: Path) -> list[Difference]:
    """Every reference row must be in the table, in the same relative order."""
    ref_header, ref_rows = read_csv(reference)
    _, pub_rows = read_csv(published)
    key = ref_header[1]
    position = {row[key]: i for i, row in enumerate(pub_rows)}
    differences, last = [], -1
    for ref in ref_rows:
        where = f"row {ref[key]!r}"
        if ref[key] not in position:
            differences.append(Difference(table, where, key, "<missing>", ref[key]))
            continue
        pub = pub_rows[position[ref[key]]]
        for column in ref_header:
            if pub.get(column) != ref[column]:
                differences.append(Difference(table, where, column, str(pub.get(column)), ref[column]))
        if position[ref[key]] < last:
            differences.append(Difference(table, where, "(order)", "earlier", "later"))
        last = position[ref[key]]
    return differences


_FIGURE = re.compile(r"^(?:(?:more than|over)\s+)?(?P<number>[\d,]+(?:\.(?P<decimals>\d+))?)(?P<million>\s+million)?$")


def _approx_bounds(text: str) -> tuple[int, int] | None:
    """The interval of values a truncated figure such as '65.4 million' stands for."""
    match = _FIGURE.match(text.strip())
    if not match:
        return None
    number = Decimal(match["number"].replace(",", ""))
    unit = Decimal(1_000_000) if match["million"] else Decimal(1)
    step = unit / (Decimal(10) ** len(match["decimals"] or ""))
    low = number * unit
    return int(low), int(low + step)


def compare_headline(table: str, published: Path, reference: Path) -> list[Difference]:
    _, ref_rows = read_csv(reference)
    _, pub_rows = read_csv(published)
    by_key = {(r["metric_id"], r["period"]): r for r in pub_rows}
    differences = []
    for ref in ref_rows:
        key = (ref["metric_id"], ref["period"])
        where = f"metric {key[0]}/{key[1]}"
        pub = by_key.get(key)
        if pub is None:
            differences.append(Difference(table, where, "*", "<missing>", "present"))
            continue
        value, expected = int(pub["value"]), int(ref["value"])
        qualifier = ref["qualifier"]
        if qualifier == "exact":
            ok = value == expected
        elif qualifier == "more_than":
            ok = value >= expected
        elif qualifier == "approx":
            bounds = _approx_bounds(ref["published_text"])
            ok = bounds is not None and bounds[0] <= value < bounds[1]
        else:
            differences.append(Difference(table, where, "qualifier", "", qualifier))
            continue
        if not ok:
            differences.append(Difference(table, where, f"value ({qualifier})", pub["value"], ref["value"]))
        if pub["display_text"] != ref["published_text"]:
            differences.append(Difference(table, where, "display_text", pub["display_text"], ref["published_text"]))
        if ref.get("since", "") != pub.get("since", ""):
            differences.append(Difference(table, where, "since", pub.get("since", ""), ref.get("since", "")))
    return differences


def verify_release(release: Path, reference: Path) -> list[Difference]:
    """Every differing cell between a release folder and a reference folder."""
    references = sorted(reference.glob("*.csv"))
    if not references:
        raise FileNotFoundError(f"no reference CSV in {reference}")
    differences: list[Difference] = []
    for ref_path in references:
        name = ref_path.stem
        table = name.removesuffix(PARTIAL_SUFFIX)
        published = release / f"{table}.csv"
        if not published.is_file():
            differences.append(Difference(table, "file", "*", "<missing>", ref_path.name))
        elif name == HEADLINE:
            differences += compare_headline(table, published, ref_path)
        elif name.endswith(PARTIAL_SUFFIX):
            differences += compare_partial(table, published, ref_path)
        else:
            differences += compare_exact(table, published, ref_path)
    return differences
