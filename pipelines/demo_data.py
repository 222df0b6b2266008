"""Deterministic demo data: record-level raw exports (raw/README.md) that reproduce a year's figures.

The real exports are confidential, so the product ships a generator of synthetic ones. It reads
the year's *profile* (``pipelines/demo_profiles/<year>.toml``), which holds every target figure
(for 2020 the numbers of the published page, ``tests/reference/2020``), and writes five files
into ``raw_dir/<year>/``:

``cases.csv``
    one row per case, including rows *outside* the year's population (older open cases, cases
    resolved before the year, cases opened after it) and every boundary the population and
    status rules have to get right (recoveries of earlier cases, a child missing on Dec 31 and
    found on Jan 2, ...). The population rebuilt from the rows with the contract's rules reproduces the
    case-type, age-and-race and state tables *jointly*, from one set of rows.
``cybertipline_reports.parquet``
    21.75 million rows for 2020. Generated inside DuckDB with one vectorised ``COPY (SELECT ...
    FROM range(n))``, never materialised in Python: full size takes seconds and little memory.
``cvip_requests.csv``, ``cvip_offender_relationships.csv``, ``program_metrics.csv``
    small files built with numpy's ``default_rng``.

Why a profile file: the pipeline must compute every published figure from the records; if the
figures lived in code, a pipeline bug could be masked by a constant. Keeping them in the demo
generator's own data makes the pipeline's reproduction of ``reference/2020`` a real end-to-end
test.

Determinism: the same (year, scale, seed) give byte-identical files. Everything random comes
from ``numpy.random.default_rng`` seeded with ``[seed, year, stream]`` (one stream per file, so a
file does not change when another file's generation changes) or from integer arithmetic inside
DuckDB, whose Parquet output is in row-index order (see _write_cybertipline). The seed changes *which* rows carry
which attribute, never the marginals, which are fixed by the profile.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
import tomllib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

PROFILES_DIR = Path(__file__).parent / "demo_profiles"
"""One ``<year>.toml`` per year the generator knows."""

CASES_FILE = "cases.csv"
CYBERTIPLINE_FILE = "cybertipline_reports.parquet"
CVIP_REQUESTS_FILE = "cvip_requests.csv"
RELATIONSHIPS_FILE = "cvip_offender_relationships.csv"
PROGRAM_METRICS_FILE = "program_metrics.csv"

CASE_TYPES = ("ERU", "FA", "LIOM", "MYA", "NFA")
RACES = ("AI", "AS", "MR", "BL", "HI", "PI", "WH", "U")
AGE_GROUPS: dict[str, tuple[int, int] | None] = {
    "unknown": None,
    "0-2": (0, 2),
    "3-5": (3, 5),
    "6-8": (6, 8),
    "9-11": (9, 11),
    "12-14": (12, 14),
    "15-17": (15, 17),
    "18-20": (18, 20),
}
STATES = (
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "PR",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "INTL",
)
AGENCY_TYPES = ("FEDERAL", "STATE_LOCAL_ICAC", "MILITARY", "INTERNATIONAL")
RELATIONSHIPS = (
    "PARENT_GUARDIAN",
    "OTHER_RELATIVE",
    "NEIGHBOR_FAMILY_FRIEND",
    "BABYSITTER_MENTOR_COACH",
    "GUARDIANS_PARTNER",
    "ONLINE_ENTICEMENT",
    "SELF_PRODUCTION",
    "CHILD_SEX_TRAFFICKER",
    "UNKNOWN_TO_CHILD",
)
INCIDENT_TYPES = (
    "CSAM",
    "ONLINE_ENTICEMENT",
    "CHILD_SEX_TRAFFICKING",
    "CHILD_SEXUAL_MOLESTATION",
    "MISLEADING_WORDS_OR_IMAGES",
    "UNSOLICITED_OBSCENE_MATERIAL",
    "MISLEADING_DOMAIN_NAME",
    "CHILD_SEX_TOURISM",
)
PERIODS = ("year", "cumulative", "current", "prior_year")

COMPUTED_METRICS = frozenset(
    {
        ("missing_children_cases_assisted", "year"),
        ("cybertipline_reports", "year"),
        ("cybertipline_public_reports", "year"),
        ("cybertipline_esp_reports", "year"),
        ("cybertipline_files", "year"),
        ("cybertipline_images", "year"),
        ("cybertipline_videos", "year"),
        ("cybertipline_other_files", "year"),
        ("cvip_law_enforcement_requests", "year"),
        ("cvip_request_images_videos", "year"),
        ("cvip_actively_traded_children", "cumulative"),
    }
)
"""Figures the pipeline computes from the record-level exports (raw/README.md): a profile must not put
them in ``program_metrics.csv``. The metric catalog, when present, is checked as well."""

_CATALOG = Path(__file__).resolve().parent.parent / "sql" / "seeds" / "metric_catalog.csv"

# Which age groups each case type takes, in order of preference, when the case-type and
# age-group totals of the profile are joined into one set of rows (see _case_type_by_age_group).
# Missing young adults are 18-20 by definition; family abductions are mostly young children;
# nonfamily abductions mostly young teenagers; "lost, injured or otherwise missing" takes what
# is left of the young adults, the unknown ages and the young children; endangered runaways,
# processed last, take whatever remains.
_AGE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "MYA": ("18-20",),
    "FA": ("0-2", "3-5", "6-8", "9-11", "12-14", "15-17", "unknown"),
    "NFA": ("12-14", "15-17", "9-11", "6-8", "3-5", "0-2", "unknown"),
    "LIOM": ("18-20", "unknown", "9-11", "6-8", "3-5", "0-2", "12-14", "15-17"),
    "ERU": ("15-17", "12-14", "9-11", "6-8", "3-5", "0-2", "unknown", "18-20"),
}

_EXPORT_DAYS_AFTER_YEAR_END = 14
"""The export of year Y is taken on January 14 of Y+1: no date in it is later than that."""

# File counts per report: each file type is the sum of telescoping components
# (share of the type's total, share of the reports that may carry them, power of the curve).
# A "bulk" component gives most reports a few files; a "heavy" one gives a few reports hundreds.
_FILE_COMPONENTS: dict[str, tuple[tuple[float, float, int], ...]] = {
    "image_count": ((0.75, 0.80, 2), (0.25, 0.002, 3)),
    "video_count": ((0.70, 0.55, 2), (0.30, 0.003, 3)),
    "other_file_count": ((1.0, 0.03, 2),),
}

# Uninhabited or tiny territories go to the end of the country long tail (fewest reports).
_TINY_TERRITORIES = frozenset(
    {
        "AQ",
        "BV",
        "HM",
        "TF",
        "UM",
        "IO",
        "GS",
        "PN",
        "CX",
        "CC",
        "NF",
        "TK",
        "NU",
        "FK",
        "SH",
        "BL",
        "MF",
        "PM",
        "WF",
        "VA",
        "SJ",
        "MS",
        "AI",
        "NR",
        "TV",
        "FO",
        "GL",
        "AX",
        "BQ",
        "SX",
        "CK",
        "MP",
        "AS",
        "GI",
        "MC",
        "SM",
        "LI",
        "KY",
        "VG",
        "VI",
        "TC",
        "BM",
        "GG",
        "JE",
        "IM",
        "YT",
        "RE",
        "GP",
        "MQ",
        "GF",
        "NC",
        "PF",
        "EH",
        "AD",
        "PW",
        "MH",
        "FM",
        "KI",
        "TO",
        "WS",
    }
)

_OTHER_ESP_FIRST = (
    "Acme",
    "Bluefin",
    "Cobalt",
    "Driftwood",
    "Ember",
    "Fable",
    "Glimmer",
    "Harbor",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orbit",
    "Pixel",
    "Quill",
    "Ripple",
    "Sable",
    "Tandem",
    "Umber",
    "Vesper",
    "Willow",
    "Yonder",
    "Zephyr",
)
_OTHER_ESP_SECOND = (
    "Chat",
    "Cloud",
    "Photos",
    "Social",
    "Share",
    "Stream",
    "Mail",
    "Forum",
    "Games",
    "Link",
    "Talk",
    "Space",
    "Drive",
    "Live",
    "Video",
    "Dating",
    "Messenger",
    "Host",
    "Play",
    "Board",
)
_OTHER_ESP_SUFFIX = ("", " Inc.", " LLC", " Ltd", " GmbH", " Corp.")
# Names that exercise CSV/Parquet quoting and UTF-8 in the ESP table: a comma, a double quote,
# non-ASCII letters.
_OTHER_ESP_SPECIAL = ("Acme Chat, Inc.", 'The "Hub" Network', "Société Vidéo SA")


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


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


def _check_keys(path: Path, section: str, got: Iterable[str], expected: Sequence[str]) -> None:
    got = list(got)
    if set(got) != set(expected):
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        _fail(path, f"[{section}] keys differ: missing {missing}, unknown {extra}")


def _check_counts(path: Path, section: str, values: Iterable[Any]) -> None:
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            _fail(path, f"[{section}] holds {value!r}: counts must be integers >= 0")


def _validate_profile(profile: dict[str, Any], path: Path) -> None:
    """Check everything the generator relies on, so a bad profile fails before any file is
    written (a half-consistent profile would produce exports the pipeline rightly rejects)."""
    if not str(profile.get("description", "")).strip():
        _fail(path, "a 'description' is required (say whether the figures are published or synthetic)")

    cases = profile["cases"]
    by_type = cases["status_by_case_type"]
    _check_keys(path, "cases.status_by_case_type", by_type, CASE_TYPES)
    by_age = cases["race_by_age_group"]
    _check_keys(path, "cases.race_by_age_group", by_age, list(AGE_GROUPS))
    by_state = cases["status_by_state"]
    _check_keys(path, "cases.status_by_state", by_state, STATES)
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

    cvip = profile["cvip"]
    _check_keys(path, "cvip.requests_by_agency", cvip["requests_by_agency"], AGENCY_TYPES)
    for agency, row in cvip["requests_by_agency"].items():
        if not isinstance(row, list) or len(row) != 3:
            _fail(path, f"[cvip.requests_by_agency] {agency} must be [requests, images, videos]")
        _check_counts(path, "cvip.requests_by_agency", row)
        if row[0] == 0 and (row[1] or row[2]):
            _fail(path, f"[cvip.requests_by_agency] {agency} has files but no requests")
    rel = cvip["relationships"]
    _check_keys(path, "cvip.relationships.counts", rel["counts"], RELATIONSHIPS)
    _check_counts(path, "cvip.relationships.counts", rel["counts"].values())
    victims = rel["distinct_victims"]
    pairs = sum(rel["counts"].values())
    if not (isinstance(victims, int) and 0 < victims <= pairs):
        _fail(path, "cvip.relationships.distinct_victims must be within 1..number of relationships")
    if max(rel["counts"].values()) > victims:
        _fail(path, "a relationship count exceeds distinct_victims: (victim, relationship) must be unique")

    cyber = profile["cybertipline"]
    _check_keys(path, "cybertipline.incident_types", cyber["incident_types"], INCIDENT_TYPES)
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
    known = _country_codes()
    unknown = [c for c in countries["weights"] if c not in known and c != "XK"]
    if unknown:
        _fail(path, f"unknown country codes in cybertipline.countries.weights: {unknown}")

    seen: set[tuple[str, str]] = set()
    catalog = _read_catalog()
    for item in profile.get("program_metrics", []):
        key = (item["metric_id"], item["period"])
        if key in seen:
            _fail(path, f"program metric {key} appears twice")
        seen.add(key)
        if item["period"] not in PERIODS:
            _fail(path, f"program metric {key}: unknown period")
        computed = key in COMPUTED_METRICS or (catalog is not None and catalog.get(key))
        if computed:
            _fail(path, f"program metric {key} is computed by the pipeline and must not be in program_metrics")
        if catalog is not None and key not in catalog:
            _fail(path, f"program metric {key} is not in the metric catalog")
        _check_counts(path, "program_metrics", [item["value"]])
        if not str(item.get("source", "")).strip():
            _fail(path, f"program metric {key} needs a source")


def _read_catalog() -> dict[tuple[str, str], str] | None:
    """(metric_id, period) -> computed_from of the metric catalog, or None when the repository's
    seeds are not next to the package (e.g. an installed wheel)."""
    if not _CATALOG.is_file():
        return None
    with _CATALOG.open(newline="", encoding="utf-8") as handle:
        return {(r["metric_id"], r["period"]): r["computed_from"] for r in csv.DictReader(handle)}


def _country_codes() -> set[str]:
    import pycountry

    return {c.alpha_2 for c in pycountry.countries}


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def write_demo_exports(
    year: int,
    raw_dir: Path,
    scale: float = 1.0,
    seed: int = 2020,
    progress: Callable[[str], None] | None = None,
    realistic: bool | None = None,
) -> list[Path]:
    """Write the five raw exports of ``year`` into ``raw_dir/<year>/`` and return their paths
    (sorted).

    ``scale`` (> 0) resizes only the CyberTipline export: below 1 it shrinks it for fast tests,
    above 1 it grows it for benchmarks (2.0 = twice the reports). Every category and file total
    is scaled with largest-remainder rounding so its tables stay consistent; the other files are
    always full size (they are small and hold the exact published tables). CyberTipline figures
    kept in other systems (last year's reports, the cumulative count) are scaled with it, so an
    export of any size passes the product's checks (a cumulative count is never below the year's).

    ``realistic`` writes the CyberTipline export as a real one looks (see _cybertipline_query):
    report ids unique but neither consecutive nor sorted, received times random within the
    year. That file is about ten times larger than the tidy one (ids and times that compress to
    nothing) and slower to read, which is what a benchmark must see. ``None``: realistic above
    full size (``scale > 1``), tidy otherwise. Both give the same tables.
    ``progress`` is called once after each file is in place, with a short message.

    Each file is written to a temporary name in the target folder, then moved into place with
    ``os.replace``: a killed run never leaves a half-written export behind.
    """
    if not (isinstance(scale, (int, float)) and float(scale) > 0.0):
        raise ValueError(f"scale must be greater than 0, got {scale!r}")
    profile = load_profile(year)
    out_dir = Path(raw_dir) / str(int(year))
    out_dir.mkdir(parents=True, exist_ok=True)
    year = int(year)
    report = progress or (lambda _message: None)
    if realistic is None:
        realistic = float(scale) > 1.0

    steps: list[tuple[str, Callable[[Path], None]]] = [
        (PROGRAM_METRICS_FILE, lambda p: _write_program_metrics(profile, year, float(scale), p)),
        (CVIP_REQUESTS_FILE, lambda p: _write_cvip_requests(profile, year, seed, p)),
        (RELATIONSHIPS_FILE, lambda p: _write_relationships(profile, year, seed, p)),
        (CASES_FILE, lambda p: _write_cases(profile, year, seed, p)),
        (CYBERTIPLINE_FILE, lambda p: _write_cybertipline(profile, year, float(scale), seed, p, realistic)),
    ]
    written = []
    for name, writer in steps:
        target = out_dir / name
        with _atomic_target(target) as temporary:
            writer(temporary)
        written.append(target)
        report(f"{year}/{name}")
    return sorted(written)


@contextmanager
def _atomic_target(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it into place only if the block succeeds.

    The temporary file is in the same folder, so ``os.replace`` is an atomic rename: readers see
    the old file or the new one, never a partial one.
    """
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual mode
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8, header, comma, LF, RFC 4180 quoting (only where needed, quotes doubled)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)


