"""File hashing: the SHA-256 that identifies every input and output in manifests and run keys, and
the signature that says, without reading a file, that its bytes did not change."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

Signature = tuple[int, int, int]
"""(size, mtime_ns, ctime_ns) of a file: when none changed, its bytes did not. The ctime also
changes when a copy tool restores an old mtime on new bytes (``cp -p``, ``rsync -t``): only the
kernel sets it, at every write (and every change of the file's metadata)."""

RECENT_NS = 2_000_000_000
"""A file changed less than this before its signature was taken may change again within the same
tick of a coarse file system clock (FAT and some network file systems count in seconds): its
signature alone proves nothing, as git's index treats such "racily clean" files."""


def sha256_file(path: Path) -> str:
    """The file's SHA-256 in hex, read in chunks (bounded memory at any size)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def signature(stat: os.stat_result) -> Signature:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def same_bytes(path: Path, recorded: Signature, taken_ns: int, sha256: str) -> bool:
    """Whether ``path`` still holds the bytes whose SHA-256 was ``sha256`` when its signature was
    ``recorded`` (taken at ``taken_ns``, wall clock): the same signature, the file not changed
    just before it was taken, proves it without reading the file; otherwise the file is hashed
    again. False for a file that is gone."""
    try:
        now = signature(path.stat())
    except (FileNotFoundError, NotADirectoryError):
        return False
    if now == recorded and recorded[2] < taken_ns - RECENT_NS:
        return True
    return path.is_file() and sha256_file(path) == sha256
