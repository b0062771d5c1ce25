"""``epicenter doctor``: what is installed, which engines load, what the warehouse holds."""

from __future__ import annotations

import platform
import sys

import click

from epicenter import __version__
from epicenter.engine import ENGINES, engine_available
from epicenter.settings import Settings


def doctor_report(settings: Settings) -> dict:
    engines = {}
    for name in ENGINES:
        ok, info = engine_available(name)
        engines[name] = {"available": ok, "info": info}
    wh = settings.warehouse
    return {
        "epicenter": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "engines": engines,
        "default_engine": settings.engine,
        "home": str(settings.home.resolve()),
        "warehouse": wh.summary() if wh.exists else "empty (run `epicenter ingest-dir` or `epicenter demo`)",
    }


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def doctor(settings: Settings, as_json: bool) -> None:
    """Versions, engine availability, data home and a warehouse summary."""
    import json

    report = doctor_report(settings)
    if as_json:
        click.echo(json.dumps(report, indent=1, default=str))
        return
    click.echo(f"epicenter {report['epicenter']}  python {report['python']}  {report['platform']}")
    for name, e in report["engines"].items():
        mark = "ok " if e["available"] else "-- "
        click.echo(f"  engine {name:7s} {mark}{e['info']}")
    click.echo(f"  default engine: {report['default_engine']}")
    click.echo(f"  data home: {report['home']}")
    wh = report["warehouse"]
    if isinstance(wh, dict):
        click.echo(f"  batches: {wh['batches']}")
        for table, rows in wh["tables"].items():
            click.echo(f"    {table:16s} {rows:>14,d} rows")
    else:
        click.echo(f"  warehouse: {wh}")


COMMANDS = [doctor]
