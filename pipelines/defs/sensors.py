"""Watching ``raw/``: a year is published when its exports arrive, and again when one is corrected.

The rule for "the exports of a year are complete" (raw/README.md, "When a year is complete"):
the five exports are in ``raw/<year>/`` and so is the marker ``_SUCCESS``, written after the last
of them, as Spark and Hadoop jobs write it when their output is whole. A marker is a rule every
producer can meet (an export job, ``rsync`` followed by ``touch``), it is decided from one look at
the folder, and a half-copied export is never mistaken for a finished one, however slowly it
arrives; waiting for files to stay unchanged over two looks would publish a copy that stalled
for longer than the interval between them. An export modified after the marker (its mtime is
later) is unfinished until the marker is written again. Other files in the folder are ignored.

The sensor looks at every yearly partition on each tick. The decision costs a ``stat`` per file:
the SHA-256 of an export is computed only when its size, mtime or ctime changed since the tick
that last hashed it (the hashes are kept in the sensor's cursor), so a tick over unchanged
multi-gigabyte exports reads no export. When a complete year's content differs from what its
current release was made from (the input SHA-256s in ``published/<year>/manifest.json``), the
sensor asks for a run of ``accept_exports`` for that year with a run key made of the year and
the content hashes, unless a run of that content already exists, whoever started it (every run
of the year's five exports carries the content as its tag ``impact/exports``,
pipelines/defs/jobs.py): one content runs once, whether it is published or refused. A published
year whose export is replaced by a corrected one is therefore published again: a revision.

``accepted_exports_sensor`` starts the year's publishing run (``yearly_release``) once its
accepting run succeeded; ``impact run`` runs both steps in its own process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.core.config import Folders
from pipelines.core.contract import COMPLETE_MARKER, RAW_EXPORTS
from pipelines.core.files import Signature, sha256_file, signature
from pipelines.core.preflight import lock_holder, published_lock_file, warehouse_lock_file
from pipelines.defs.jobs import ACCEPTED_TAG, EXPORTS_TAG, STARTED_BY_TAG, YEAR_TAG, content_key
from pipelines.defs.partitions import partition_years
from pipelines.defs.resources import PARTITION_TAG, ProjectFolders, Warehouse, run_folders

MARKER = COMPLETE_MARKER

EXPORT_FILES = tuple(sorted(export.file_name for export in RAW_EXPORTS))
CHANGED_TAG = "impact/changed"
"""The exports whose content differs from the year's current release (or ``first release``)."""


@dataclass(frozen=True)
class YearExports:
    """What ``raw/<year>/`` holds, from one ``stat`` per file."""

    year: int
    folder: Path
    signatures: dict[str, Signature] = field(default_factory=dict)
    """The exports present, by file name."""
    marker: Signature | None = None
    after_marker: tuple[str, ...] = ()
    """Exports modified after the marker was written: still being written, or corrected."""

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in EXPORT_FILES if name not in self.signatures)

    @property
    def complete(self) -> bool:
        return not self.missing and self.marker is not None and not self.after_marker

    @property
    def empty(self) -> bool:
        return not self.signatures and self.marker is None

    def problem(self) -> str:
        """Why the year is not complete, naming the files (file names only, never contents)."""
        parts = []
        if self.missing:
            parts.append("missing " + ", ".join(self.missing))
        if self.after_marker:
            parts.append(f"unfinished (modified after {MARKER}) " + ", ".join(self.after_marker))
        if self.marker is None and not self.missing:
            parts.append(f"unfinished: no {MARKER} written after the last export")
        elif self.marker is None:
            parts.append(f"no {MARKER}")
        return f"{self.year}: " + "; ".join(parts) + f" in {self.folder}"


def look_at(raw_dir: str | Path, year: int) -> YearExports:
    """The state of ``raw_dir/<year>/``: which exports are there, and whether the marker follows them."""
    folder = Path(raw_dir).resolve() / str(year)
    signatures: dict[str, Signature] = {}
    marker = None
    for name in (*EXPORT_FILES, MARKER):
        try:
            stat = (folder / name).stat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        if name == MARKER:
            marker = signature(stat)
        elif (folder / name).is_file():
            signatures[name] = signature(stat)
    after = tuple(name for name, sig in signatures.items() if marker is not None and sig[1] > marker[1])
    return YearExports(year, folder, signatures, marker, after)


def content_hashes(exports: YearExports, cache: dict[str, list]) -> dict[str, str]:
    """The SHA-256 of each export of a complete year. ``cache`` maps ``<year>/<file>`` to
    ``[size, mtime_ns, ctime_ns, sha256]``; only a file whose signature differs is read, and the
    cache is updated."""
    hashes = {}
    for name, recorded in sorted(exports.signatures.items()):
        key = f"{exports.year}/{name}"
        cached = cache.get(key)
        if cached is None or tuple(cached[:3]) != recorded:
            digest = sha256_file(exports.folder / name)
            if signature((exports.folder / name).stat()) != recorded:
                raise ExportChanged(exports.year, name)
            cache[key] = [*recorded, digest]
        hashes[name] = cache[key][3]
    return hashes


