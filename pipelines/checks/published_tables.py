"""Blocking checks on the published tables: nothing wrong is ever published (docs/published-tables.md).

Three layers:

1. One Pandera ``DataFrameModel`` (polars backend) per published table: the columns, their
   dtypes and order (``strict`` + ``ordered``), no null and no negative count, and dataframe
   checks for the table invariants (category set and order, each row's parts add up to its
   total, each column's category rows add up to the Total row, percents, ESP and country order,
   the headline keys). The models describe the table as published, without the warehouse's
   trailing ``sort_order`` column, so they can validate a released file as well.
2. Validation of one table (:func:`validate_table`): two Pandera passes, each failure explained
   with the table, column, rule and row labels.
3. The blocking Dagster check ``schema_and_totals`` of every published asset, run in the asset's
   own step (:func:`schema_and_totals_spec`); a failure keeps the ``release`` asset from running.

The invariants across the tables of one year are in pipelines/checks/cross_table.py, those
across years in pipelines/checks/across_years.py.

Pandera notes (0.35 with polars 2.x), see the pandera issues named below:

* every dataframe check returns a plain ``bool`` (aggregate checks returning a one-row frame
  misbehave, pandera issue 2482). The rule behind it is a plain function that returns the list
  of problems, passed to the check as a keyword argument, so a failed check is explained with
  the table, column, rule and row labels afterwards (a scalar check has no failure cases);
* ``lazy=True`` crashes in ``SchemaErrors`` when a failed scalar dataframe check (failure case
  ``False``, a Boolean) is reported together with a failed column check (failure cases cast to
  String): ``polars.exceptions.SchemaError: type Boolean is incompatible with expected type
  String``. Validation therefore runs in two lazy passes whose failure cases have one type each:
  the columns (schema, nulls, ranges) first, then the dataframe checks;
* only eager frames are validated: a LazyFrame gets the schema checks only (pandera issue 1566);
* a column annotated ``Optional[...]`` becomes *not required* (a missing ``since`` column would
  pass), so nullable columns use ``Field(nullable=True)`` instead.
"""

import copy
import os
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

import dagster as dg
import duckdb

_ARROW_TZ_PRESET = "PYARROW_IGNORE_TIMEZONE" in os.environ
import pandera.polars as pa  # noqa: E402

if not _ARROW_TZ_PRESET:
    # pandera sets PYARROW_IGNORE_TIMEZONE=1 on import (for pyspark, not installed here); pyarrow
    # would then store offset datetimes as local clock time in the whole process.
    os.environ.pop("PYARROW_IGNORE_TIMEZONE", None)
import polars as pl
from pandera.api.polars.components import Column
from pandera.errors import SchemaError, SchemaErrorReason, SchemaErrors

from pipelines.config import SEEDS_DIR
from pipelines.seeds import countries, us_states

CHECK_NAME = "schema_and_totals"
CHECK_OUTPUT_KEY = "check_output"  # pandera.constants.CHECK_OUTPUT_KEY
MAX_LISTED = 12
"""At most this many rows are named per broken rule; the rest are counted."""

TOTAL = "Total"
GRAND_TOTAL = "Grand Total"
NO_COUNTRY = "No Country Listed"

Rule = Callable[[pl.DataFrame], list[str]]
"""A table invariant: the frame in published order -> problems (empty when the rule holds)."""


# --------------------------------------------------------------------------------------------
# Expected categories: from the versioned seeds (sql/seeds) and pycountry, never the reference.
# --------------------------------------------------------------------------------------------


@cache
def seed(name: str) -> pl.DataFrame:
    """A seed CSV as text columns, in its published order (``sort_order``, else file order)."""
    frame = pl.read_csv(SEEDS_DIR / f"{name}.csv", infer_schema=False)
    if "sort_order" in frame.columns:
        frame = frame.sort(pl.col("sort_order").cast(pl.Int64), maintain_order=True)
    return frame


def seed_labels(name: str) -> list[str]:
    return seed(name)["label"].to_list()


def seed_label(name: str, code: str) -> str:
    """The label of one code of a seed (e.g. reporter type ESP)."""
    rows = seed(name).filter(pl.col("code") == code)
    return rows["label"].item()


