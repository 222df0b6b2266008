"""The invariants of the published tables, row by row, as polars expressions.

Each rule (:class:`pipelines.tables.Rule`) is a Boolean expression with one value per row of the
table in published order, so the validator (Pandera, pipelines/proving/schemas.py) names the
rows that break it, and an expression saying in words what is wrong with such a row. A fact
about the whole table is stated per row: the rows out of place fail (row i's label is not the
expected label i; the row that ends a table too short fails and names what is missing; a total
row fails when the rows above do not add up to it). The specs (pipelines/tables/) say which
rules apply to which table.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import polars as pl

from pipelines.core.seeds import countries, read_seed
from pipelines.tables import NO_COUNTRY, TOTAL, Rule


@cache
def metric_catalog() -> tuple[tuple[str, str, str | None], ...]:
    """(metric_id, period, computed_from) in catalog order."""
    return tuple((r["metric_id"], r["period"], r["computed_from"] or None) for r in read_seed("metric_catalog"))


@cache
def country_catalog() -> dict[str, tuple[str, int]]:
    """ISO 3166-1 code (plus XK) -> (English short name, published position)."""
    return {code: (name, order) for code, name, order in countries().iter_rows()}


def _quoted(value: str | None) -> str:
    return "null" if value is None else f"'{value}'"


def _text(expr: pl.Expr) -> pl.Expr:
    """A value as text for a message (null spelled out)."""
    return expr.cast(pl.String).fill_null("null")


def _quote(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.is_null()).then(pl.lit("null")).otherwise(pl.format("'{}'", expr))


def _position() -> pl.Expr:
    """Each row's position, 1 for the first."""
    return pl.int_range(1, pl.len() + 1)


def _previous(expr: pl.Expr, among: pl.Expr) -> pl.Expr:
    """Per row, ``expr`` on the closest row above it where ``among`` holds (null if none)."""
    return pl.when(among).then(expr).shift(1).forward_fill()


def one_year() -> Rule:
    """Every row has the same year: the rows whose year differs from most rows' fail."""
    year = pl.col("year")
    common = year.drop_nulls().mode().sort().first()
    return Rule(
        "one year",
        "year",
        "all rows must have the same year",
        holds=year == common,
        detail=pl.format("year {}, most rows say {}", _text(year), _text(common)),
    )


def categories_exactly(label_column: str, categories: Sequence[str], total: str | None) -> Rule:
    """Row i's label is expected label i (the categories, then the total row); a table too short
    fails on its last row, which names the missing labels."""
    expected = [*categories, *([total] if total else [])]
    label = pl.col(label_column)
    position = _position()
    want = position.replace_strict(dict(enumerate(expected, 1)), default=None, return_dtype=pl.String)
    names = pl.lit(pl.Series(expected, dtype=pl.String))
    absent = names.filter(~names.is_in(label.implode()))
    missing = pl.format("'{}'", absent).str.join(", ")
    ends_early = (position == pl.len()) & (pl.len() < len(expected))
    detail = pl.concat_str(
        pl.when(position > len(expected)).then(pl.format("row {} is beyond the {} expected", position, len(expected))),
        pl.when(label.ne_missing(want) & want.is_not_null()).then(pl.format("row {} should be '{}'", position, want)),
        pl.when(~label.is_in(names.implode()).fill_null(False)).then(pl.lit("not a category")),
        pl.when(label.is_duplicated() & label.is_not_null()).then(pl.lit("repeated")),
        pl.when(~want.is_in(label.implode()).fill_null(False) & ~ends_early).then(pl.format("'{}' is missing", want)),
        pl.when(ends_early).then(pl.format("the table ends here, {} missing", missing)),
        separator="; ",
        ignore_nulls=True,
    )
    then_total = f", then {_quoted(total)}" if total else ""
    return Rule(
        "category set and order",
        label_column,
        f"the rows must be the {len(categories)} categories in published order{then_total}",
        holds=(position <= len(expected)) & label.eq_missing(want) & ~ends_early,
        detail=detail,
    )


def row_parts_sum_to_total(parts: Sequence[str], total: str, parts_name: str) -> Rule:
    """Each row's parts add up to its total column."""
    summed = sum((pl.col(p) for p in parts), pl.lit(0, pl.Int64))
    return Rule(
        "row parts sum to total",
        total,
        "row parts do not sum to the row total",
        holds=summed == pl.col(total),
        detail=pl.format("{} = {}, {} = {}", pl.lit(parts_name), _text(summed), pl.lit(total), _text(pl.col(total))),
    )