class ExportChanged(Exception):
    """An export changed while it was being hashed: it is not finished after all."""

    def __init__(self, year: int, name: str) -> None:
        super().__init__(f"{year}: {name} changed while it was read: still being written")


def released_hashes(published_dir: str | Path, year: int) -> dict[str, str] | None:
    """The SHA-256 of each export the year's current release was made from (its manifest's
    ``inputs``); None before the year's first release."""
    manifest = Path(published_dir) / str(year) / "manifest.json"
    try:
        inputs = json.loads(manifest.read_text(encoding="utf-8"))["inputs"]
    except FileNotFoundError:
        return None
    return {entry["path"].rsplit("/", 1)[-1]: entry["sha256"] for entry in inputs}


def changed_exports(hashes: dict[str, str], released: dict[str, str] | None) -> list[str]:
    """The exports whose content differs from the current release's inputs."""
    if released is None:
        return list(hashes)
    return [name for name in sorted(hashes) if released.get(name) != hashes[name]]


NOT_CANCELED = [status for status in dg.DagsterRunStatus if status != dg.DagsterRunStatus.CANCELED]


def run_of_content(instance: dg.DagsterInstance, key: str) -> str | None:
    """The latest run of this content (its tag :data:`EXPORTS_TAG`), whoever started it
    (``impact run``, the sensor, the schedule, the UI), that is queued, running or done —
    published, refused or failed —, not canceled: another one would only wait for the year, or
    refuse the same exports again. A refusal is not retried by itself. None when there is none."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={EXPORTS_TAG: key}, statuses=NOT_CANCELED), limit=1)
    return f"run {runs[0].run_id} of {runs[0].job_name} ({runs[0].status.value.lower()})" if runs else None


def publisher(folders: Folders, year: int) -> str | None:
    """The process publishing the year now (holding its lock in the release folder or the
    warehouse), e.g. ``impact run``; None when none is. A run asked for meanwhile would only wait
    for it, and publish again what it just published."""
    for lock in (
        published_lock_file(Path(folders.published_dir), year),
        warehouse_lock_file(Path(folders.warehouse_dir), year),
    ):
        holder = lock_holder(lock)
        if holder is not None:
            return holder
    return None


ACTIVE = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


def active_run(instance: dg.DagsterInstance, year: int) -> str | None:
    """A run of the year that the daemon started and that has not ended (queued or running): the
    year's accepting run or its publishing run. None when there is none."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={YEAR_TAG: str(year)}, statuses=list(ACTIVE)), limit=1)
    return f"run {runs[0].run_id} of {runs[0].job_name} ({runs[0].status.value.lower()})" if runs else None


def busy(instance: dg.DagsterInstance, folders: Folders, year: int) -> str | None:
    """Who is publishing the year now: a process holding its lock (``impact run``, a run of the
    UI), or a run of the daemon's queued or under way; None when the year is free."""
    return publisher(folders, year) or active_run(instance, year)


def run_request(year: int, key: str, changed: list[str], first: bool) -> dg.RunRequest:
    """The accepting run of a year's content. Its tag ``impact/year`` puts it in the run queue's
    line for the year (dagster.yaml): one run of the daemon per year at a time."""
    return dg.RunRequest(
        run_key=key,
        partition_key=str(year),
        tags={
            EXPORTS_TAG: key,
            CHANGED_TAG: "first release" if first else ",".join(changed),
            YEAR_TAG: str(year),
        },
    )


@dataclass(frozen=True)
class Decision:
    """What a tick of the sensor or the schedule does with a complete year's content: the run it
    asks for, or why none."""

    request: dg.RunRequest | None
    reason: str = ""
    again: bool = False
    """The year is being published: the content is looked at again once that has ended."""


def decide(instance: dg.DagsterInstance, folders: Folders, year: int, hashes: dict[str, str]) -> Decision:
    """The one rule of the sensor and the schedule: a content runs once. No run when the year's
    current release was made from it, when the year is being published now (the content is looked
    at again), or when a run of any launcher already ran it, published or refused; a changed
    content gets the year's accepting run."""
    key = content_key(year, hashes)
    released = released_hashes(folders.published_dir, year)
    changed = changed_exports(hashes, released)
    if not changed:
        return Decision(None, f"{year}: the current release was made from these exports ({key})")
    if (holder := busy(instance, folders, year)) is not None:
        return Decision(None, f"{year}: being published by {holder}", again=True)
    if (other := run_of_content(instance, key)) is not None:
        return Decision(None, f"{year}: these exports already have a run, {other}; not repeated by itself ({key})")
    return Decision(run_request(year, key, changed, released is None))