@cache
def race_columns() -> tuple[str, ...]:
    return tuple(seed("races")["column_name"].to_list())


@cache
def metric_catalog() -> tuple[tuple[str, str, str | None], ...]:
    """(metric_id, period, computed_from) in catalog order."""
    frame = seed("metric_catalog")
    return tuple(frame.select("metric_id", "period", "computed_from").iter_rows())


@cache
def country_catalog() -> dict[str, tuple[str, int]]:
    """ISO 3166-1 code (plus XK) -> (English short name, published position)."""
    frame = countries()
    return {code: (name, order) for code, name, order in frame.iter_rows()}


def expected_categories(table: str) -> list[str]:
    """The label column of a fixed-category table, category rows in published order + total."""
    return {
        "missing_children_by_case_type": lambda: seed_labels("case_types") + [TOTAL],
        "missing_children_by_age_and_race": lambda: seed_labels("age_groups") + [TOTAL],
        "missing_children_by_state": lambda: us_states()["name"].to_list() + [TOTAL],
        "cvip_requests_by_agency": lambda: seed_labels("agency_types") + [GRAND_TOTAL],
        "offender_relationship_actively_traded": lambda: seed_labels("relationships") + [TOTAL],
        "cybertipline_reports_by_source": lambda: seed_labels("reporter_types") + [TOTAL],
        "cybertipline_files_by_type": lambda: seed_labels("file_types") + [TOTAL],
        "cybertipline_reports_by_incident_type": lambda: seed_labels("incident_types") + [TOTAL],
    }[table]()


# --------------------------------------------------------------------------------------------
# Rules: plain functions over the published frame, each returning readable problems.
# --------------------------------------------------------------------------------------------