def _rng(seed: int, year: int, stream: int) -> np.random.Generator:
    """One independent, reproducible random stream per (seed, year, file)."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(year), stream])


# --------------------------------------------------------------------------------------------
# Counting helpers
# --------------------------------------------------------------------------------------------


def apportion(weights: Sequence[int], total: int, min_one: bool = True) -> list[int]:
    """Split ``total`` in proportion to integer ``weights`` by largest remainders.

    The result sums to exactly ``total``; ``apportion(c, sum(c)) == c``. With ``min_one``, each
    positive weight gets at least 1 whenever ``total`` is at least the number of positive
    weights (so a category that exists at full size still exists in a scaled-down export), the
    extra units being taken from the categories that have the most above their exact share.
    Integer arithmetic only: the result does not depend on floating-point rounding.
    """
    weights = [int(w) for w in weights]
    if any(w < 0 for w in weights) or total < 0:
        raise ValueError("weights and total must be >= 0")
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError("cannot apportion a positive total over zero weights")
        return [0] * len(weights)
    base = [w * total // whole for w in weights]
    remainder = [w * total % whole for w in weights]
    positive = [i for i, w in enumerate(weights) if w > 0]
    if min_one and total >= len(positive):
        for i in positive:
            base[i] = max(base[i], 1)
    deficit = total - sum(base)
    if deficit > 0:
        order = sorted(positive, key=lambda i: (-remainder[i], i))
        for i in order[:deficit]:
            base[i] += 1
    while deficit < 0:
        # Take back from the categories whose count most exceeds its exact share w*total/whole.
        # (Some count is > 1 here: all counts at 1 would sum to len(positive) <= total.)
        candidates = [i for i in positive if base[i] > 1]
        candidates.sort(key=lambda i: (-(base[i] * whole - weights[i] * total), i))
        for i in candidates[:-deficit]:
            base[i] -= 1
            deficit += 1
    return base


def _zipf_counts(total: int, k: int, cap: int | None) -> list[int]:
    """``k`` counts summing to ``total``, decreasing like 1/(rank + 8), each below ``cap``."""
    if k == 0:
        return []
    weights = [10**9 // (rank + 8) for rank in range(k)]
    counts = apportion(weights, total)
    if cap is not None and counts and max(counts) >= cap:
        raise ValueError(
            f"the other ESPs would need {max(counts)} reports each, not fewer than "
            f"the smallest named ESP ({cap}): raise other_esp_count"
        )
    return counts


def _other_esp_names(k: int, taken: Iterable[str]) -> list[str]:
    """``k`` invented, unique ESP names, fixed for a given ``k`` (not drawn from the seed)."""

    def stem(name: str) -> str:
        """The name without its company suffix: "Acme Chat, Inc." and "Acme Chat LLC" clash."""
        for suffix in _OTHER_ESP_SUFFIX:
            if suffix and name.endswith(suffix):
                name = name[: -len(suffix)]
        return name.rstrip(", ").casefold()

    taken = {stem(name) for name in taken}
    names = [n for n in _OTHER_ESP_SPECIAL if stem(n) not in taken]
    seen = taken | {stem(n) for n in names}
    combos = [f"{a} {b}{s}" for s in _OTHER_ESP_SUFFIX for a in _OTHER_ESP_FIRST for b in _OTHER_ESP_SECOND]
    for name in sorted(combos, key=lambda c: (zlib.crc32(c.encode()), c)):
        if len(names) >= k:
            break
        if stem(name) not in seen:
            names.append(name)
            seen.add(stem(name))
    if len(names) < k:
        raise ValueError(f"cannot invent {k} distinct ESP names")
    return names[:k]


# --------------------------------------------------------------------------------------------
# cases.csv
# --------------------------------------------------------------------------------------------


def _case_type_by_age_group(profile: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Join the case-type and age-group totals into cell counts, greedily by preference.

    Any matrix with the right row and column sums reproduces both published tables; the greedy
    order (_AGE_PREFERENCE) keeps the ages believable for each case type.
    """
    cases = profile["cases"]
    type_left = {t: sum(v) for t, v in cases["status_by_case_type"].items()}
    group_left = {g: sum(v) for g, v in cases["race_by_age_group"].items()}
    cells: dict[tuple[str, str], int] = {}
    for case_type in ("MYA", "FA", "NFA", "LIOM", "ERU"):
        for group in _AGE_PREFERENCE[case_type]:
            take = min(type_left[case_type], group_left[group])
            if take:
                cells[(case_type, group)] = take
                type_left[case_type] -= take
                group_left[group] -= take
        if type_left[case_type]:
            raise ValueError(
                f"demo profile {profile['year']}: not enough cases in the age groups "
                f"{_AGE_PREFERENCE[case_type]} for case type {case_type}"
            )
    return cells