@dataclass
class Cursor:
    """The sensor's memory between ticks: the SHA-256 of each export with the signature it was
    computed for, and the content last asked for (or found published) per year."""

    hashes: dict[str, list] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(hashes=data.get("hashes", {}), seen=data.get("seen", {}))

    def dump(self) -> str:
        return json.dumps({"hashes": self.hashes, "seen": self.seen}, sort_keys=True, separators=(",", ":"))


SENSOR_NAME = "raw_exports_sensor"


def raw_exports_sensor(job, partitions: dg.PartitionsDefinition) -> dg.SensorDefinition:
    """The sensor of ``job`` (the accepting job) over the code location's partitions; it reads the
    folders of the resources ``folders`` and ``warehouse``, as a run would."""

    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Every minute, looks at raw/<year>/ of each year: when the five exports and their _SUCCESS "
            "marker are there and their content differs from what the year's current release was made "
            "from, asks for one run of the year (a first release, or a revision), unless a run of these "
            "exports already exists, whoever started it (tag impact/exports): a refusal is not retried by "
            "itself. Decides on file sizes and times; hashes an export only when it changed. raw/README.md "
            "says when a year is complete."
        ),
    )
    def sensor(context: dg.SensorEvaluationContext, folders: ProjectFolders, warehouse: Warehouse) -> dg.SensorResult:
        return _tick(context, partitions, run_folders(folders, warehouse))

    return sensor


def _tick(
    context: dg.SensorEvaluationContext, partitions: dg.PartitionsDefinition, folders: Folders
) -> dg.SensorResult:
    """One tick of ``raw_exports_sensor``."""
    cursor = Cursor.parse(context.cursor)
    requests, notes, empty = [], [], []
    present = set()
    for year in partition_years(partitions):
        exports = look_at(folders.raw_dir, year)
        present.update(f"{year}/{name}" for name in exports.signatures)
        if exports.empty:
            empty.append(str(year))
            continue
        if not exports.complete:
            notes.append(exports.problem())
            continue
        try:
            hashes = content_hashes(exports, cursor.hashes)
        except ExportChanged as changed:
            notes.append(str(changed))
            continue
        key = content_key(year, hashes)
        if cursor.seen.get(str(year)) == key:
            notes.append(f"{year}: exports unchanged since the last tick ({key})")
            continue
        decision = decide(context.instance, folders, year, hashes)
        if decision.again:
            notes.append(f"{decision.reason}; looked at again once it has ended")
            continue  # e.g. `impact run` of these very exports: not seen yet
        if decision.request is None:
            notes.append(decision.reason)
        else:
            requests.append(decision.request)
        cursor.seen[str(year)] = key
    cursor.hashes = {name: value for name, value in cursor.hashes.items() if name in present}
    if empty:
        notes.insert(0, "no exports for " + ", ".join(empty))
    return dg.SensorResult(
        run_requests=requests,
        cursor=cursor.dump(),
        skip_reason=None if requests else "; ".join(notes) or "no yearly partition",
    )


ACCEPTED_SENSOR_NAME = "accepted_exports_sensor"
FORWARDED_TAGS = (EXPORTS_TAG, CHANGED_TAG, YEAR_TAG)
"""The tags of an accepting run its publishing run carries too (the content, the changed exports,
the scheduled year), so that the sensor and the schedule see that content as asked for."""


def accepted_exports_sensor(accepting: dg.UnresolvedAssetJobDefinition, publishing) -> dg.SensorDefinition:
    """The run-status sensor that starts the publishing run of a year once its accepting run
    succeeded: the second of a year's two steps, for runs started by the sensor, the schedule,
    a backfill or the UI (``impact run`` publishes in its own process)."""

    @dg.run_status_sensor(
        name=ACCEPTED_SENSOR_NAME,
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[accepting],
        request_job=publishing,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"When a run of {accepting.name} succeeds (the year's exports are accepted), starts the year's "
            f"{publishing.name} run, which builds, proves and publishes the tables from them."
        ),
    )
    def sensor(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        run = context.dagster_run
        if run.tags.get(STARTED_BY_TAG):
            return dg.SkipReason(f"run {run.run_id} was started by {run.tags[STARTED_BY_TAG]}, which publishes it")
        tags = {key: run.tags[key] for key in FORWARDED_TAGS if key in run.tags}
        return dg.RunRequest(
            run_key=f"publish-{run.run_id}",
            partition_key=run.tags[PARTITION_TAG],
            tags={**tags, ACCEPTED_TAG: run.run_id},
        )

    return sensor
