"""The invariants of the published tables, as plain functions over a table in published order.

Each rule returns the list of problems it finds (empty when it holds), each naming the column,
the rule and the rows, so a failure reads without a stack trace. The specs of the tables
(pipelines/tables/) say which rules apply to which table; pipelines/validation/schemas.py
runs them as Pandera dataframe checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

import polars as pl

from pipelines.core.seeds import countries, read_seed
from pipelines.tables import NO_COUNTRY, TOTAL, Rule

MAX_LISTED = 12
"""At most this many rows are named per broken rule; the rest are counted."""


@cache
def metric_catalog() -> tuple[tuple[str, str, str | None], ...]:
    """(metric_id, period, computed_from) in catalog order."""
    return tuple((r["metric_id"], r["period"], r["computed_from"] or None) for r in read_seed("metric_catalog"))


@cache
def country_catalog() -> dict[str, tuple[str, int]]:
    """ISO 3166-1 code (plus XK) -> (English short name, published position)."""
    return {code: (name, order) for code, name, order in countries().iter_rows()}


def _quoted(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def categories_exactly(label_column: str, expected_labels: Callable[[], list[str]]) -> Rule:
    """The label column, row by row, is exactly the expected categories then the total row."""

    def rule(frame: pl.DataFrame) -> list[str]:
        found = frame[label_column].to_list()
        expected = expected_labels()
        if found == expected:
            return []
        details = []
        missing = [label for label in expected if label not in found]
        unexpected = [label for label in found if label not in expected]
        repeated = [label for label, n in Counter(found).items() if n > 1 and label in expected]
        if missing:
            details.append(f"missing row(s) {listing([_quoted(x) for x in missing])}")
        if unexpected:
            details.append(f"unexpected row(s) {listing([_quoted(x) for x in unexpected])}")
        if repeated:
            details.append(f"repeated row(s) {listing([_quoted(x) for x in repeated])}")
        if not details:
            position = next(i for i, (a, b) in enumerate(zip(found, expected)) if a != b)
            details.append(
                f"row {position + 1} is {_quoted(found[position])} where the published order has "
                f"{_quoted(expected[position])}"
            )
        return [
            f"column {label_column}: category set and order: {'; '.join(details)} "
            f"(expected the {len(expected) - 1} categories in published order, then "
            f"{_quoted(expected[-1])})"
        ]

    return rule


def row_parts_sum_to_total(label_column: str, parts: Sequence[str], total: str, parts_name: str) -> Rule:
    """Each row's parts add up to its total column."""

    def rule(frame: pl.DataFrame) -> list[str]:
        bad = []
        for row in frame.select(label_column, *parts, total).iter_rows(named=True):
            values = [row[p] for p in parts]
            summed = None if any(v is None for v in values) else sum(values)
            if summed is None or row[total] is None or summed != row[total]:
                bad.append(f"{_quoted(row[label_column])} ({parts_name} = {summed}, {total} = {row[total]})")
        if not bad:
            return []
        return [f"column {total}: row parts do not sum to the row total in {listing(bad)}"]

    return rule


def _single_total_row(
    frame: pl.DataFrame, label_column: str, total_label: str
) -> tuple[pl.DataFrame | None, list[str]]:
    totals = frame.filter(pl.col(label_column) == total_label)
    if totals.height != 1:
        return None, [f"column {label_column}: expected exactly one {_quoted(total_label)} row, found {totals.height}"]
    return totals, []


def category_rows_sum_to_total_row(label_column: str, columns: Sequence[str], total_label: str) -> Rule:
    """Each count column's category rows add up to the total row."""

    def rule(frame: pl.DataFrame) -> list[str]:
        totals, problems = _single_total_row(frame, label_column, total_label)
        if totals is None:
            return problems
        categories = frame.filter(pl.col(label_column).ne_missing(total_label))
        for column in columns:
            summed = categories[column].sum()
            stated = totals[column].item()
            if categories[column].null_count() or stated is None or summed != stated:
                problems.append(
                    f"column {column}: category rows sum to {summed} but the {total_label} row says {stated}"
                )
        return problems

    return rule


