"""The demo profiles (``profiles/<year>.toml``): every target figure of a year's demo exports,
read and checked before any file is written."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipelines.core.seeds import metric_catalog
from pipelines.demo.common import (
    AGE_GROUPS,
    AGENCY_TYPES,
    CASE_TYPES,
    COUNTRIES,
    INCIDENT_TYPES,
    RACES,
    RELATIONSHIPS,
    STATES,
    check_codes,
)

PROFILES_DIR = Path(__file__).parent / "profiles"
"""One ``<year>.toml`` per year the generator knows."""


def available_years() -> list[int]:
    """Years that have a demo profile."""
    return sorted(int(p.stem) for p in PROFILES_DIR.glob("*.toml") if p.stem.isdigit())


def load_profile(year: int) -> dict[str, Any]:
    """Read and validate the profile of ``year``; ``ValueError`` when there is none or it is
    inconsistent (e.g. the case-type and state totals disagree)."""
    path = PROFILES_DIR / f"{int(year)}.toml"
    if not path.is_file():
        raise ValueError(
            f"no demo-data profile for year {year}: expected {path} "
            f"(profiles exist for {', '.join(map(str, available_years())) or 'no year'})"
        )
    with path.open("rb") as handle:
        profile = tomllib.load(handle)
    if profile.get("year") != int(year):
        raise ValueError(f"{path}: 'year' is {profile.get('year')!r}, expected {year}")
    _validate_profile(profile, path)
    return profile


def _fail(path: Path, message: str) -> None:
    raise ValueError(f"demo profile {path.name}: {message}")


def _check_keys(path: Path, section: str, got: Iterable[str], expected: Sequence[str], source: str) -> None:
    """The keys of a section are exactly the codes of ``source`` (a seed, or the product's states)."""
    problem = check_codes(got, expected, source)
    if problem:
        _fail(path, f"[{section}] has {problem}")


def _check_counts(path: Path, section: str, values: Iterable[Any]) -> None:
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            _fail(path, f"[{section}] holds {value!r}: counts must be integers >= 0")


def _validate_profile(profile: dict[str, Any], path: Path) -> None:
    """Check everything the generator relies on, so a bad profile fails before any file is
    written (a half-consistent profile would produce exports the pipeline rightly rejects)."""
    if not str(profile.get("description", "")).strip():
        _fail(path, "a 'description' is required (say whether the figures are published or synthetic)")
    _validate_cases(profile["cases"], path)
    _validate_cvip(profile["cvip"], path)
    _validate_cybertipline(profile["cybertipline"], path)
    _validate_program_metrics(profile.get("program_metrics", []), path)


def _validate_cases(cases: dict[str, Any], path: Path) -> None:
    """The three case tables agree on their totals, and the boundary rows fit in them."""
    by_type = cases["status_by_case_type"]
    _check_keys(path, "cases.status_by_case_type", by_type, CASE_TYPES, "sql/seeds/case_types.csv")
    by_age = cases["race_by_age_group"]
    _check_keys(path, "cases.race_by_age_group", by_age, list(AGE_GROUPS), "sql/seeds/age_groups.csv")
    by_state = cases["status_by_state"]
    _check_keys(path, "cases.status_by_state", by_state, STATES, "the states of pycountry plus INTL")
    for section, table, width in (
        ("status_by_case_type", by_type, 2),
        ("race_by_age_group", by_age, len(RACES)),
        ("status_by_state", by_state, 2),
    ):
        for key, row in table.items():
            if not isinstance(row, list) or len(row) != width:
                _fail(path, f"[cases.{section}] {key} must be a list of {width} counts")
            _check_counts(path, f"cases.{section}", row)
    active = sum(v[0] for v in by_type.values())
    resolved = sum(v[1] for v in by_type.values())
    if (sum(v[0] for v in by_state.values()), sum(v[1] for v in by_state.values())) != (active, resolved):
        _fail(path, "active/resolved totals of status_by_state differ from status_by_case_type")
    if sum(sum(v) for v in by_age.values()) != active + resolved:
        _fail(path, "race_by_age_group total differs from the case-type total")
    rules = cases["rule_rows"]
    _check_counts(path, "cases.rule_rows", [v for k, v in rules.items() if k != "unknown_race_blank_share"])
    if rules["prior_year_recoveries"] > resolved:
        _fail(path, "prior_year_recoveries exceeds the resolved cases")
    if rules["active_resolved_next_year"] > active:
        _fail(path, "active_resolved_next_year exceeds the active cases")
    if rules["active_missing_dec31_found_jan2"] > rules["active_resolved_next_year"]:
        _fail(path, "active_missing_dec31_found_jan2 exceeds active_resolved_next_year")
    if not 0.0 <= float(rules["unknown_race_blank_share"]) <= 1.0:
        _fail(path, "unknown_race_blank_share must be within [0, 1]")


def _validate_cvip(cvip: dict[str, Any], path: Path) -> None:
    """Requests by agency, and relationships a set of distinct victims can hold."""
    _check_keys(path, "cvip.requests_by_agency", cvip["requests_by_agency"], AGENCY_TYPES, "sql/seeds/agency_types.csv")
    for agency, row in cvip["requests_by_agency"].items():
        if not isinstance(row, list) or len(row) != 3:
            _fail(path, f"[cvip.requests_by_agency] {agency} must be [requests, images, videos]")
        _check_counts(path, "cvip.requests_by_agency", row)
        if row[0] == 0 and (row[1] or row[2]):
            _fail(path, f"[cvip.requests_by_agency] {agency} has files but no requests")
    rel = cvip["relationships"]
    _check_keys(path, "cvip.relationships.counts", rel["counts"], RELATIONSHIPS, "sql/seeds/relationships.csv")
    _check_counts(path, "cvip.relationships.counts", rel["counts"].values())
    victims = rel["distinct_victims"]
    pairs = sum(rel["counts"].values())
    if not (isinstance(victims, int) and 0 < victims <= pairs):
        _fail(path, "cvip.relationships.distinct_victims must be within 1..number of relationships")
    if max(rel["counts"].values()) > victims:
        _fail(path, "a relationship count exceeds distinct_victims: (victim, relationship) must be unique")


def _validate_cybertipline(cyber: dict[str, Any], path: Path) -> None:
    """The reports by ESP and from the public add up to the incident types; countries are known."""
    _check_keys(
        path, "cybertipline.incident_types", cyber["incident_types"], INCIDENT_TYPES, "sql/seeds/incident_types.csv"
    )
    _check_counts(path, "cybertipline.incident_types", cyber["incident_types"].values())
    _check_counts(
        path,
        "cybertipline",
        [
            cyber[k]
            for k in ("public_reports", "images", "videos", "other_files", "other_esp_count", "other_esp_reports")
        ],
    )
    _check_counts(path, "cybertipline.named_esps", cyber["named_esps"].values())
    total = sum(cyber["named_esps"].values()) + cyber["other_esp_reports"] + cyber["public_reports"]
    if total != sum(cyber["incident_types"].values()):
        _fail(
            path,
            f"named + other ESP + public reports ({total}) differ from the incident-type "
            f"total ({sum(cyber['incident_types'].values())})",
        )
    if (cyber["other_esp_reports"] > 0) != (cyber["other_esp_count"] > 0):
        _fail(path, "other_esp_count and other_esp_reports must both be zero or both positive")
    if cyber["other_esp_count"] > cyber["other_esp_reports"]:
        _fail(path, "other_esp_count exceeds other_esp_reports (each ESP needs a report)")
    countries = cyber["countries"]
    _check_counts(path, "cybertipline.countries.weights", countries["weights"].values())
    _check_counts(path, "cybertipline.countries", [countries["no_country_weight"], countries["other_countries_weight"]])
    unknown = [c for c in countries["weights"] if c not in COUNTRIES]
    if unknown:
        _fail(path, f"[cybertipline.countries.weights] has codes {unknown} that pycountry (plus XK) does not have")


def _validate_program_metrics(items: list[dict[str, Any]], path: Path) -> None:
    """Each figure once, in the catalog, kept in another system (not computed), with a source."""
    seen: set[tuple[str, str]] = set()
    catalog = {key: metric.computed_from for key, metric in metric_catalog().items()}
    for item in items:
        key = (item["metric_id"], item["period"])
        if key in seen:
            _fail(path, f"program metric {key} appears twice")
        seen.add(key)
        if key not in catalog:
            _fail(path, f"program metric {key} is not in sql/seeds/metric_catalog.csv")
        if catalog[key]:
            _fail(
                path,
                f"program metric {key} is computed by the pipeline (from {catalog[key]}) "
                "and must not be in program_metrics",
            )
        _check_counts(path, "program_metrics", [item["value"]])
        if not str(item.get("source", "")).strip():
            _fail(path, f"program metric {key} needs a source")