def _quoted(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def categories_exactly(table: str, label_column: str) -> Rule:
    """The label column, row by row, is exactly the expected categories then the total row."""

    def rule(frame: pl.DataFrame) -> list[str]:
        found = frame[label_column].to_list()
        expected = expected_categories(table)
        if found == expected:
            return []
        details = []
        missing = [label for label in expected if label not in found]
        unexpected = [label for label in found if label not in expected]
        repeated = [label for label, n in Counter(found).items() if n > 1 and label in expected]
        if missing:
            details.append(f"missing row(s) {_listing([_quoted(x) for x in missing])}")
        if unexpected:
            details.append(f"unexpected row(s) {_listing([_quoted(x) for x in unexpected])}")
        if repeated:
            details.append(f"repeated row(s) {_listing([_quoted(x) for x in repeated])}")
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
                bad.append(
                    f"{_quoted(row[label_column])} ({parts_name} = {summed}, {total} = {row[total]})"
                )
        if not bad:
            return []
        return [f"column {total}: row parts do not sum to the row total in {_listing(bad)}"]

    return rule


def _single_total_row(
    frame: pl.DataFrame, label_column: str, total_label: str
) -> tuple[pl.DataFrame | None, list[str]]:
    totals = frame.filter(pl.col(label_column) == total_label)
    if totals.height != 1:
        return None, [
            f"column {label_column}: expected exactly one {_quoted(total_label)} row, found {totals.height}"
        ]
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
                    f"column {column}: category rows sum to {summed} but the {total_label} row "
                    f"says {stated}"
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


def percents_are_rounded_shares(frame: pl.DataFrame) -> list[str]:
    """percent_of_total is the rounded share of known_relationships in the Total row."""
    totals, problems = _single_total_row(frame, "relationship", TOTAL)
    if totals is None:
        return problems
    whole = totals["known_relationships"].item()
    bad = []
    for label, part, percent in frame.select(
        "relationship", "known_relationships", "percent_of_total"
    ).iter_rows():
        if whole == 0 or whole is None:
            if percent is not None:
                bad.append(f"{_quoted(label)} says {percent} but a share of 0 is undefined (null)")
            continue
        if label == TOTAL:
            if percent != Decimal("100.00"):
                problems.append(f"column percent_of_total: the Total row must say 100.00 but says {percent}")
            continue
        expected = None if part is None else rounded_percent(part, whole)
        if percent is None or expected is None or percent != expected:
            bad.append(f"{_quoted(label)} says {percent} but {part} / {whole} = {expected}")
    if bad:
        problems.append(
            "column percent_of_total: percent is not the rounded share (2 decimals, half away "
            f"from zero) of the Total row's known_relationships in {_listing(bad)}"
        )
    return problems


def _named_rows_then_total(frame: pl.DataFrame, label_column: str, tail: Sequence[str]) -> list[str]:
    """The last rows are exactly ``tail`` (e.g. No Country Listed, Total), each label once."""
    labels = frame[label_column].to_list()
    problems = []
    if labels[-len(tail):] != list(tail):
        problems.append(
            f"column {label_column}: the table must end with the row(s) "
            f"{', '.join(_quoted(t) for t in tail)}, found {', '.join(_quoted(x) for x in labels[-len(tail):])}"
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
        listed = _listing([_quoted(x) for x in repeated])
        problems.append(f"column esp_name: ESP listed more than once: {listed}")
    misplaced = []
    for (name_a, reports_a), (name_b, reports_b) in zip(rows, rows[1:]):
        if None in (name_a, name_b, reports_a, reports_b):
            continue
        if (-reports_a, name_a) > (-reports_b, name_b):
            misplaced.append(f"{_quoted(name_b)} ({reports_b}) comes after {_quoted(name_a)} ({reports_a})")
    if misplaced:
        problems.append(
            "column esp_name: rows are not sorted by reports, most first, ties by name: "
            + _listing(misplaced)
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
        problems.append(
            f"column country_code: not an ISO 3166-1 code (or XK) in row(s) {_listing(unknown)}"
        )
    if misnamed:
        problems.append(f"column country: not the ISO 3166-1 English short name: {_listing(misnamed)}")
    if misplaced:
        problems.append(
            "column country: countries are not in the published order (English short name, "
            f"each once): {_listing(misplaced)}"
        )
    return problems


def headline_keys_in_catalog(frame: pl.DataFrame) -> list[str]:
    """(metric_id, period) is a catalog entry, appears once, and rows follow the catalog order."""
    position = {(m, p): i for i, (m, p, _) in enumerate(metric_catalog())}
    keys = list(frame.select("metric_id", "period").iter_rows())
    problems = []
    unknown = [f"'{m}/{p}'" for m, p in keys if (m, p) not in position]
    if unknown:
        problems.append(f"column metric_id: (metric_id, period) not in the metric catalog: {_listing(unknown)}")
    repeated = [f"'{m}/{p}'" for (m, p), n in Counter(keys).items() if n > 1]
    if repeated:
        problems.append(f"column metric_id: (metric_id, period) is not unique: {_listing(repeated)}")
    known = [k for k in keys if k in position]
    misplaced = [
        f"'{b[0]}/{b[1]}' comes after '{a[0]}/{a[1]}'"
        for a, b in zip(known, known[1:])
        if position[b] < position[a]
    ]
    if misplaced:
        problems.append(f"column metric_id: rows are not in metric-catalog order: {_listing(misplaced)}")
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
    return [
        "column since: a first year is only given for a cumulative figure, not after the year: "
        + _listing(bad)
    ]


# --------------------------------------------------------------------------------------------
# Pandera models, one per published table.
# --------------------------------------------------------------------------------------------


def _evaluate(rule: Rule, frame: pl.DataFrame) -> list[str]:
    try:
        return rule(frame)
    except Exception as error:  # a rule must never crash validation: report it instead
        return [f"rule could not be evaluated ({type(error).__name__}: {error})"]


def table_rule(name: str, rule: Rule) -> Any:
    """A Pandera dataframe check named ``name`` that returns a scalar bool: does ``rule`` hold?

    The rule travels as a check keyword argument, so ``Check.statistics["rule"]`` explains a
    failure afterwards (a scalar check carries no failure cases).
    """

    def check(cls: Any, data: Any, rule: Rule) -> bool:
        return not _evaluate(rule, data.lazyframe.collect())

    check.__name__ = name.replace(" ", "_")
    return pa.dataframe_check(check, name=name, rule=rule)


def Count() -> Any:  # noqa: N802 - reads like a Field type in the models
    return pa.Field(nullable=False, ge=0)


def Required() -> Any:  # noqa: N802
    return pa.Field(nullable=False)


class _Published(pa.DataFrameModel):
    class Config:
        strict = True
        ordered = True


class MissingChildrenByCaseType(_Published):
    year: pl.Int32 = Required()
    case_type: pl.String = Required()
    active: pl.Int64 = Count()
    resolved: pl.Int64 = Count()
    total: pl.Int64 = Count()

    class Config:
        name = "missing_children_by_case_type"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "case_type"))
    row_parts = table_rule(
        "row parts sum to total",
        row_parts_sum_to_total("case_type", ["active", "resolved"], "total", "active + resolved"),
    )
    column_totals = table_rule(
        "column totals", category_rows_sum_to_total_row("case_type", ["active", "resolved", "total"], TOTAL)
    )


class MissingChildrenByAgeAndRace(_Published):
    year: pl.Int32 = Required()
    age_group: pl.String = Required()
    native_american: pl.Int64 = Count()
    asian: pl.Int64 = Count()
    multiracial: pl.Int64 = Count()
    black: pl.Int64 = Count()
    hispanic: pl.Int64 = Count()
    pacific_islander: pl.Int64 = Count()
    white: pl.Int64 = Count()
    unknown: pl.Int64 = Count()
    total: pl.Int64 = Count()

    class Config:
        name = "missing_children_by_age_and_race"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "age_group"))
    row_parts = table_rule(
        "row parts sum to total",
        row_parts_sum_to_total("age_group", race_columns(), "total", "the 8 race columns"),
    )
    column_totals = table_rule(
        "column totals", category_rows_sum_to_total_row("age_group", [*race_columns(), "total"], TOTAL)
    )