def one_year(frame: pl.DataFrame) -> list[str]:
    """Every row has the same year."""
    years = frame["year"].unique().to_list()
    if len(years) == 1 and years[0] is not None:
        return []
    return [f"column year: all rows must have the same year, found {sorted(years, key=str)}"]


def rounded_percent(part: int, whole: int) -> Decimal:
    """100 * part / whole, rounded half away from zero to two decimals, in exact integers."""
    sign = -1 if (part < 0) != (whole < 0) else 1
    hundredths = (abs(part) * 20000 + abs(whole)) // (2 * abs(whole))
    return Decimal(sign * hundredths).scaleb(-2)


def percents_are_rounded_shares(label_column: str, percent: str, count: str, total_label: str) -> Rule:
    """``percent`` is the rounded share of ``count`` in the total row's ``count`` (100.00 on the
    total row; null when the total is 0, a share of nothing being undefined)."""

    def rule(frame: pl.DataFrame) -> list[str]:
        totals, problems = _single_total_row(frame, label_column, total_label)
        if totals is None:
            return problems
        whole = totals[count].item()
        bad = []
        for label, part, shown in frame.select(label_column, count, percent).iter_rows():
            if whole == 0 or whole is None:
                if shown is not None:
                    bad.append(f"{_quoted(label)} says {shown} but a share of 0 is undefined (null)")
                continue
            if label == total_label:
                if shown != Decimal("100.00"):
                    problems.append(f"column {percent}: the {total_label} row must say 100.00 but says {shown}")
                continue
            expected = None if part is None else rounded_percent(part, whole)
            if shown is None or expected is None or shown != expected:
                bad.append(f"{_quoted(label)} says {shown} but {part} / {whole} = {expected}")
        if bad:
            problems.append(
                f"column {percent}: percent is not the rounded share (2 decimals, half away "
                f"from zero) of the {total_label} row's {count} in {listing(bad)}"
            )
        return problems

    return rule


def _named_rows_then_total(frame: pl.DataFrame, label_column: str, tail: Sequence[str]) -> list[str]:
    """The last rows are exactly ``tail`` (e.g. No Country Listed, Total), each label once."""
    labels = frame[label_column].to_list()
    problems = []
    if labels[-len(tail) :] != list(tail):
        problems.append(
            f"column {label_column}: the table must end with the row(s) "
            f"{', '.join(_quoted(t) for t in tail)}, found {', '.join(_quoted(x) for x in labels[-len(tail) :])}"
        )
    for label in tail:
        if labels.count(label) > 1:
            problems.append(f"column {label_column}: row {_quoted(label)} appears {labels.count(label)} times")
    return problems


def esp_rows_by_reports(frame: pl.DataFrame) -> list[str]:
    """Every ESP once, named, most reports first (ties by name), then the Total row."""
    problems = _named_rows_then_total(frame, "esp_name", [TOTAL])
    rows = frame.filter(pl.col("esp_name").ne_missing(TOTAL)).select("esp_name", "reports").rows()
    unnamed = [i + 1 for i, (name, _) in enumerate(rows) if name is None or not name.strip()]
    if unnamed:
        problems.append(f"column esp_name: ESP rows without a name at position(s) {unnamed}")
    repeated = [name for name, n in Counter(name for name, _ in rows).items() if n > 1]
    if repeated:
        listed = listing([_quoted(x) for x in repeated])
        problems.append(f"column esp_name: ESP listed more than once: {listed}")
    misplaced = []
    for (name_a, reports_a), (name_b, reports_b) in zip(rows, rows[1:]):
        if None in (name_a, name_b, reports_a, reports_b):
            continue
        if (-reports_a, name_a) > (-reports_b, name_b):
            misplaced.append(f"{_quoted(name_b)} ({reports_b}) comes after {_quoted(name_a)} ({reports_a})")
    if misplaced:
        problems.append(
            "column esp_name: rows are not sorted by reports, most first, ties by name: " + listing(misplaced)
        )
    return problems


