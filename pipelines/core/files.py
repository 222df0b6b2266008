"""File hashing: the SHA-256 that identifies every input and output in manifests and run keys."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The file's SHA-256 in hex, read in chunks (bounded memory at any size)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