def _day(value: str) -> np.datetime64:
    return np.datetime64(value, "D")


def _build_cases(profile: dict[str, Any], year: int, seed: int) -> list[tuple[str, ...]]:
    """All rows of cases.csv, in their final (shuffled) order.

    First the population: one row per counted case, with case type, status, age group, race and
    state drawn so that each published table holds exactly (status within case type, race within
    age group, state within status, each a shuffled multiset). Then dates per kind of row, then
    the rows the export holds but the population excludes.
    """
    rng = _rng(seed, year, 1)
    cases = profile["cases"]
    rules = cases["rule_rows"]

    cells = _case_type_by_age_group(profile)
    types = np.array([t for (t, g), c in cells.items() for _ in range(c)], dtype=object)
    groups = np.array([g for (t, g), c in cells.items() for _ in range(c)], dtype=object)
    n = len(types)

    active = np.zeros(n, dtype=bool)
    for case_type, (n_active, _n_resolved) in cases["status_by_case_type"].items():
        members = np.flatnonzero(types == case_type)
        active[rng.choice(members, size=n_active, replace=False)] = True

    race = np.empty(n, dtype=object)
    for group, counts in cases["race_by_age_group"].items():
        members = np.flatnonzero(groups == group)
        labels = np.repeat(np.array(RACES, dtype=object), counts)
        rng.shuffle(labels)
        race[members] = labels

    state = np.empty(n, dtype=object)
    for column, is_active in ((0, True), (1, False)):
        members = np.flatnonzero(active == is_active)
        labels = np.repeat(np.array(STATES, dtype=object), [cases["status_by_state"][s][column] for s in STATES])
        rng.shuffle(labels)
        state[members] = labels

    age = np.full(n, -1, dtype=np.int64)
    for group, bounds in AGE_GROUPS.items():
        if bounds is None:
            continue
        members = np.flatnonzero(groups == group)
        age[members] = rng.integers(bounds[0], bounds[1] + 1, size=len(members))

    # Dates. Y0..Y1 is the year; the export is taken on `cutoff` (mid-January of Y+1).
    y0, y1 = _day(f"{year}-01-01"), _day(f"{year}-12-31")
    p0, p1 = _day(f"{year - 1}-01-01"), _day(f"{year - 1}-12-31")
    n0 = _day(f"{year + 1}-01-01")
    cutoff = n0 + (_EXPORT_DAYS_AFTER_YEAR_END - 1)
    days = int((y1 - y0).astype(int)) + 1
    days_prev = int((p1 - p0).astype(int)) + 1
    nat = np.datetime64("NaT", "D")

    def spans(start: np.ndarray, end: np.datetime64) -> np.ndarray:
        """Uniform day in [start, end] per row (end >= start)."""
        return start + rng.integers(0, (end - start).astype(np.int64) + 1)

    def durations(size: int) -> np.ndarray:
        """Days until recovery: most children are found within days, a few after months."""
        return np.floor(rng.lognormal(mean=math.log(4.0), sigma=1.3, size=size)).astype(np.int64)

    intake = np.empty(n, dtype="datetime64[D]")
    resolved = np.full(n, nat, dtype="datetime64[D]")

    resolved_rows = np.flatnonzero(~active)
    recoveries = rng.choice(resolved_rows, size=rules["prior_year_recoveries"], replace=False)
    in_year = np.setdiff1d(resolved_rows, recoveries)
    # Opened and resolved in Y.
    intake[in_year] = y0 + rng.integers(0, days, size=len(in_year))
    ends = intake[in_year] + durations(len(in_year))
    late = ends > y1
    ends[late] = spans(intake[in_year][late], y1)
    resolved[in_year] = ends
    # Opened before Y (mostly late in Y-1, a few in Y-2), recovered in Y: counted, Resolved.
    back = np.minimum(np.floor(rng.exponential(110.0, size=len(recoveries))).astype(np.int64), 700)
    intake[recoveries] = p1 - back
    resolved[recoveries] = y0 + np.minimum(
        np.floor(rng.exponential(45.0, size=len(recoveries))).astype(np.int64), days - 1
    )

    active_rows = np.flatnonzero(active)
    next_year = rng.choice(active_rows, size=rules["active_resolved_next_year"], replace=False)
    still_open = np.setdiff1d(active_rows, next_year)
    # Opened in Y, still open at export time: later intakes more likely (older ones got resolved).
    intake[still_open] = y1 - np.minimum(
        np.floor(rng.exponential(150.0, size=len(still_open))).astype(np.int64), days - 1
    )
    # Opened in Y, found in January of Y+1: counted, Active (status is as of Dec 31).
    intake[next_year] = y1 - np.minimum(np.floor(rng.exponential(20.0, size=len(next_year))).astype(np.int64), days - 1)
    resolved[next_year] = n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=len(next_year))
    jan2 = next_year[: rules["active_missing_dec31_found_jan2"]]
    intake[jan2] = y1
    resolved[jan2] = n0 + 1

    # Rows the export holds but the population excludes; their attributes copy population rows.
    extra_intake: list[np.ndarray] = []
    extra_resolved: list[np.ndarray] = []
    for kind in (
        "excluded_prior_still_open",
        "excluded_prior_resolved_prior",
        "excluded_prior_resolved_next",
        "excluded_next_year",
    ):
        size = rules[kind]
        if kind == "excluded_prior_still_open":  # opened up to ~8 years before Y, never resolved
            start = p1 - np.minimum(np.floor(rng.exponential(500.0, size=size)).astype(np.int64), 3000)
            end = np.full(size, nat, dtype="datetime64[D]")
        elif kind == "excluded_prior_resolved_prior":  # opened and resolved in Y-1
            start = p0 + rng.integers(0, days_prev, size=size)
            end = start + durations(size)
            over = end > p1
            end[over] = spans(start[over], p1)
        elif kind == "excluded_prior_resolved_next":  # opened in Y-1, found after Y
            start = p0 + rng.integers(0, days_prev, size=size)
            end = n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=size)
        else:  # opened in January of Y+1, before the export was taken; half already found
            start = n0 + rng.integers(0, _EXPORT_DAYS_AFTER_YEAR_END, size=size)
            end = np.full(size, nat, dtype="datetime64[D]")
            found = rng.random(size) < 0.5
            end[found] = spans(start[found], cutoff)
        extra_intake.append(start)
        extra_resolved.append(end)
    all_intake = np.concatenate([intake, *extra_intake])
    all_resolved = np.concatenate([resolved, *extra_resolved])
    n_extra = len(all_intake) - n
    template = rng.integers(0, n, size=n_extra)
    all_types = np.concatenate([types, types[template]])
    all_age = np.concatenate([age, age[template]])
    all_race = np.concatenate([race, race[template]])
    all_state = np.concatenate([state, state[template]])

    # Unknown race is exported either as "U" or left empty (both mean unknown).
    unknown = np.flatnonzero(all_race == "U")
    blank = unknown[rng.random(len(unknown)) < float(rules["unknown_race_blank_share"])]
    all_race[blank] = ""

    # Case numbers: MC-<intake year>-<sequence by intake date>, a synthetic, non-identifying key.
    total = len(all_intake)
    order = np.lexsort((rng.random(total), all_intake))
    intake_years = all_intake.astype("datetime64[Y]").astype(np.int64) + 1970
    numbers = np.empty(total, dtype=object)
    sequence: dict[int, int] = {}
    for i in order:
        y = int(intake_years[i])
        sequence[y] = sequence.get(y, 0) + 1
        numbers[i] = f"MC-{y}-{sequence[y]:06d}"

    if np.any((~np.isnat(all_resolved)) & (all_resolved < all_intake)):
        raise AssertionError("generated a case resolved before its intake")

    intake_text = np.datetime_as_string(all_intake, unit="D")
    resolved_text = np.where(np.isnat(all_resolved), "", np.datetime_as_string(all_resolved, unit="D"))
    rows = []
    for i in rng.permutation(total):
        rows.append(
            (
                numbers[i],
                intake_text[i],
                resolved_text[i],
                all_types[i],
                "" if all_age[i] < 0 else str(int(all_age[i])),
                all_race[i],
                all_state[i],
            )
        )
    return rows


