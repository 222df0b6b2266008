"""What a run must have before it starts working: folders it can write, and the year to itself.

**Writable folders.** A release folder or warehouse that cannot be written would otherwise fail
only at the end of the run, after all the work; ``require_writable`` tries to create a file in
each folder first and reports the first one that fails in one line.

**One publisher per year.** Two runs of the same year would fight over the year's DuckDB file
(DuckDB allows one writing process per file) and over ``<published>/<year>``. Every run of a year,
whoever starts it (``impact run``, a run launched from the Dagster UI, the yearly schedule), holds
the year's lock for its whole duration: an exclusive ``flock`` on ``<published>/.locks/<year>.lock``
and on ``<warehouse>/<year>.lock``, so runs that share either folder exclude each other. An
``impact run`` that finds the lock held stops at once with ``YearBusy``, whose message names the
holder (pid, host, start time, written into the lock file by the holder); a Dagster run waits for
it (``waiting_year_lock``). The kernel releases a ``flock`` when its process ends, however it ends,
so a killed run never leaves a stale lock.

Within one process the lock is re-entrant: ``impact run`` takes it before loading Dagster (so a
second run exits at once) and the run's resources take it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipelines.core.modes import make_folders, published_mode

LOCKS = ".locks"
BUSY_EXIT_CODE = 75
"""Exit code of ``impact run`` when a year is being published by another process (EX_TEMPFAIL:
nothing was done, try again later)."""
UNWRITABLE_EXIT_CODE = 3
"""Exit code of ``impact run`` when a folder it must write cannot be written (nothing was done)."""


class YearBusy(RuntimeError):
    """Another process is publishing the year."""

    def __init__(self, year: int, holder: str, path: Path) -> None:
        self.year, self.holder, self.path = year, holder, path
        super().__init__(
            f"year {year} is already being published by {holder} (lock {path}); "
            "not started, try again when that run has ended"
        )


class FolderNotWritable(RuntimeError):
    """A folder the run writes to cannot be created or written."""


def require_writable(folders: list[tuple[Path, str]], published: Path | None = None) -> None:
    """Create each folder if needed and prove that a file can be written in it; on the first
    that fails, remove the folders this call created and raise ``FolderNotWritable``. The
    folders it creates are the owner's alone, but for ``published`` (the release folder) and its
    parents, which get the modes of published folders (pipelines/core/modes.py)."""
    created: list[Path] = []
    shared = Path(published).absolute() if published is not None else None
    try:
        for folder, what in folders:
            folder = Path(folder).absolute()
            try:
                created.extend(make_folders(folder, published=folder == shared))
                with tempfile.TemporaryFile(dir=folder, prefix=".write-test-"):
                    pass
            except OSError as error:
                reason = error.strerror or str(error)
                raise FolderNotWritable(f"cannot write to the {what} {folder}: {reason}") from None
    except FolderNotWritable:
        for path in reversed(created):
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def published_lock_file(published_root: Path, year: int) -> Path:
    return Path(published_root).resolve() / LOCKS / f"{year}.lock"


def warehouse_lock_file(warehouse_dir: Path, year: int) -> Path:
    return Path(warehouse_dir).resolve() / f"{year}.lock"


_held: dict[Path, list[int]] = {}  # lock file -> [file descriptor, holds in this process]
_mutex = threading.Lock()


def _holder() -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()}, started {started}"


def _read_holder(fd: int) -> str:
    for _ in range(20):  # the holder writes its line right after taking the lock
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        if text:
            return text
        time.sleep(0.05)
    return "another process"


def _open_lock_file(path: Path) -> int:
    """Open (create) a lock file. A release folder's (in its ``.locks/``) are shared like the
    releases, so that whoever may publish there may take them; a warehouse's are the owner's."""
    published = path.parent.name == LOCKS
    make_folders(path.parent, published=published)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return os.open(path, os.O_RDWR)
    if published:
        os.fchmod(fd, published_mode(False))
    return fd


def _acquire(path: Path, year: int) -> None:
    with _mutex:
        if path in _held:
            _held[path][1] += 1
            return
        fd = _open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise YearBusy(year, holder, path) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, (_holder() + "\n").encode(), 0)
        _held[path] = [fd, 1]


def _release(path: Path) -> None:
    with _mutex:
        entry = _held[path]
        entry[1] -= 1
        if entry[1] == 0:
            del _held[path]
            os.ftruncate(entry[0], 0)
            os.close(entry[0])  # closing the descriptor releases the flock


@contextmanager
def year_lock(year: int, lock_files: list[Path]) -> Iterator[None]:
    """Hold the year's lock files for the duration of the block; ``YearBusy`` if one is held
    by another process (then none is held by this call)."""
    with ExitStack() as stack:
        for path in lock_files:
            _acquire(path, year)
            stack.callback(_release, path)
        yield


WAIT_SECONDS = 1.0
"""How often a run waiting for its year looks at the lock again."""


@contextmanager
def waiting_year_lock(year: int, lock_files: list[Path], say: Callable[[YearBusy], None] | None) -> Iterator[None]:
    """Hold the year's lock files for the duration of the block, waiting first while another
    process holds one of them: a Dagster run that starts while ``impact run`` publishes its year
    waits for it, as the run queue makes the daemon's runs of a year wait for each other.
    ``say`` is told once, with the holder, when it has to wait. Cancelling the run ends the wait."""
    with ExitStack() as held:
        while True:
            try:
                held.enter_context(year_lock(year, lock_files))
                break
            except YearBusy as busy:
                if say is not None:
                    say(busy)
                    say = None
                time.sleep(WAIT_SECONDS)
        yield


def run_lock_files(year: int, published_root: Path, warehouse_dir: Path) -> list[Path]:
    """The lock files a full run of the year holds: its release folder's and its warehouse's."""
    return [published_lock_file(published_root, year), warehouse_lock_file(warehouse_dir, year)]


def lock_holder(path: Path) -> str | None:
    """Who holds the lock file ``path`` now, found without taking it: the holder's line when a
    process holds its ``flock``, None when none does. Linux lists every ``flock`` in /proc/locks
    with the file's device and inode; where it does not, this says None. The raw-folder sensor
    looks before asking for a run, so that a year being published by ``impact run`` is not asked
    for a second time (that run would stop on the lock and report a failure)."""
    try:
        stat = path.stat()
        locks = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    file_id = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in locks.splitlines():
        fields = line.split()  # "1: FLOCK  ADVISORY  WRITE 4242 fe:00:2146319 0 EOF"; "->" marks a waiter
        if "FLOCK" in fields and file_id in fields and "->" not in fields:
            try:
                return path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
            except OSError:
                return "another process"
    return None


@contextmanager
def waiting_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` for a short critical section, waiting for it if needed
    (the index page shared by every year's publisher)."""
    fd = _open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