def country_rows_in_catalog_order(frame: pl.DataFrame) -> list[str]:
    """Listed countries by English short name (pycountry + XK), then No Country Listed, Total."""
    problems = _named_rows_then_total(frame, "country", [NO_COUNTRY, TOTAL])
    catalog = country_catalog()
    for label in (NO_COUNTRY, TOTAL):
        codes = frame.filter(pl.col("country") == label)["country_code"].to_list()
        if any(code is not None for code in codes):
            problems.append(f"column country_code: row {_quoted(label)} must have an empty code, found {codes}")
    rows = frame.filter(~pl.col("country").is_in([NO_COUNTRY, TOTAL]) | pl.col("country").is_null())
    unknown, misnamed, misplaced = [], [], []
    previous: tuple[str, int] | None = None
    for code, name in rows.select("country_code", "country").iter_rows():
        if code not in catalog:
            unknown.append(f"{_quoted(name)} (code {_quoted(code)})")
            continue
        expected_name, position = catalog[code]
        if name != expected_name:
            misnamed.append(f"code {code} is {_quoted(expected_name)}, not {_quoted(name)}")
        if previous is not None and position <= previous[1]:
            misplaced.append(f"{_quoted(expected_name)} comes after {_quoted(previous[0])}")
        previous = (expected_name, position)
    if unknown:
        problems.append(f"column country_code: not an ISO 3166-1 code (or XK) in row(s) {listing(unknown)}")
    if misnamed:
        problems.append(f"column country: not the ISO 3166-1 English short name: {listing(misnamed)}")
    if misplaced:
        problems.append(
            "column country: countries are not in the published order (English short name, "
            f"each once): {listing(misplaced)}"
        )
    return problems


def headline_keys_in_catalog(frame: pl.DataFrame) -> list[str]:
    """(metric_id, period) is a catalog entry, appears once, and rows follow the catalog order."""
    position = {(m, p): i for i, (m, p, _) in enumerate(metric_catalog())}
    keys = list(frame.select("metric_id", "period").iter_rows())
    problems = []
    unknown = [f"'{m}/{p}'" for m, p in keys if (m, p) not in position]
    if unknown:
        problems.append(f"column metric_id: (metric_id, period) not in the metric catalog: {listing(unknown)}")
    repeated = [f"'{m}/{p}'" for (m, p), n in Counter(keys).items() if n > 1]
    if repeated:
        problems.append(f"column metric_id: (metric_id, period) is not unique: {listing(repeated)}")
    known = [k for k in keys if k in position]
    misplaced = [
        f"'{b[0]}/{b[1]}' comes after '{a[0]}/{a[1]}'" for a, b in zip(known, known[1:]) if position[b] < position[a]
    ]
    if misplaced:
        problems.append(f"column metric_id: rows are not in metric-catalog order: {listing(misplaced)}")
    return problems


def since_only_for_cumulative(frame: pl.DataFrame) -> list[str]:
    """``since`` is the first year of a cumulative count: only on cumulative rows, not after the year."""
    bad = [
        f"'{m}/{p}' since {s}"
        for m, p, s, y in frame.select("metric_id", "period", "since", "year").iter_rows()
        if s is not None and (p != "cumulative" or (y is not None and s > y))
    ]
    if not bad:
        return []
    return ["column since: a first year is only given for a cumulative figure, not after the year: " + listing(bad)]


def cumulative_not_below_yearly(frame: pl.DataFrame) -> list[str]:
    """A cumulative figure is never below the same metric's yearly figure of the year."""
    values = {(m, p): v for m, p, v in frame.select("metric_id", "period", "value").iter_rows()}
    bad = [
        f"'{metric}/cumulative' = {value} < '{metric}/year' = {values[(metric, 'year')]}"
        for (metric, period), value in values.items()
        if period == "cumulative"
        and values.get((metric, "year")) is not None
        and value is not None
        and value < values[(metric, "year")]
    ]
    if not bad:
        return []
    return ["column value: a cumulative figure is below the same year's yearly figure: " + listing(bad)]