def _write_cases(profile: dict[str, Any], year: int, seed: int, path: Path) -> None:
    _write_csv(
        path,
        ("case_number", "intake_date", "resolved_date", "case_type", "age_at_missing", "race", "missing_state"),
        _build_cases(profile, year, seed),
    )


# --------------------------------------------------------------------------------------------
# CVIP files
# --------------------------------------------------------------------------------------------


def _write_cvip_requests(profile: dict[str, Any], year: int, seed: int, path: Path) -> None:
    """Requests per agency with exact image and video sums.

    Per-request sizes are skewed (most requests small, a few huge seizures): lognormal weights,
    then a multinomial draw of the exact total over them.
    """
    rng = _rng(seed, year, 2)
    y0 = _day(f"{year}-01-01")
    days = int((_day(f"{year}-12-31") - y0).astype(int)) + 1
    dates, agencies, images, videos = [], [], [], []
    for agency in AGENCY_TYPES:
        requests, n_images, n_videos = profile["cvip"]["requests_by_agency"][agency]
        if requests == 0:
            continue
        weights = rng.lognormal(0.0, 1.6, size=requests)
        video_weights = weights * rng.lognormal(0.0, 1.0, size=requests)
        images.append(rng.multinomial(n_images, weights / weights.sum()))
        videos.append(rng.multinomial(n_videos, video_weights / video_weights.sum()))
        dates.append(y0 + rng.integers(0, days, size=requests))
        agencies.extend([agency] * requests)
    if not agencies:
        _write_csv(path, ("request_id", "received_date", "agency_type", "image_count", "video_count"), [])
        return
    all_dates = np.concatenate(dates)
    all_images = np.concatenate(images)
    all_videos = np.concatenate(videos)
    order = np.lexsort((rng.random(len(all_dates)), all_dates))
    text = np.datetime_as_string(all_dates, unit="D")
    rows = [
        (f"CVIP-{year}-{k + 1:05d}", text[i], agencies[i], int(all_images[i]), int(all_videos[i]))
        for k, i in enumerate(order)
    ]
    _write_csv(path, ("request_id", "received_date", "agency_type", "image_count", "video_count"), rows)