class MissingChildrenByState(_Published):
    year: pl.Int32 = Required()
    missing_state: pl.String = Required()
    active: pl.Int64 = Count()
    resolved: pl.Int64 = Count()
    total: pl.Int64 = Count()

    class Config:
        name = "missing_children_by_state"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "missing_state"))
    row_parts = table_rule(
        "row parts sum to total",
        row_parts_sum_to_total("missing_state", ["active", "resolved"], "total", "active + resolved"),
    )
    column_totals = table_rule(
        "column totals", category_rows_sum_to_total_row("missing_state", ["active", "resolved", "total"], TOTAL)
    )


class CvipRequestsByAgency(_Published):
    year: pl.Int32 = Required()
    agency_type: pl.String = Required()
    requests: pl.Int64 = Count()
    images: pl.Int64 = Count()
    videos: pl.Int64 = Count()

    class Config:
        name = "cvip_requests_by_agency"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "agency_type"))
    column_totals = table_rule(
        "column totals",
        category_rows_sum_to_total_row("agency_type", ["requests", "images", "videos"], GRAND_TOTAL),
    )


class OffenderRelationshipActivelyTraded(_Published):
    year: pl.Int32 = Required()
    relationship: pl.String = Required()
    known_relationships: pl.Int64 = Count()
    # Null only when there is no known relationship at all (a share of 0 is undefined).
    percent_of_total: Annotated[pl.Decimal, 5, 2] = pa.Field(nullable=True, ge=0, le=100)

    class Config:
        name = "offender_relationship_actively_traded"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "relationship"))
    column_totals = table_rule(
        "column totals", category_rows_sum_to_total_row("relationship", ["known_relationships"], TOTAL)
    )
    percents = table_rule("percent is the rounded share", percents_are_rounded_shares)


class CybertiplineReportsBySource(_Published):
    year: pl.Int32 = Required()
    reporter_type: pl.String = Required()
    reports: pl.Int64 = Count()

    class Config:
        name = "cybertipline_reports_by_source"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "reporter_type"))
    column_totals = table_rule(
        "column totals", category_rows_sum_to_total_row("reporter_type", ["reports"], TOTAL)
    )


