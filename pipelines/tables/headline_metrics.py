"""The headline figures of the year (sql/published/headline_metrics.sql)."""

import math

import polars as pl

from pipelines.core.seeds import metric_catalog, read_seed, seed_label
from pipelines.tables import GRAND_TOTAL, TOTAL, Column, SharedCell, TableSpec
from pipelines.tables.raw_year import RawYear
from pipelines.tables.rules import cumulative_not_below_yearly, headline_keys_in_catalog, since_only_for_cumulative


def computed_figures(raw: RawYear) -> dict[tuple[str, str], int]:
    """The figures computed from the record-level exports, from the raw exports themselves."""
    groups = raw.report_groups
    by_source = dict(groups.group_by("reporter_type").agg(pl.col("reports").sum()).iter_rows())
    images, videos, other = (int(groups[c].sum()) for c in ("image_count", "video_count", "other_file_count"))
    requests = raw.cvip_requests
    return {
        ("missing_children_cases_assisted", "year"): raw.population.height,
        ("cybertipline_reports", "year"): int(groups["reports"].sum()),
        ("cybertipline_public_reports", "year"): int(by_source.get("PUBLIC", 0)),
        ("cybertipline_esp_reports", "year"): int(by_source.get("ESP", 0)),
        ("cybertipline_files", "year"): images + videos + other,
        ("cybertipline_images", "year"): images,
        ("cybertipline_videos", "year"): videos,
        ("cybertipline_other_files", "year"): other,
        ("cvip_law_enforcement_requests", "year"): requests.height,
        ("cvip_request_images_videos", "year"): int(requests["image_count"].sum() + requests["video_count"].sum()),
        ("cvip_actively_traded_children", "cumulative"): raw.relationships["victim_id"].n_unique(),
    }


def display_text(value: int, prefix: str | None, step: int, scale: str | None) -> str:
    """The figure as written in prose (the catalog's display rule): truncated, never rounded,
    to a multiple of ``step``, in millions with the decimals the step allows when the scale is
    ``million``; the prefix ("more than") only when truncation removed something; a value below
    one step exactly."""
    if value < step:
        return f"{value:,}"
    kept = value - value % step
    if scale == "million":
        text = f"{kept // 1_000_000:,}"
        decimals = 6 - round(math.log10(step))
        if decimals > 0:
            text += "." + str(kept % 1_000_000 // step).zfill(decimals)
        text += " million"
    else:
        text = f"{kept:,}"
    return f"{prefix} {text}" if prefix and kept < value else text


def compute(raw: RawYear) -> pl.DataFrame:
    """Every catalog figure that has a value this year, in catalog order: computed from the raw
    exports, or as kept in program_metrics.csv; a prior-year figure from last year's release
    when there is one; the change from last year's release."""
    computed = computed_figures(raw)
    kept = {(m, p): (v, s, src) for m, p, v, s, src in raw.program_metrics.iter_rows()}
    last = raw.previous_headline
    last_values = (
        {} if last is None else {(m, p): v for m, p, v in last.select("metric_id", "period", "value").iter_rows()}
    )
    rows = []
    for entry in metric_catalog().values():
        key = entry.key
        since = None
        if entry.computed_from:
            if key not in computed:
                continue
            value = computed[key]
            source = f"Computed from the record-level exports (table {entry.computed_from})"
        elif entry.period == "prior_year" and (entry.metric_id, "year") in last_values:
            value = last_values[(entry.metric_id, "year")]
            since = kept.get(key, (None, None, None))[1]
            source = f"Published release of {raw.year - 1}"
        elif key in kept:
            value, since, source = kept[key]
        else:
            continue
        previous = last_values.get(key)
        change = None if entry.period == "prior_year" or previous is None else value - previous
        text = display_text(value, entry.display_prefix, entry.display_step, entry.display_scale)
        rows.append((raw.year, *key, since, value, text, source, change))
    return pl.DataFrame(
        rows,
        schema={
            "year": pl.Int32,
            "metric_id": pl.String,
            "period": pl.String,
            "since": pl.Int32,
            "value": pl.Int64,
            "display_text": pl.String,
            "source": pl.String,
            "change_from_prior_year": pl.Int64,
        },
        orient="row",
    )


def _computed_from_a_cell() -> list[SharedCell]:
    """The computed figures that are a cell of the table they come from (the metric catalog's
    computed_from): the CyberTipline reports by source, the files by type, the CVIP requests."""
    source, files = "cybertipline_reports_by_source", "cybertipline_files_by_type"
    by_source = {"cybertipline_reports": TOTAL, "cybertipline_public_reports": seed_label("reporter_types", "PUBLIC")}
    by_source["cybertipline_esp_reports"] = seed_label("reporter_types", "ESP")
    by_type = {f"cybertipline_{row['code'].replace('_count', 's')}": row["label"] for row in read_seed("file_types")}
    return [
        *(SharedCell(f"{metric}/year", "value", source, row, "reports") for metric, row in by_source.items()),
        SharedCell("cybertipline_files/year", "value", files, TOTAL, "files"),
        *(SharedCell(f"{metric}/year", "value", files, row, "files") for metric, row in by_type.items()),
        SharedCell("cvip_law_enforcement_requests/year", "value", "cvip_requests_by_agency", GRAND_TOTAL, "requests"),
    ]


SPEC = TableSpec(
    name="headline_metrics",
    title="Headline figures",
    description=(
        "The headline figures of the year, in metric-catalog order: figures computed from "
        "the record-level exports (catalog column computed_from names the table they come from), "
        "and figures kept in other systems (program_metrics.csv). A prior_year figure comes from "
        "last year's release when it exists (its yearly figure), else from program_metrics.csv; "
        "the check consistent_with_previous_year fails when both exist and differ. Each figure "
        "gets its display text from the catalog's rule (macro display_text in sql/macros.sql) "
        "and, when last year was released, its change from last year's figure. A catalog metric "
        "without a value that year is simply not published."
    ),
    total=None,
    columns=(
        Column(
            "metric_id",
            "Metric",
            "Identifier of the figure in the metric catalog (sql/seeds/metric_catalog.csv).",
            pl.String,
        ),
        Column(
            "period",
            "Period",
            "year, cumulative (since the year in since, when known), current (level at year end) or prior_year.",
            pl.String,
        ),
        Column("since", "Since", "First year of a cumulative count; empty when not stated.", pl.Int32, nullable=True),
        Column("value", "Value", "The exact figure.", pl.Int64, minimum=0),
        Column(
            "display_text",
            "As published",
            "The figure as it is written in prose, from the catalog's display rule.",
            pl.String,
            not_empty=True,
        ),
        Column("source", "Source", "Where the figure comes from.", pl.String, nullable=True),
        Column(
            "change_from_prior_year",
            "Change from prior year",
            "This figure less the same figure in last year's release; empty when there is none.",
            pl.Int64,
            nullable=True,
        ),
    ),
    rules=(headline_keys_in_catalog, since_only_for_cumulative, cumulative_not_below_yearly),
    primary_key=("year", "metric_id", "period"),
    second_computation=compute,
    counts_children=False,
    shares=(
        SharedCell("missing_children_cases_assisted/year", "value", "missing_children_by_case_type", TOTAL, "total"),
        *_computed_from_a_cell(),
    ),
)