def category_rows_sum_to_total_row(label_column: str, column: str, total_label: str) -> Rule:
    """The category rows of ``column`` add up to the total row: a total row that differs fails."""
    is_total = pl.col(label_column).eq_missing(total_label)
    categories = pl.col(column).filter(~is_total)
    summed = pl.when(categories.null_count() == 0).then(categories.sum())
    return Rule(
        "column totals",
        column,
        f"the category rows do not add up to the {total_label} row",
        holds=~is_total | (pl.col(column) == summed),
        detail=pl.format(
            "category rows sum to {} but the {} row says {}", _text(summed), pl.lit(total_label), _text(pl.col(column))
        ),
    )


def percent_hundredths(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """100 * part / whole in hundredths, rounded half away from zero, in exact integers."""
    magnitude = (part.abs() * 20000 + whole.abs()) // (2 * whole.abs())
    return pl.when((part < 0) != (whole < 0)).then(-magnitude).otherwise(magnitude)


def percents_are_rounded_shares(label_column: str, percent: str, count: str, total_label: str) -> Rule:
    """``percent`` is the rounded share of ``count`` in the total row's ``count`` (100.00 on the
    total row; null when the total is 0, a share of nothing being undefined)."""
    is_total = pl.col(label_column).eq_missing(total_label)
    whole = pl.col(count).filter(is_total).first()
    expected = percent_hundredths(pl.col(count), whole)
    shown = (pl.col(percent) * 100).cast(pl.Int64)
    expected_text = pl.format(
        "{}{}.{}",
        pl.when(expected < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        expected.abs() // 100,
        (expected.abs() % 100).cast(pl.String).str.zfill(2),
    )
    undefined = whole.is_null() | (whole == 0)
    return Rule(
        "percent is the rounded share",
        percent,
        f"percent is not the rounded share (2 decimals, half away from zero) of the {total_label} row's {count}",
        holds=pl.when(undefined)
        .then(whole.is_not_null() & pl.col(percent).is_null())
        .when(is_total)
        .then(shown == 10000)
        .otherwise(shown == expected),
        detail=pl.when(whole.is_null())
        .then(pl.lit(f"there is no {total_label} row"))
        .when(undefined)
        .then(pl.format("says {} but a share of 0 is undefined (null)", _text(pl.col(percent))))
        .when(is_total)
        .then(pl.format("the {} row must say 100.00 but says {}", pl.lit(total_label), _text(pl.col(percent))))
        .otherwise(
            pl.format(
                "says {} but {} / {} = {}",
                _text(pl.col(percent)),
                _text(pl.col(count)),
                _text(whole),
                expected_text.fill_null("null"),
            )
        ),
    )


def rows_end_with(label_column: str, tail: Sequence[str]) -> Rule:
    """The last rows are exactly ``tail`` (e.g. No Country Listed, Total); these labels nowhere else."""
    label = pl.col(label_column)
    from_end = pl.len() - pl.int_range(pl.len()) - 1
    want = from_end.replace_strict({len(tail) - 1 - i: t for i, t in enumerate(tail)}, default=None)
    in_tail = from_end < len(tail)
    return Rule(
        f"{', '.join(tail)} last",
        label_column,
        f"the table must end with the row(s) {', '.join(_quoted(t) for t in tail)}, each once",
        holds=pl.when(in_tail).then(label.eq_missing(want)).otherwise(~label.is_in(list(tail)).fill_null(False)),
        detail=pl.when(in_tail)
        .then(pl.format("row {} should be '{}'", _position(), want))
        .otherwise(pl.format("row {} of {}, not at the end", _position(), pl.len())),
    )


def key_unique(columns: Sequence[str]) -> Rule:
    """Each row's key (the spec's primary key after ``year``) appears once."""
    named = columns[0] if len(columns) == 1 else f"({', '.join(columns)})"
    return Rule(
        "primary key unique",
        columns[0],
        f"{named} is not unique",
        holds=~pl.struct(*columns).is_duplicated(),
        detail=pl.format("listed {} times", pl.len().over(*columns)),
    )


def esp_rows_by_reports() -> list[Rule]:
    """Every ESP named, most reports first (ties by name); each once and the Total row last are
    the spec's (pipelines/proving/schemas.py, table_rules)."""
    name, reports = pl.col("esp_name"), pl.col("reports")
    listed = name.ne_missing(TOTAL)
    before_name, before_reports = _previous(name, listed), _previous(reports, listed)
    out_of_order = (reports > before_reports) | ((reports == before_reports) & (name < before_name))
    return [
        Rule(
            "ESP rows named",
            "esp_name",
            "an ESP row must have a name",
            holds=~listed | name.str.contains(r"\S"),
        ),
        Rule(
            "ESP rows by reports then name",
            "esp_name",
            "rows are not sorted by reports, most first, ties by name",
            holds=~listed | ~out_of_order.fill_null(False),
            detail=pl.format(
                "{} reports, after {} with {}", _text(reports), _quote(before_name), _text(before_reports)
            ),
        ),
    ]


def country_rows_in_catalog_order() -> list[Rule]:
    """Listed countries by English short name (pycountry + XK), then No Country Listed, Total."""
    catalog = country_catalog()
    tail = [NO_COUNTRY, TOTAL]
    code, country = pl.col("country_code"), pl.col("country")
    listed = ~country.is_in(tail).fill_null(False)
    known = code.is_in(list(catalog)).fill_null(False)
    catalog_name = code.replace_strict({c: n for c, (n, _) in catalog.items()}, default=None, return_dtype=pl.String)
    position = code.replace_strict({c: p for c, (_, p) in catalog.items()}, default=None, return_dtype=pl.Int64)
    before = _previous(position, listed & known)
    return [
        rows_end_with("country", tail),
        Rule(
            "No Country Listed and Total without a code",
            "country_code",
            f"rows {_quoted(NO_COUNTRY)} and {_quoted(TOTAL)} must have an empty code",
            holds=listed | code.is_null(),
            detail=pl.format("code {}", _quote(code)),
        ),
        Rule(
            "country codes in ISO 3166-1",
            "country_code",
            "not an ISO 3166-1 code (or XK)",
            holds=~listed | known,
            detail=pl.format("code {}", _quote(code)),
        ),
        Rule(
            "country names from ISO 3166-1",
            "country",
            "not the ISO 3166-1 English short name",
            holds=~listed | ~known | country.eq_missing(catalog_name),
            detail=pl.format("code {} is {}, not {}", _text(code), _quote(catalog_name), _quote(country)),
        ),
        Rule(
            "countries in catalog order",
            "country",
            "countries are not in the published order (English short name, each once)",
            holds=~listed | ~known | before.is_null() | (position > before),
            detail=pl.format("comes after {}", _quote(_previous(catalog_name, listed & known))),
        ),
    ]


def headline_keys_in_catalog() -> list[Rule]:
    """(metric_id, period) is a catalog entry and rows follow the catalog order (each key once is
    the spec's primary key: pipelines/proving/schemas.py, table_rules)."""
    keys = [f"{m}/{p}" for m, p, _ in metric_catalog()]
    key = pl.concat_str("metric_id", "period", separator="/")
    position = key.replace_strict({k: i for i, k in enumerate(keys)}, default=None, return_dtype=pl.Int64)
    known = position.is_not_null()
    before = _previous(position, known)
    return [
        Rule(
            "metric keys in catalog",
            "metric_id",
            "(metric_id, period) not in the metric catalog",
            holds=key.is_in(keys).fill_null(False),
        ),
        Rule(
            "metric keys in catalog order",
            "metric_id",
            "rows are not in metric-catalog order",
            holds=~known | before.is_null() | (position > before),
            detail=pl.format("comes after {}", _quote(_previous(key, known))),
        ),
    ]


def since_only_for_cumulative() -> list[Rule]:
    """``since`` is the first year of a cumulative count: only on cumulative rows, not after the year."""
    since = pl.col("since")
    return [
        Rule(
            "since only for cumulative",
            "since",
            "a first year is only given for a cumulative figure, not after the year",
            holds=since.is_null() | ((pl.col("period") == "cumulative") & ~(since > pl.col("year")).fill_null(False)),
            detail=pl.format("since {}", _text(since)),
        )
    ]


def cumulative_not_below_yearly() -> list[Rule]:
    """A cumulative figure is never below the same metric's yearly figure of the year."""
    value, metric = pl.col("value"), pl.col("metric_id")
    yearly = pl.when(pl.col("period") == "year").then(value).max().over("metric_id")
    return [
        Rule(
            "cumulative not below yearly",
            "value",
            "a cumulative figure is below the same year's yearly figure",
            holds=pl.col("period").ne_missing("cumulative") | ~(value < yearly).fill_null(False),
            detail=pl.format("{} < '{}/year' = {}", _text(value), _text(metric), _text(yearly)),
        )
    ]
