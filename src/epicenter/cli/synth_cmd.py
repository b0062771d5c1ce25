"""`epicenter synth`: write a synthetic city's deliveries and ground truth."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click


@click.command()
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder (the delivery; ground truth goes to OUT/truth/).")
@click.option("--persons", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Residents of the city.")
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True,
              help="Simulated days.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed: the same arguments give byte-identical files.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2020-01-10",
              show_default=True, help="First simulated day (local date).")
@click.option("--dirty-rate", type=click.FloatRange(0, 0.5), default=0.002, show_default=True,
              help="Share of rows that get a defective copy (listed in truth/dirty_rows.csv).")
def synth(out: Path, persons: int, days: int, seed: int, start: dt.datetime,
          dirty_rate: float) -> None:
    """Generate a synthetic city: every source kind in its reference template, plus truth."""
    from epicenter.synth import generate

    kwargs = dict(out=out, persons=persons, days=days, seed=seed, start=start.date(),
                  dirty_rate=dirty_rate)
    if sys.stderr.isatty():
        from rich.progress import BarColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

        with Progress("[progress.description]{task.description}", BarColumn(),
                      "{task.completed}/{task.total} days", TimeElapsedColumn(),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task(f"city of {persons:,} persons", total=days)
            summary = generate(**kwargs, progress=lambda d, n: bar.update(task, completed=d))
    else:
        summary = generate(**kwargs)
    brief = {k: summary[k] for k in ("persons", "visitors", "days", "infections",
                                     "recorded_infections", "detected_cases", "trips",
                                     "dirty_rows", "seconds")}
    click.echo(json.dumps(brief, indent=1))
    click.echo(f"wrote {out} (manifest.yaml, truth/)")


COMMANDS = [synth]