class CybertiplineFilesByType(_Published):
    year: pl.Int32 = Required()
    file_type: pl.String = Required()
    files: pl.Int64 = Count()

    class Config:
        name = "cybertipline_files_by_type"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "file_type"))
    column_totals = table_rule("column totals", category_rows_sum_to_total_row("file_type", ["files"], TOTAL))


class CybertiplineReportsByIncidentType(_Published):
    year: pl.Int32 = Required()
    incident_type: pl.String = Required()
    reports: pl.Int64 = Count()

    class Config:
        name = "cybertipline_reports_by_incident_type"

    single_year = table_rule("one year", one_year)
    categories = table_rule("category set and order", categories_exactly(Config.name, "incident_type"))
    column_totals = table_rule(
        "column totals", category_rows_sum_to_total_row("incident_type", ["reports"], TOTAL)
    )


class CybertiplineReportsByEsp(_Published):
    year: pl.Int32 = Required()
    esp_name: pl.String = Required()
    reports: pl.Int64 = Count()

    class Config:
        name = "cybertipline_reports_by_esp"

    single_year = table_rule("one year", one_year)
    structure = table_rule("ESP rows by reports then name", esp_rows_by_reports)
    column_totals = table_rule("column totals", category_rows_sum_to_total_row("esp_name", ["reports"], TOTAL))


class CybertiplineReportsByCountry(_Published):
    year: pl.Int32 = Required()
    country_code: pl.String = pa.Field(nullable=True)  # empty for No Country Listed and Total
    country: pl.String = Required()
    reports: pl.Int64 = Count()

    class Config:
        name = "cybertipline_reports_by_country"

    single_year = table_rule("one year", one_year)
    structure = table_rule("country rows in catalog order", country_rows_in_catalog_order)
    column_totals = table_rule("column totals", category_rows_sum_to_total_row("country", ["reports"], TOTAL))


class HeadlineMetrics(_Published):
    year: pl.Int32 = Required()
    metric_id: pl.String = Required()
    period: pl.String = Required()
    since: pl.Int32 = pa.Field(nullable=True)
    value: pl.Int64 = Count()
    display_text: pl.String = pa.Field(nullable=False, str_contains=r"\S")
    source: pl.String = pa.Field(nullable=True)
    change_from_prior_year: pl.Int64 = pa.Field(nullable=True)

    class Config:
        name = "headline_metrics"

    single_year = table_rule("one year", one_year)
    keys = table_rule("metric keys in catalog", headline_keys_in_catalog)
    since_rule = table_rule("since only for cumulative", since_only_for_cumulative)


MODELS: dict[str, type[pa.DataFrameModel]] = {
    model.Config.name: model
    for model in (
        MissingChildrenByCaseType,
        MissingChildrenByAgeAndRace,
        MissingChildrenByState,
        CvipRequestsByAgency,
        OffenderRelationshipActivelyTraded,
        CybertiplineReportsBySource,
        CybertiplineFilesByType,
        CybertiplineReportsByIncidentType,
        CybertiplineReportsByEsp,
        CybertiplineReportsByCountry,
        HeadlineMetrics,
    )
}
"""Published table name -> its Pandera model."""

LABEL_COLUMNS = {
    "missing_children_by_case_type": "case_type",
    "missing_children_by_age_and_race": "age_group",
    "missing_children_by_state": "missing_state",
    "cvip_requests_by_agency": "agency_type",
    "offender_relationship_actively_traded": "relationship",
    "cybertipline_reports_by_source": "reporter_type",
    "cybertipline_files_by_type": "file_type",
    "cybertipline_reports_by_incident_type": "incident_type",
    "cybertipline_reports_by_esp": "esp_name",
    "cybertipline_reports_by_country": "country",
}


# --------------------------------------------------------------------------------------------
# Validation of one table: two lazy Pandera passes, failures explained with row labels.
# --------------------------------------------------------------------------------------------


