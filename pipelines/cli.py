"""The ``impact`` command: demo exports, running a year through Dagster, verifying a release.

Benchmarks are scripts outside the package (benchmarks/, ``make bench``)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click
from tqdm import tqdm

from pipelines.core.config import ENV_FIRST_YEAR, REPO_ROOT, Folders, first_year
from pipelines.core.modes import exposed, owner_only
from pipelines.core.preflight import (
    BUSY_EXIT_CODE,
    UNWRITABLE_EXIT_CODE,
    FolderNotWritable,
    YearBusy,
    require_writable,
    run_lock_files,
    year_lock,
)
from pipelines.defs.partitions import partition_years, yearly_partitions
from pipelines.guards import Cells, Guard, guards_of, known_rows
from pipelines.public_copy.tables import withheld_summary
from pipelines.publishing.diff import diff_public, diff_releases
from pipelines.publishing.history import (
    NO_PUBLIC_COPY,
    PUBLIC,
    current_release,
    find_release,
    history,
    public_copy_of,
    public_entry,
    replaced_release,
)
from pipelines.publishing.verify import verify_release
from pipelines.runner import EXIT_BAD_INPUT, QUIET, run_year
from pipelines.tables import specs


@click.group()
def main() -> None:
    """Impact statistics pipeline: raw yearly exports to published yearly tables."""
    # Whatever the command, the files it creates are the owner's alone: the warehouse, the Dagster
    # instance and the demo exports are confidential (pipelines/core/modes.py).
    owner_only()


@main.command("demo-data")
@click.option("--year", type=int, required=True, help="Year of the demo exports.")
@click.option("--raw-dir", default="raw", show_default=True, type=click.Path(file_okay=False))
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Resizes only the CyberTipline export: below 1 for fast tests, 1.0 = full size.",
)
@click.option("--seed", default=2020, show_default=True, type=int)
@click.option(
    "--out-dir",
    default=None,
    help="Release folder the exports will be published into: figures that look back a year follow "
    "last year's release there [env IMPACT_PUBLISHED_DIR, default published].",
)
@click.option(
    "--realistic/--tidy",
    default=None,
    help="CyberTipline rows as a real export has them (ids in no order, random times) or "
    "tidy (consecutive ids, even times; compresses ten times better). "
    "[default: realistic above scale 1]",
)
def demo_data(year: int, raw_dir: str, scale: float, seed: int, out_dir: str | None, realistic: bool | None) -> None:
    """Write deterministic, synthetic demo exports for YEAR into RAW_DIR/YEAR/.

    Before writing, one line per published year beside YEAR (last year's release, next year's,
    in OUT_DIR) that the exports will not publish beside, and why."""
    published = Path(Folders.from_environment(published_dir=out_dir).published_dir)

    from pipelines.demo import write_demo_exports  # imported here only: `impact run` never needs it

    with tqdm(desc=f"demo exports {year}", unit="file", total=5, file=sys.stderr) as bar:

        def progress(message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(1)

        try:
            paths = write_demo_exports(
                year,
                Path(raw_dir),
                scale=scale,
                seed=seed,
                progress=progress,
                realistic=realistic,
                published_root=published,
                warn=lambda line: tqdm.write(f"impact demo-data: {line}", file=sys.stderr),
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    for path in paths:
        click.echo(str(path))


@main.command()
@click.option(
    "--year", "years", type=int, required=True, multiple=True, help="Year to materialize; repeat for several years."
)
@click.option("--raw-dir", default=None, help="Raw exports folder [env IMPACT_RAW_DIR, default raw].")
@click.option("--out-dir", default=None, help="Release folder [env IMPACT_PUBLISHED_DIR, default published].")
@click.option("--warehouse-dir", default=None, help="DuckDB folder [env IMPACT_WAREHOUSE_DIR, default warehouse].")
@click.option(
    "--acknowledge-change",
    "acknowledged",
    multiple=True,
    metavar="FIGURE",
    help="Accept FIGURE (an export file name, or a headline metric_id/period) outside the "
    "band around last year's release; recorded in the manifest. Repeatable "
    "[env IMPACT_ACKNOWLEDGED_CHANGES].",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Show Dagster's log of the run on the console too [level: env IMPACT_LOG_LEVEL, default INFO].",
)
def run(
    years: tuple[int, ...],
    raw_dir: str | None,
    out_dir: str | None,
    warehouse_dir: str | None,
    acknowledged: tuple[str, ...],
    verbose: bool,
) -> None:
    """Materialize every asset and check of each YEAR through Dagster and publish it.

    Prints one line per year published: the release and whether it is new, revises the previous
    one (with the number of cells changed) or was already current. A year not published gets one
    line per problem and the path of Dagster's full log of the run (under the warehouse folder).
    The run is recorded in the Dagster instance that `dagster dev` shows (DAGSTER_HOME, or
    .dagster/ in the working folder).

    Exit codes: 0 every year published; 1 bad input (a year not published: every problem is
    printed, one line each, or a --year outside the partitions); 2 a product error (its trace is
    in the run's log file); 3 the release or warehouse folder cannot be written; 75 another
    process is publishing one of the years. With 3 and 75 nothing was done.
    """

    valid = partition_years(yearly_partitions(first_year()))
    for year in years:
        if year not in valid:
            span = f"{valid[0]}..{valid[-1]}" if valid else "none yet"
            click.echo(
                f"year {year} is not a yearly partition: valid years are {span} (the first is "
                f"{ENV_FIRST_YEAR}={first_year()}; a year is a partition once it has ended)",
                err=True,
            )
            sys.exit(EXIT_BAD_INPUT)
    folders = Folders.from_environment(raw_dir, out_dir, warehouse_dir)
    # Before any work: both folders writable, and every year to this process alone.
    held = ExitStack()
    try:
        require_writable(
            [
                (Path(folders.published_dir), "release folder"),
                (Path(folders.warehouse_dir), "warehouse folder"),
            ],
            published=Path(folders.published_dir),
        )
        for year in sorted(set(years)):
            held.enter_context(
                year_lock(year, run_lock_files(year, Path(folders.published_dir), Path(folders.warehouse_dir)))
            )
    except FolderNotWritable as error:
        held.close()
        click.echo(f"impact run: {error}", err=True)
        sys.exit(UNWRITABLE_EXIT_CODE)
    except YearBusy as error:
        held.close()
        click.echo(f"impact run: {error}", err=True)
        sys.exit(BUSY_EXIT_CODE)
    _warn_if_exposed(folders, years)

    exit_code = 0
    with held:
        for year in years:
            # Dagster's log (--verbose) and the progress line would write over each other.
            progress = None if verbose else sys.stderr
            outcome = run_year(
                year, folders, log_level=None if verbose else QUIET, progress=progress, acknowledged=acknowledged
            )
            if outcome.success:
                click.echo(f"published {outcome.publication}")
            else:
                exit_code = max(exit_code, outcome.exit_code)
                click.echo(f"year {year}: not published; failures:", err=True)
                for message in outcome.failures or ["the run failed"]:
                    click.echo(f"  - {message}", err=True)
                trace = ", with the trace of the product error" if outcome.product_error else ""
                click.echo(f"  the full log of the run{trace}: {outcome.log}", err=True)
    sys.exit(exit_code)


def _warn_if_exposed(folders: Folders, years: tuple[int, ...]) -> None:
    """One line per raw year folder or warehouse folder that other users can read."""
    given = [(Path(folders.raw_dir) / str(year), "raw folder") for year in sorted(set(years))]
    for folder, what in [*given, (Path(folders.warehouse_dir), "warehouse folder")]:
        line = exposed(folder, what)
        if line is not None:
            click.echo(f"impact run: warning: {line}", err=True)


@main.command()
@click.option("--year", type=int, required=True)
@click.option("--reference", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out-dir", default=None, help="Release folder [env IMPACT_PUBLISHED_DIR, default published].")
def verify(year: int, reference: str, out_dir: str | None) -> None:
    """Compare the release of YEAR with reference CSVs; print every differing cell."""

    release = Path(Folders.from_environment(published_dir=out_dir).published_dir) / str(year)
    if not release.is_dir():
        click.echo(f"no release for {year} at {release}", err=True)
        sys.exit(2)
    differences = verify_release(release, Path(reference))
    for difference in differences:
        click.echo(str(difference))
    if differences:
        click.echo(f"{len(differences)} difference(s) between {release} and {reference}", err=True)
        sys.exit(1)
    click.echo(f"{release} agrees with {reference}")


def _published_root(out_dir: str | None) -> Path:
    return Path(Folders.from_environment(published_dir=out_dir).published_dir).resolve()


@main.command()
@click.option("--year", type=int, required=True)
@click.option("--out-dir", default=None, help="Release folder [env IMPACT_PUBLISHED_DIR, default published].")
def releases(year: int, out_dir: str | None) -> None:
    """List the releases of YEAR, newest first; the current one is marked, and each one's
    public copy: published, or withheld with why and the release whose copy was then current."""

    root = _published_root(out_dir)
    found = history(root, year)
    if not found:
        click.echo(f"no release of {year} in {root}", err=True)
        sys.exit(2)
    current_copy = public_copy_of(found)
    for index, release in enumerate(found):
        mark = "current" if index == 0 else ""
        replaced = found[index + 1].name if index + 1 < len(found) else None
        entry = public_entry(release)
        if entry["status"] == "published":
            public = "public copy published" + (" (the year's current one)" if release == current_copy else "")
        elif entry["status"] == NO_PUBLIC_COPY:
            public = "no public copy"
        else:
            public = f"public copy withheld: {withheld_summary(entry)}; current then: {entry.get('current') or 'none'}"
        click.echo(f"{release.name}  {mark:7}  {'replaces ' + replaced if replaced else 'first release'}  {public}")


@main.command()
@click.option("--year", type=int, required=True)
@click.option("--out-dir", default=None, help="Release folder [env IMPACT_PUBLISHED_DIR, default published].")
@click.option("--from", "from_release", default=None, help="Older release [default: the one TO replaced].")
@click.option("--to", "to_release", default=None, help="Newer release [default: the current one].")
def diff(year: int, out_dir: str | None, from_release: str | None, to_release: str | None) -> None:
    """Print every cell that changed between two releases of YEAR, then the number of them;
    then the same for the public-use tables (public/), a change of status included, against the
    public copy that was current at the older release (a release whose copy was withheld has
    none of its own)."""

    root = _published_root(out_dir)
    try:
        new = find_release(root, year, to_release) if to_release else current_release(root, year)
        if new is None:
            raise FileNotFoundError(f"no release of {year} in {root}")
        old = find_release(root, year, from_release) if from_release else replaced_release(root, new)
        if old is None:
            raise FileNotFoundError(f"{new.name} is the first release of {year}: give --from")
    except (FileNotFoundError, RuntimeError) as error:
        click.echo(f"impact diff: {error}", err=True)
        sys.exit(2)
    changes = diff_releases(old, new)
    for change in changes:
        click.echo(str(change))
    click.echo(f"{len(changes)} cells changed")
    if not (new / PUBLIC).is_dir():
        click.echo(f"{new.name} has no public copy (withheld): the year's public copy is not changed by it")
    before = public_copy_of(history(root, year, old))
    public = diff_public(before, new) if (new / PUBLIC).is_dir() else []
    for change in public:
        click.echo(str(change))
    click.echo(f"{len(public)} public cells changed")


def _guard_entries(table: str, row: str | None, column: str | None) -> list[tuple[str, str]]:
    """Every guard of a table or cell, one entry per guard however many assets it runs on: its
    line (name, where it runs, what of the table it protects when not all of it) and its failing test."""
    found: dict[str, list[Guard]] = {}
    for guard in guards_of(table, row, column):
        found.setdefault(guard.name, []).append(guard)
    width = max(len(name) for name in found)
    entries = []
    for name, runs in found.items():
        first = runs[0]
        assets = ", ".join(dict.fromkeys(g.asset for g in runs if g.asset))
        where = f"{first.kind} on {assets}, {first.step}" if assets else f"{first.kind}: {first.step}"
        cells = [c for g in runs for c in g.cells_of(table, row, column)]
        protects = "the whole release" if first.whole_release else _protected(cells, row, column, len(runs) == 1)
        line = f"  {name:{width}}  {where}" + (f" ({protects})" if protects else "")
        entries.append((line, f"  {'':{width}}  fails in {first.failing_test}"))
    return entries


def _protected(cells: list[Cells], row: str | None, column: str | None, with_via: bool) -> str:
    """What of the table or cell the guard protects, when it is not simply all of it: its public
    copy, the rows and columns when not asked for one (cells of the same columns and cause as
    one), and how it reaches them."""
    rows_of: dict[tuple, list[str]] = {}
    for found in cells:
        via = found.via if with_via or not (found.via or "").startswith("reads ") else None
        columns = found.columns if column is None else None
        rows_of.setdefault((found.public, columns, via), []).extend(found.rows or () if row is None else ())
    texts = []
    for (public, columns, via), rows in rows_of.items():
        part = "its public copy" if public else ", ".join(columns or ())
        if rows and not public:
            shown = ", ".join(rows[:3]) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
            part += f"{' of ' if part else ''}{'rows' if len(rows) > 1 else 'row'} {shown}"
        texts.append(", ".join(t for t in (part, via) if t))
    return "; ".join(t for t in texts if t)


@main.command()
@click.argument("table", type=click.Choice(list(specs())), metavar="TABLE")
@click.option("--row", default=None, metavar="LABEL", help="A row of TABLE by its label (headline: metric_id/period).")
@click.option("--column", default=None, metavar="NAME", help="A column of TABLE.")
def guards(table: str, row: str | None, column: str | None) -> None:
    """Print every guard of TABLE, or of its cells in --row and --column: where each runs and the
    test whose input makes it fail (declared in pipelines/guards.py; what each proves:
    docs/tables/TABLE.md, "What guards it")."""
    described = specs()[table]
    if column is not None and column not in described.column_names:
        names = ", ".join(described.column_names)
        raise click.BadParameter(f"{table} has no column {column!r} ({names})", param_hint="--column")
    labels = known_rows(table)
    if row is not None and labels is not None and row not in labels:
        raise click.BadParameter(f"{table} has no row {row!r} ({', '.join(labels)})", param_hint="--row")
    what = ", ".join([table, *([f"row {row}"] if row else []), *([f"column {column}"] if column else [])])
    entries = _guard_entries(table, row, column)
    click.echo(f"{what}: {len(entries)} guards (what each proves: docs/tables/{table}.md)")
    for line, failing_test in entries:
        click.echo(line)
        click.echo(failing_test)


@main.command()
def docs() -> None:
    """Write the reference page of every published table, docs/tables/<table>.md, and of every
    guard, docs/guards.md, from the code."""
    from pipelines.reference_docs import write_pages  # pandera: imported by this command only

    for path in write_pages():
        click.echo(str(path.relative_to(REPO_ROOT)))


if __name__ == "__main__":
    main()