def _write_relationships(profile: dict[str, Any], year: int, seed: int, path: Path) -> None:
    """Exact counts per relationship over exactly ``distinct_victims`` children.

    Every child gets one relationship; the surplus relationships go to other children that do
    not have that relationship yet, so (victim_id, relationship) stays unique.
    """
    rng = _rng(seed, year, 3)
    rel = profile["cvip"]["relationships"]
    victims = int(rel["distinct_victims"])
    labels = np.repeat(np.array(RELATIONSHIPS, dtype=object), [rel["counts"][r] for r in RELATIONSHIPS])
    rng.shuffle(labels)
    held: list[set[str]] = [{labels[v]} for v in range(victims)]
    cycle = rng.permutation(victims)
    position = 0
    for label in labels[victims:]:
        for _attempt in range(victims):
            v = int(cycle[position % victims])
            position += 1
            if label not in held[v]:
                held[v].add(label)
                break
        else:  # pragma: no cover - excluded by profile validation (count <= victims)
            raise ValueError(f"cannot give {label} to a child without it")
    ids = rng.choice(9_000_000, size=victims, replace=False) + 1_000_000
    rank = {r: k for k, r in enumerate(RELATIONSHIPS)}
    rows = sorted(
        ((f"CV{int(ids[v]):07d}", r) for v in range(victims) for r in held[v]), key=lambda row: (row[0], rank[row[1]])
    )
    _write_csv(path, ("victim_id", "relationship"), rows)