def row_labels(table: str, frame: pl.DataFrame) -> list[str]:
    """A readable label per row (the category, or metric_id/period for headline figures)."""
    if table == "headline_metrics" and {"metric_id", "period"} <= set(frame.columns):
        return [f"{m}/{p}" for m, p in frame.select("metric_id", "period").iter_rows()]
    column = LABEL_COLUMNS.get(table)
    if column in frame.columns:
        return [f"row {i + 1}" if v is None else str(v) for i, v in enumerate(frame[column].to_list())]
    return [f"row {i + 1}" for i in range(frame.height)]


COLUMN_RULES = {
    "greater_than_or_equal_to": "a count must not be negative",
    "less_than_or_equal_to": "must not exceed the maximum",
    "str_contains": "must not be empty",
    "equal_to": "must be the year of the partition",
}


def _failing_rows(error: SchemaError, labels: list[str]) -> list[str]:
    output = error.check_output
    if not isinstance(output, pl.DataFrame) or CHECK_OUTPUT_KEY not in output.columns:
        return []
    failing = output.with_row_index("row").filter(~pl.col(CHECK_OUTPUT_KEY).fill_null(False))
    values: list[Any] = []
    if isinstance(error.failure_cases, pl.DataFrame) and error.failure_cases.width == 1:
        values = error.failure_cases.to_series().to_list()
    rows = []
    for i, row in enumerate(failing["row"].to_list()):
        label = labels[row] if row < len(labels) else f"row {row + 1}"
        shown = i < len(values) and values[i] is not None
        rows.append(f"'{label}' ({values[i]})" if shown else f"'{label}'")
    return rows


def describe_column_error(table: str, error: SchemaError, labels: list[str]) -> str:
    """One readable line per column-level Pandera error: table, column, rule and rows."""
    reason = error.reason_code
    column = error.schema.name if isinstance(error.schema, Column) else None
    case = error.failure_cases
    if reason == SchemaErrorReason.COLUMN_NOT_IN_SCHEMA:
        return f"{table}: column {case}: not a column of the published table (rule: strict columns)"
    if reason == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
        return f"{table}: column {case}: missing (rule: every published column is present)"
    if reason == SchemaErrorReason.COLUMN_NOT_ORDERED:
        expected = ", ".join(MODELS[table].to_schema().columns)
        return f"{table}: column {case}: out of order (rule: columns in the order {expected})"
    if reason == SchemaErrorReason.WRONG_DATATYPE:
        expected = getattr(error.schema, "dtype", None)
        return f"{table}: column {column}: dtype is {case}, expected {expected} (rule: column dtypes)"
    rows = _listing(_failing_rows(error, labels))
    if reason == SchemaErrorReason.SERIES_CONTAINS_NULLS:
        return f"{table}: column {column}: null value (rule: no null) in row(s) {rows}"
    name = getattr(error.check, "name", None) or str(error.check)
    spelled = getattr(error.check, "error", None) or name
    rule = COLUMN_RULES.get(name, spelled)
    return f"{table}: column {column}: {rule} ({spelled}), broken in row(s) {rows}"


