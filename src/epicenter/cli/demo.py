"""``epicenter demo``: the main job on the embedded default, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import click

from epicenter.settings import Settings


def _print_summary(s: dict) -> None:
    ing = s["ingest"]
    click.echo("\n== Epicenter demo ==")
    click.echo(f"city delivery : {s['city']}")
    click.echo(f"warehouse     : {s['home']}")
    click.echo(f"ingested      : {ing['files']} files, {ing.get('rows_read', 0):,} rows read = "
               f"{ing.get('rows_loaded', 0):,} loaded + {ing.get('rows_quarantined', 0):,} "
               f"quarantined + {ing.get('rows_duplicate', 0):,} duplicates")
    for e in ing["errors"]:
        click.echo(f"  file error  : {e}")
    d = s["dirty_rows"]
    click.echo(f"dirty rows    : {d['found_in_quarantine']:,} of {d['listed_in_truth']:,} planted "
               "defects found in the quarantine")
    c = s["contacts"]
    if c.get("cases"):
        click.echo(f"contacts      : {c['rows']:,} contact rows for the first {c['cases']} cases; "
                   f"tiers {c['tiers']}; settings {c['settings']}")
        click.echo(f"  try         : epicenter contacts --case {c['case_keys'][0]}")
    m = s.get("model")
    if m:
        click.echo(f"cases         : {m['cases']:.0f} positive cases over {m['days']} days in {m['area_code']}")
        if "rt_last" in m:
            r = m["rt_last"]
            click.echo(f"Rt (last week): {r['mean']:.2f} (95% CrI {r['q0.025']:.2f}-{r['q0.975']:.2f})"
                       if "q0.025" in r else f"Rt (last week): {r['mean']:.2f}")
        if "forecast_median" in m:
            med = m["forecast_median"]
            click.echo(f"forecast      : median daily cases next 7 days "
                       f"{', '.join(f'{x:.0f}' for x in med[:7])}")
        click.echo(f"  try         : epicenter forecast --area {m['area_code']} --horizon 14")


@click.command()
@click.option("--city", type=click.Path(path_type=Path), default=Path("demo-city"),
              show_default=True, help="Where the synthetic city's delivery is written (reused if present).")
@click.option("--persons", type=int, default=20_000, show_default=True, help="Persons in the city.")
@click.option("--days", type=int, default=21, show_default=True, help="Days simulated.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def demo(settings: Settings, city: Path, persons: int, days: int, seed: int, as_json: bool) -> None:
    """Generate a synthetic city, ingest it, trace contacts, estimate Rt and forecast."""
    from rich.console import Console

    from epicenter.demo import run_demo

    console = Console(stderr=True)
    summary = run_demo(settings, city, persons, days, seed,
                       step=lambda msg: console.print(f"[bold]>[/bold] {msg}"))
    if as_json:
        click.echo(json.dumps(summary, indent=1, default=str))
    else:
        _print_summary(summary)


COMMANDS = [demo]
