"""``manifest.json``: what a release was made from and what it holds, verifiable from the folder.

It lists the SHA-256, size and row count of every raw input and every output file, the versions
of the product and of the engines, a fingerprint of the code (SQL models, seeds, Python) and the
checks that passed before publication, and ``replaces``: the name of the release of the year it
replaced (null for the year's first release). It holds no wall-clock time and no absolute path, so the
same inputs and code give the same bytes on any machine (README.md, "The release").
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import version
from pathlib import Path

import duckdb

from pipelines import __version__
from pipelines.core.config import REPO_ROOT
from pipelines.core.files import sha256_file
from pipelines.publishing.report import SYNTHETIC_NOTE

ENGINES = (
    "dagster",
    "duckdb",
    "polars",
    "pyarrow",
    "pandera",
    "great-expectations",
    "pandas",
    "pycountry",
    "frictionless",
)
CODE_FOLDERS = ("pipelines", "sql")
CODE_SUFFIXES = {".py", ".sql", ".csv", ".toml", ".j2", ".json"}


def code_fingerprint() -> str:
    """SHA-256 over the product's source files (names and bytes), in name order."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((REPO_ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def versions() -> dict[str, str]:
    found = {"impact-pipeline": __version__, "python": platform.python_version()}
    found.update({name: version(name) for name in ENGINES})
    return found


def _rows(path: Path) -> int | None:
    if path.suffix == ".parquet":
        return duckdb.sql(
            f"SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata('{str(path).replace(chr(39), chr(39) * 2)}')"
        ).fetchall()[0][0]
    if path.suffix == ".csv":
        with path.open("rb") as handle:
            return sum(1 for _ in handle) - 1  # header; published CSVs have no embedded newlines
    return None


def write_manifest(
    folder: Path,
    year: int,
    inputs: list[dict],
    checks: list[dict],
    replaces: str | None = None,
    acknowledged_changes: list[dict] | None = None,
    public: dict | None = None,
    synthetic: list[str] | None = None,
) -> Path:
    """Write ``folder/manifest.json`` once every other output file of the release is written.
    ``acknowledged_changes``: figures the operator accepted outside the band around last year's
    release (``impact run --acknowledge-change``); ``public``: the disclosure audit's figures of
    ``public/`` (K; per table, cells suppressed, primary, secondary, narrowest interval; the
    releases of the year audited together, R between them and the narrowest interval of any);
    ``synthetic``: the inputs the demo generator wrote (the entry appears only then)."""
    outputs = []
    written = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    written.pop("manifest.json", None)
    for name, path in sorted(written.items()):  # public/ files too, as public/<file>
        entry = {"path": name, "sha256": sha256_file(path), "bytes": path.stat().st_size}
        rows = _rows(path)
        if rows is not None:
            entry["rows"] = rows
        outputs.append(entry)
    manifest = {
        "name": f"impact-statistics-{year}",
        "year": year,
        "inputs": sorted(inputs, key=lambda i: i["path"]),
        "outputs": outputs,
        "code": {"sha256": code_fingerprint()},
        "versions": versions(),
        "checks": sorted(checks, key=lambda c: (c["asset"], c["check"])),
        "replaces": replaces,
        "acknowledged_changes": acknowledged_changes or [],
        **({"public": public} if public is not None else {}),
        **({"synthetic": {"note": SYNTHETIC_NOTE, "inputs": sorted(synthetic)}} if synthetic else {}),
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
