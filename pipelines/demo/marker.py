"""The mark of demo exports: ``raw/<year>/demo-exports.json`` (``DEMO_MARKER``), the SHA-256 of
each file the generator wrote. A release made from files with those contents says it is
synthetic (pipelines/accepting/ingest.py ``demo_exports``); a file replaced by a real export no
longer matches, so a release made from real exports never says so."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pipelines.core.contract import DEMO_MARKER
from pipelines.core.files import sha256_file
from pipelines.demo.common import atomic_target


def write(out_dir: Path, written: Sequence[Path]) -> Path:
    """Record the SHA-256 of the exports just written; entries of an existing marker for other
    files are kept (their hashes still say whether those files are the generator's)."""
    marker = Path(out_dir) / DEMO_MARKER
    recorded: dict[str, str] = {}
    if marker.is_file():
        try:
            recorded = dict(json.loads(marker.read_text(encoding="utf-8")).get("sha256", {}))
        except (ValueError, AttributeError, TypeError):
            recorded = {}
    recorded.update({path.name: sha256_file(path) for path in written})
    content = {"generator": "impact demo-data", "sha256": dict(sorted(recorded.items()))}
    with atomic_target(marker) as temporary:
        temporary.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return marker
