"""``cybertipline_reports.parquet``: one row per report, generated inside DuckDB with one
vectorised ``COPY (SELECT ... FROM range(n))``, never materialised in Python (see ``write``)."""

from __future__ import annotations

import math
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.demo.common import (
    COUNTRIES,
    FILE_TYPES,
    INCIDENT_TYPES,
    apportion,
    check_codes,
    day,
    random_stream,
    seed_code,
)

# Per file type (sql/seeds/file_types.csv, the export's file-count columns): the profile's key of
# its total, and the telescoping components whose sum is its count per report (share of the
# type's total, share of the reports that may carry them, power of the curve). A "bulk"
# component gives most reports a few files; a "heavy" one gives a few reports hundreds.
_FILES: dict[str, tuple[str, tuple[tuple[float, float, int], ...]]] = {
    "image_count": ("images", ((0.75, 0.80, 2), (0.25, 0.002, 3))),
    "video_count": ("videos", ((0.70, 0.55, 2), (0.30, 0.003, 3))),
    "other_file_count": ("other_files", ((1.0, 0.03, 2),)),
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


def resized(count: int, scale: float) -> int:
    """``count`` at ``scale``, at least 1: the rounding of the export's row count, non-decreasing
    in ``count``, so resized counts keep their order."""
    return max(1, int(math.floor(count * scale + 0.5)))


def cybertipline_plan(profile: dict[str, Any], scale: float = 1.0) -> dict[str, Any]:
    """Exact category counts and file totals of the CyberTipline export at ``scale``.

    Returns ``n`` (rows); ``sources`` (name or None for the public, count; the named ESPs, then
    the public, then the invented ESPs); ``incident_types`` and ``countries`` ((code, count),
    country None = no country listed); ``files`` (column -> total). At scale 1 the counts are
    the profile's; below, every list is apportioned to the scaled row count with largest
    remainders (so all lists still sum to ``n``) and file totals are rounded.
    """
    problem = check_codes(_FILES, FILE_TYPES, "sql/seeds/file_types.csv")
    if problem:
        raise ValueError(f"the demo generator's file types (pipelines/demo/cybertipline_reports.py) have {problem}")
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
        (c for c in COUNTRIES if c not in countries["weights"]),
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

    files = {column: cyber[total] for column, (total, _components) in _FILES.items()}

    if scale != 1.0:
        n = resized(n_full, scale)

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
    rng = random_stream(seed, year, 100 + stream)
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
    rng = random_stream(seed, year, 200)
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
    public_code, esp_code = seed_code("reporter_types", "PUBLIC"), seed_code("reporter_types", "ESP")
    source_names = _names_sql(con, "demo_source_names", [name for name, _ in sources])
    incident_names = _names_sql(con, "demo_incident_names", [code for code, _ in plan["incident_types"]])
    country_codes = _names_sql(con, "demo_country_codes", [code for code, _ in plan["countries"]])
    source_sql = _category_sql("j_source", [c for _, c in sources])
    incident_sql = _category_sql("j_incident", [c for _, c in plan["incident_types"]])
    country_sql = _category_sql("j_country", [c for _, c in plan["countries"]])
    files_sql = {
        column: _files_sql("i", n, plan["files"][column], components, seed, year, 10 + stream)
        for stream, (column, (_total, components)) in enumerate(_FILES.items())
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
    y0_s = int((day(f"{year}-01-01") - day("1970-01-01")).astype(np.int64)) * 86_400
    year_s = int((day(f"{year + 1}-01-01") - day(f"{year}-01-01")).astype(np.int64)) * 86_400
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
            CASE WHEN source = {public} THEN '{public_code}' ELSE '{esp_code}' END AS reporter_type,
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


def write(profile: dict[str, Any], year: int, scale: float, seed: int, path: Path, realistic: bool = False) -> None:
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