def _pandera_errors(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[SchemaError]:
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return list(errors.schema_errors)
    except pl.exceptions.PolarsError:
        # Pandera could not assemble the failure cases of a lazy validation (mixed types):
        # validate eagerly to get at least the first error.
        try:
            schema.validate(frame, lazy=False)
        except SchemaError as error:
            return [error]
    except SchemaError as error:
        return [error]
    return []


STRUCTURAL = {
    SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME,
    SchemaErrorReason.WRONG_DATATYPE,
    SchemaErrorReason.COLUMN_NOT_IN_SCHEMA,
    SchemaErrorReason.COLUMN_NOT_ORDERED,
}


def validate_table(table: str, frame: pl.DataFrame, year: int | None = None) -> list[str]:
    """Validate one published table (eager, in published order, without ``sort_order``).

    Returns every problem found, each naming the table, the column, the rule and the rows; an
    empty list means the table may be published. ``year`` adds the rule that every row carries
    the partition's year.
    """
    schema = MODELS[table].to_schema()
    if year is not None and "year" in frame.columns:
        schema = schema.update_column("year", checks=[pa.Check.equal_to(year)])
    columns_only = copy.deepcopy(schema)
    columns_only.checks = []
    labels = row_labels(table, frame)

    # Pass 1: columns (presence, order, dtype, nulls, ranges). All failure cases are text here.
    column_errors = _pandera_errors(columns_only, frame)
    problems = [describe_column_error(table, error, labels) for error in column_errors]
    if any(error.reason_code in STRUCTURAL for error in column_errors):
        return problems + [
            f"{table}: the table invariants were not evaluated because of the column errors above"
        ]

    # Pass 2: the table invariants, each a scalar-bool dataframe check (failure case False).
    checks_only = pa.DataFrameSchema(checks=schema.checks, name=schema.name)
    for error in _pandera_errors(checks_only, frame):
        check = error.check
        rule = getattr(check, "statistics", {}).get("rule") if check is not None else None
        name = getattr(check, "name", None) or str(check)
        details = _evaluate(rule, frame) if rule is not None else []
        problems.extend(f"{table}: {d} (rule: {name})" for d in details or ["check failed"])
    return problems


def load_published_table(con: duckdb.DuckDBPyConnection, table: str) -> tuple[pl.DataFrame | None, list[str]]:
    """A published table from the warehouse in published order, without ``sort_order``."""
    try:
        columns = [row[0] for row in con.sql(f"DESCRIBE {table}").fetchall()]
    except duckdb.Error as error:
        return None, [f"{table}: the table cannot be read from the warehouse ({error})"]
    if "sort_order" not in columns:
        return None, [
            f"{table}: column sort_order: missing (rule: the warehouse table carries its published order)"
        ]
    problems = []
    null_orders, duplicate_orders = con.sql(
        "SELECT count(*) FILTER (WHERE sort_order IS NULL), "
        f"count(sort_order) - count(DISTINCT sort_order) FROM {table}"
    ).fetchall()[0]
    if null_orders or duplicate_orders:
        problems.append(
            f"{table}: column sort_order: {null_orders} null and {duplicate_orders} repeated value(s) "
            "(rule: a unique published position per row)"
        )
    frame = con.sql(f"SELECT * EXCLUDE (sort_order) FROM {table} ORDER BY sort_order").pl()
    return frame, problems


def check_published_table(con: duckdb.DuckDBPyConnection, table: str, year: int | None) -> list[str]:
    """Load a published table from the year's warehouse and validate it."""
    frame, problems = load_published_table(con, table)
    if frame is None:
        return problems
    return problems + validate_table(table, frame, year)


# --------------------------------------------------------------------------------------------
# Dagster: the blocking check of each published table, run in the table's own step.
# --------------------------------------------------------------------------------------------


def check_result(problems: list[str], passed_text: str, metadata: dict[str, Any]) -> dg.AssetCheckResult:
    """Passed when there is no problem; otherwise a summary and every problem, one per line,
    under the metadata key ``failure`` (read by pipelines.runner)."""
    if not problems:
        return dg.AssetCheckResult(passed=True, description=passed_text, metadata=metadata)
    return dg.AssetCheckResult(
        passed=False,
        description=f"{len(problems)} invariant(s) broken, nothing is published:",
        metadata={**metadata, "failure": dg.MetadataValue.text("\n".join(problems))},
    )


def schema_and_totals_spec(table: str) -> dg.AssetCheckSpec:
    """The blocking ``schema_and_totals`` check of a published table. It runs in the table's own
    step, right after the SQL model built it (pipelines/assets/models.py): one Dagster step per
    table, not two, and a failure still keeps ``release`` from running."""
    return dg.AssetCheckSpec(
        name=CHECK_NAME,
        asset=table,
        blocking=True,
        description=(
            f"Pandera model {MODELS[table].__name__}: columns, dtypes and order, no null or "
            "negative count, category set and order, row and column totals (docs/published-tables.md)."
        ),
    )


def schema_and_totals(con: duckdb.DuckDBPyConnection, table: str, year: int) -> dg.AssetCheckResult:
    """Validate a published table of the year's warehouse against its Pandera model."""
    frame, problems = load_published_table(con, table)
    if frame is not None:
        problems += validate_table(table, frame, year)
    rows = 0 if frame is None else frame.height
    return check_result(problems, f"{table}: all {rows} rows pass", {"rows": rows})