def _write_program_metrics(profile: dict[str, Any], year: int, scale: float, path: Path) -> None:
    """The profile's program metrics. With a resized CyberTipline export, the CyberTipline report
    counts kept in other systems are resized with it, or the product's own checks would refuse
    the year: last year's count (``prior_year``) is the resized count of last year's profile when
    there is one (demo years generated at the same scale then agree with each other), otherwise
    the figure resized like the export; the ``cumulative`` count is resized like the export, so
    it stays at least the year's count and never goes down from one year to the next."""
    previous = PROFILES_DIR / f"{year - 1}.toml"

    def value(metric: dict[str, Any]) -> int:
        if scale == 1.0 or metric["metric_id"] != "cybertipline_reports":
            return int(metric["value"])
        if metric["period"] == "prior_year" and previous.is_file():
            return cybertipline_plan(load_profile(year - 1), scale)["n"]
        return _resized(int(metric["value"]), scale)

    rows = [
        (m["metric_id"], m["period"], value(m), "" if m.get("since") in (None, "") else int(m["since"]), m["source"])
        for m in profile.get("program_metrics", [])
    ]
    _write_csv(path, ("metric_id", "period", "value", "since", "source"), rows)


def _resized(count: int, scale: float) -> int:
    """``count`` at ``scale``, at least 1: the rounding of the export's row count, non-decreasing
    in ``count``, so resized counts keep their order."""
    return max(1, int(math.floor(count * scale + 0.5)))


# --------------------------------------------------------------------------------------------
# cybertipline_reports.parquet
# --------------------------------------------------------------------------------------------


