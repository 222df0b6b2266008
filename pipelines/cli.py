"""The ``impact`` command: demo exports, running a year through Dagster, verifying a release."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipelines.config import Folders


@click.group()
def main() -> None:
    """Impact statistics pipeline: raw yearly exports to published yearly tables."""


@main.command("demo-data")
@click.option("--year", type=int, required=True, help="Year of the demo exports.")
@click.option("--raw-dir", default="raw", show_default=True, type=click.Path(file_okay=False))
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Resizes only the CyberTipline export: below 1 for fast tests, 1.0 = full size.")
@click.option("--seed", default=2020, show_default=True, type=int)
@click.option("--realistic/--tidy", default=None,
              help="CyberTipline rows as a real export has them (ids in no order, random times) or "
                   "tidy (consecutive ids, even times; compresses ten times better). "
                   "[default: realistic above scale 1]")
def demo_data(year: int, raw_dir: str, scale: float, seed: int, realistic: bool | None) -> None:
    """Write deterministic, synthetic demo exports for YEAR into RAW_DIR/YEAR/."""
    from tqdm import tqdm

    from pipelines.demo_data import write_demo_exports

    with tqdm(desc=f"demo exports {year}", unit="file", total=5, file=sys.stderr) as bar:
        def progress(message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(1)

        try:
            paths = write_demo_exports(year, Path(raw_dir), scale=scale, seed=seed, progress=progress,
                                       realistic=realistic)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    for path in paths:
        click.echo(str(path))


@main.command()
@click.option("--year", "years", type=int, required=True, multiple=True,
              help="Year to materialize; repeat for several years.")
@click.option("--raw-dir", default=None, help="Raw exports folder [env IMPACT_RAW_DIR, default raw].")
@click.option("--out-dir", default=None, help="Release folder [env IMPACT_PUBLISHED_DIR, default published].")
@click.option("--warehouse-dir", default=None, help="DuckDB folder [env IMPACT_WAREHOUSE_DIR, default warehouse].")
def run(years: tuple[int, ...], raw_dir: str | None, out_dir: str | None, warehouse_dir: str | None) -> None:
    """Materialize every asset and check of each YEAR through Dagster and publish it."""
    import atexit
    import gc

    # No automatic cyclic garbage collection in this short-lived process: loading Dagster, pandera
    # and pandas and running a year create millions of objects and little garbage, and the
    # collector scanning them again and again cost about 0.5 s of a 4 s run. The memory this keeps
    # is measured by `impact bench` (peak RSS); several years are collected between years.
    gc.disable()
    from pipelines.checks.gx_validation import start_gx_worker

    # Great Expectations takes ~1.7 s of CPU to import: start its worker process before anything
    # else, so that it imports GX on the other core while this process loads Dagster.
    start_gx_worker()
    # At exit, spare the interpreter a collection of the objects of Dagster, pandas and pandera
    # (~0.8 s): nothing is left to free.
    atexit.register(gc.freeze)
    from pipelines.runner import run_year

    folders = Folders.from_environment(raw_dir, out_dir, warehouse_dir)
    failed = False
    for index, year in enumerate(years):
        if index:
            gc.collect()
        outcome = run_year(year, folders)
        if outcome.success:
            click.echo(f"published {outcome.release}")
        else:
            failed = True
            click.echo(f"year {year}: not published; failures:", err=True)
            for message in outcome.failures or ["the run failed (see the log above)"]:
                click.echo(f"  - {message}", err=True)
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--year", type=int, required=True)
@click.option("--reference", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out-dir", default=None, help="Release folder [env IMPACT_PUBLISHED_DIR, default published].")
def verify(year: int, reference: str, out_dir: str | None) -> None:
    """Compare the release of YEAR with reference CSVs; print every differing cell."""
    from pipelines.verify import verify_release

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


@main.command()
@click.option("--work-dir", default="bench", show_default=True, type=click.Path(file_okay=False),
              help="Where the benchmark writes its exports, runs and logs.")
@click.option("--scale", "scales", type=click.FloatRange(min=0, min_open=True), multiple=True,
              default=(1.0, 2.0), show_default=True,
              help="Size of the CyberTipline export (1 = 21,751,085 reports); repeat for several.")
@click.option("--year", default=2020, show_default=True, type=int)
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="JSON results [default: WORK_DIR/results/bench.json].")
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(min=1),
              help="Runs of each timed command; the minimum wall time is reported.")
@click.option("--skip-pandas-above", default=None, type=float,
              help="Skip the pandas peer above this scale (about 4.4 GiB of RAM per 21.75M reports).")
def bench(work_dir: str, scales: tuple[float, ...], year: int, out: str | None, repeats: int,
          skip_pandas_above: float | None) -> None:
    """Time `impact run` against a bare DuckDB floor and a pandas peer; print a markdown table."""
    from pipelines.bench import BenchmarkError, render_markdown, run_benchmark

    try:
        results = run_benchmark(
            Path(work_dir), scales=scales, year=year, out_json=Path(out) if out else None,
            repeats=repeats, pandas_max_scale=skip_pandas_above,
            log=lambda message: click.echo(message, err=True),
        )
    except (BenchmarkError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(render_markdown(results))


@main.command("bench-backfill")
@click.option("--work-dir", default="bench/backfill", show_default=True, type=click.Path(file_okay=False),
              help="Where the benchmark writes its exports, runs and logs.")
@click.option("--scale", "scales", type=click.FloatRange(min=0, min_open=True), multiple=True,
              default=(0.25, 0.5, 1.0), show_default=True,
              help="Size of every year's CyberTipline export (1 = full size); at least two.")
@click.option("--parallel", default=2, show_default=True, type=click.IntRange(min=1),
              help="Years running at once.")
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(min=1),
              help="Backfills at each scale; the minimum wall time is reported.")
def bench_backfill(work_dir: str, scales: tuple[float, ...], parallel: int, repeats: int) -> None:
    """Backfill the demo years 2019-2023 at several sizes; print wall time against total rows."""
    from pipelines.bench_backfill import BackfillError, render_backfill_markdown, run_backfill_benchmark

    try:
        results = run_backfill_benchmark(
            Path(work_dir), scales=scales, parallel=parallel, repeats=repeats,
            log=lambda message: click.echo(message, err=True),
        )
    except (BackfillError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(render_backfill_markdown(results))


if __name__ == "__main__":
    main()