def cybertipline_plan(profile: dict[str, Any], scale: float = 1.0) -> dict[str, Any]:
    """Exact category counts and file totals of the CyberTipline export at ``scale``.

    Returns ``n`` (rows); ``sources`` (name or None for the public, count; the named ESPs, then
    the public, then the invented ESPs); ``incident_types`` and ``countries`` ((code, count),
    country None = no country listed); ``files`` (column -> total). At scale 1 the counts are
    the profile's; below, every list is apportioned to the scaled row count with largest
    remainders (so all lists still sum to ``n``) and file totals are rounded.
    """
    cyber = profile["cybertipline"]
    named = list(cyber["named_esps"].items())
    smallest_named = min((c for _, c in named), default=None)
    other_names = _other_esp_names(cyber["other_esp_count"], (name for name, _ in named))
    other_counts = _zipf_counts(cyber["other_esp_reports"], cyber["other_esp_count"], smallest_named)
    sources: list[tuple[str | None, int]] = [*named, (None, cyber["public_reports"]), *zip(other_names, other_counts)]
    incidents = [(code, cyber["incident_types"][code]) for code in INCIDENT_TYPES]
    n_full = sum(c for _, c in sources)

    countries = cyber["countries"]
    listed = list(countries["weights"].items())
    tail_codes = sorted(
        (c for c in _country_codes() if c not in countries["weights"]),
        key=lambda code: (code in _TINY_TERRITORIES, zlib.crc32(code.encode()), code),
    )
    # Long tail: weight ~ (rank + 12)^-2.5 in a fixed pseudo-random order of the codes, integers
    # only (isqrt) so the counts cannot differ between platforms' floating-point libraries.
    tail_weights = apportion(
        [10**18 // math.isqrt((rank + 12) ** 5) for rank in range(len(tail_codes))],
        int(countries["other_countries_weight"]),
    )
    weights = [*listed, *zip(tail_codes, tail_weights), (None, int(countries["no_country_weight"]))]
    country_counts = apportion([w for _, w in weights], n_full)
    country_list = [(code, c) for (code, _), c in zip(weights, country_counts)]

    files = {"image_count": cyber["images"], "video_count": cyber["videos"], "other_file_count": cyber["other_files"]}

    if scale != 1.0:
        n = _resized(n_full, scale)

        def shrink(items: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
            return [(k, c) for (k, _), c in zip(items, apportion([c for _, c in items], n))]

        sources, incidents, country_list = shrink(sources), shrink(incidents), shrink(country_list)
        files = {k: int(math.floor(v * scale + 0.5)) for k, v in files.items()}
    else:
        n = n_full
    return {"n": n, "sources": sources, "incident_types": incidents, "countries": country_list, "files": files}


def _permutation(n: int, seed: int, year: int, stream: int) -> tuple[int, int]:
    """Parameters (a, b) of the bijection j = (i*a + b) mod n of 0..n-1, gcd(a, n) = 1.

    Why a permutation: assigning category c to the permuted positions [start_c, end_c) gives
    *exactly* count_c rows per category, whatever the row count, with no sampling noise and no
    state, in one integer expression DuckDB evaluates vectorised. A different ``a`` per attribute
    spreads the categories of one attribute over those of another; the seed picks a and b.
    """
    if n <= 1:
        return 1, 0
    rng = _rng(seed, year, 100 + stream)
    a = int(rng.integers(n // 3, n)) | 1
    while math.gcd(a, n) != 1:
        a += 1
    a %= n
    if a == 0:  # pragma: no cover - only for n == 1
        a = 1
    return a, int(rng.integers(0, n))


def _names_sql(con: Any, name: str, values: Sequence[str | None]) -> str:
    """Put a short list (category names) in a session variable; SQL that reads it."""
    con.execute(f"SET VARIABLE {name} = ?::VARCHAR[]", [list(values)])
    return f"getvariable('{name}')"


def _category_sql(j: str, counts: Sequence[int]) -> str:
    """SQL for the 0-based category of permuted position ``j`` when category c covers
    positions [sum(counts[:c]), sum(counts[:c+1])).

    DuckDB has no binary search over a list, indexing a long constant list copies it for every
    vector, and a join with a lookup table would give up the row order (and force a sort of
    21 million rows). So the search is spelled out as a *weight-balanced* tree of nested CASE
    expressions: each node splits its categories where the row counts balance, so a row of a
    big category (Facebook: 93% of the rows) is placed after one or two comparisons and the
    average is about the entropy of the counts in bits. It stays a plain projection: vectorised
    and order-preserving.
    """
    counts = [int(c) for c in counts]
    ends = np.cumsum(np.array([0, *counts], dtype=np.int64))  # category c: [ends[c], ends[c+1])
    present = [c for c, count in enumerate(counts) if count > 0]
    if not present:
        return "0"

    def node(cats: list[int]) -> str:
        if len(cats) == 1:
            return str(cats[0])
        low, high = int(ends[cats[0]]), int(ends[cats[-1] + 1])
        best, split = None, 1
        for k in range(1, len(cats)):
            left = int(ends[cats[k]]) - low
            gap = abs(2 * left - (high - low))
            if best is None or gap < best:
                best, split = gap, k
        boundary = int(ends[cats[split]])
        return f"CASE WHEN {j} < {boundary} THEN {node(cats[:split])} ELSE {node(cats[split:])} END"

    return f"({node(present)})"


def _files_sql(
    i: str, n: int, total: int, components: Sequence[tuple[float, float, int]], seed: int, year: int, stream: int
) -> str:
    """SQL for one file-count column whose sum over all rows is exactly ``total``.

    Telescoping: with a non-decreasing F over 0..m and F(0) = 0, F(m) = T, the counts
    F(k+1) - F(k) over k = 0..m-1 sum to exactly T, whatever F's shape. Here F(x) =
    floor(q(x) * T / m) with q(x) = x^p / m^(p-1) computed in integers step by step (each step
    stays below m^2 so BIGINT never overflows; int128 would be much slower). k is a permuted row
    index, rows with k >= m get 0 files. Several components (a bulk, a heavy tail) add up.
    """
    shares = [c[0] for c in components]
    parts = apportion([int(s * 10**6) for s in shares], total, min_one=False) if total else [0] * len(components)
    terms = []
    for c, ((_share, row_share, power), part) in enumerate(zip(components, parts)):
        if part == 0 or n == 0:
            continue
        m = max(1, min(n, int(math.floor(n * row_share + 0.5))))
        a, b = _permutation(n, seed, year, stream * 10 + c)
        k = f"(({i} * {a} + {b}) % {n})"

        def curve(x: str, power: int = power, m: int = m, part: int = part) -> str:
            q = x
            for _ in range(power - 1):
                q = f"({q} * {x} // {m})"
            return f"({q} * {part} // {m})"

        lo, hi = f"LEAST({k}, {m})", f"LEAST({k} + 1, {m})"
        terms.append(f"({curve(hi)} - {curve(lo)})")
    return f"({' + '.join(terms) if terms else '0'})::INTEGER"


_FEISTEL_ROUNDS = 4


def _scrambled_sql(rows: str, n: int, columns: Sequence[str], seed: int, year: int) -> tuple[str, int]:
    """Wrap the query ``rows`` (a column ``i`` in 0..n-1) so that it also yields, for each name in
    ``columns``, a pseudo-random scramble of ``i``: distinct values in [0, 4**h) with 4**h >= n,
    in no order. Returns the query and 4**h.

    A balanced Feistel network over the 2h bits of ``i``: whatever the round function, each round
    is a bijection, so distinct rows get distinct values (unique report ids) without a sort or a
    lookup. The round function multiplies the half by a random odd 31-bit number and keeps the
    middle bits (BIGINT never overflows below 2**63). One subquery per round keeps the SQL linear
    in the number of rounds and the rows in their order.
    """
    h = max(2, ((n - 1).bit_length() + 1) // 2)
    mask = (1 << h) - 1
    rng = _rng(seed, year, 200)
    query = f"SELECT *, {', '.join(f'i >> {h} AS {c}_l, i & {mask} AS {c}_r' for c in columns)} FROM ({rows})"
    for _round in range(_FEISTEL_ROUNDS):
        swaps = []
        for c in columns:
            key, factor = int(rng.integers(0, 1 << h)), int(rng.integers(1 << 29, 1 << 31)) | 1
            swaps.append(
                f"{c}_r AS {c}_l, xor({c}_l, ((xor({c}_r, {key}) * {factor}) >> {h // 2 + 1}) & {mask}) AS {c}_r"
            )
        query = f"SELECT * REPLACE ({', '.join(swaps)}) FROM ({query})"
    values = ", ".join(f"({c}_l << {h}) | {c}_r AS {c}" for c in columns)
    excluded = ", ".join(f"{c}_{half}" for c in columns for half in "lr")
    return f"SELECT * EXCLUDE ({excluded}), {values} FROM ({query})", 1 << (2 * h)


def _cybertipline_query(con: Any, plan: dict[str, Any], year: int, seed: int, realistic: bool) -> str:
    """The SELECT that yields every row of the CyberTipline export (lookup tables and session
    variables it needs are created on ``con``).

    Each attribute reads its own permutation of the row index (see _permutation) and maps it to
    a category with exact counts (see _category_sql); file counts telescope to exact totals (see
    _files_sql). The tidy export spreads the reports evenly over the year in report_id order with
    consecutive ids: ids and times compress to almost nothing. The realistic one draws both from
    a scramble of the row index (see _scrambled_sql): unique ids with gaps, in no order, and a
    random second of the year.
    """
    n = plan["n"]
    perm = {name: _permutation(n, seed, year, stream) for stream, name in enumerate(("source", "incident", "country"))}
    j = {name: f"((i * {a} + {b}) % {n})" for name, (a, b) in perm.items()}

    sources = plan["sources"]
    public = next(k for k, (name, _) in enumerate(sources) if name is None)
    source_names = _names_sql(con, "demo_source_names", [name for name, _ in sources])
    incident_names = _names_sql(con, "demo_incident_names", [code for code, _ in plan["incident_types"]])
    country_codes = _names_sql(con, "demo_country_codes", [code for code, _ in plan["countries"]])
    source_sql = _category_sql("j_source", [c for _, c in sources])
    incident_sql = _category_sql("j_incident", [c for _, c in plan["incident_types"]])
    country_sql = _category_sql("j_country", [c for _, c in plan["countries"]])
    files_sql = {
        column: _files_sql("i", n, plan["files"][column], _FILE_COMPONENTS[column], seed, year, 10 + stream)
        for stream, column in enumerate(("image_count", "video_count", "other_file_count"))
    }

    rows = f"""
        SELECT range AS i,
            {j["source"]} AS j_source,
            {j["incident"]} AS j_incident,
            {j["country"]} AS j_country
        FROM range({n})
    """
    # Whole seconds since the epoch: to_timestamp(BIGINT) is exact and yields TIMESTAMPTZ
    # without a time-zone conversion (a TIMESTAMP -> TIMESTAMPTZ cast costs 8x more).
    y0_s = int((_day(f"{year}-01-01") - _day("1970-01-01")).astype(np.int64)) * 86_400
    year_s = int((_day(f"{year + 1}-01-01") - _day(f"{year}-01-01")).astype(np.int64)) * 86_400
    report_base = year * 100_000_000
    if realistic:
        rows, domain = _scrambled_sql(rows, n, ("id_scramble", "time_scramble"), seed, year)
        report_id = f"{report_base} + id_scramble + 1"
        received = f"to_timestamp({y0_s} + time_scramble * {year_s} // {domain})"
    else:
        report_id = f"{report_base} + i + 1"
        received = f"to_timestamp({y0_s} + i * {year_s} // {max(n, 1)})"
    return f"""
        SELECT
            CAST({report_id} AS BIGINT) AS report_id,
            {received} AS received_at,
            CASE WHEN source = {public} THEN 'PUBLIC' ELSE 'ESP' END AS reporter_type,
            {source_names}[source + 1] AS esp_name,
            {incident_names}[incident + 1] AS incident_type,
            {country_codes}[country + 1] AS incident_country,
            image_count, video_count, other_file_count
        FROM (
            SELECT *,
                {source_sql} AS source,
                {incident_sql} AS incident,
                {country_sql} AS country,
                {files_sql["image_count"]} AS image_count,
                {files_sql["video_count"]} AS video_count,
                {files_sql["other_file_count"]} AS other_file_count
            FROM ({rows})
        )
    """


def _write_cybertipline(
    profile: dict[str, Any], year: int, scale: float, seed: int, path: Path, realistic: bool = False
) -> None:
    """One vectorised DuckDB ``COPY (SELECT ... FROM range(n))`` writes the whole file; nothing
    is materialised in Python (full size: about 10 s of CPU and 150 MB).

    Row order, hence byte-identical output: the query is a pure projection of ``range(n)`` and
    ``preserve_insertion_order`` is on, so DuckDB emits the rows in the order of ``range(n)``
    whatever the thread count (checked: the same bytes with 1, 2 and 8 threads). For the tidy
    export that is report_id order, and it is verified from the row-group statistics of the file
    (each row group must hold the next block of consecutive report ids); should a DuckDB version
    ever break it, the file is rewritten with ``ORDER BY report_id``.
    """
    import duckdb

    plan = cybertipline_plan(profile, scale)
    with tempfile.TemporaryDirectory(prefix="demo-duckdb-") as spill:
        con = duckdb.connect(
            config={"memory_limit": "768MB", "temp_directory": spill, "preserve_insertion_order": True}
        )
        try:
            con.execute("SET enable_progress_bar = false")  # the caller reports progress
            con.execute("SET TimeZone = 'UTC'")
            query = _cybertipline_query(con, plan, year, seed, realistic)
            target = str(path).replace("'", "''")
            options = "(FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION V2)"
            con.execute(f"COPY ({query}) TO '{target}' {options}")
            if not realistic and not _report_ids_in_order(path, plan["n"]):
                con.execute(f"COPY ({query} ORDER BY report_id) TO '{target}' {options}")
        finally:
            con.close()


def _report_ids_in_order(path: Path, n: int) -> bool:
    """True when the row groups of ``path`` hold consecutive report ids, in order (the ids are
    consecutive by construction, so this proves the file is sorted by report_id)."""
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    column = metadata.schema.names.index("report_id")
    expected_min = None
    rows = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        stats = group.column(column).statistics
        if stats is None or not stats.has_min_max:
            return False
        if expected_min is not None and stats.min != expected_min:
            return False
        if stats.max - stats.min + 1 != group.num_rows:
            return False
        expected_min = stats.max + 1
        rows += group.num_rows
    return rows == n
