"""Command-line interface: a thin layer over the library.

Each command family lives in its own module exposing ``COMMANDS`` (a list of click
commands); this module only assembles them and owns the global options.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from epicenter import __version__
from epicenter.settings import load_settings

# command modules, in the order their commands are listed by --help
COMMAND_MODULES = (
    "epicenter.cli.doctor",
    "epicenter.cli.synth_cmd",
    "epicenter.cli.ingest_cmds",
    "epicenter.cli.trace_cmds",
    "epicenter.cli.model_cmds",
    "epicenter.cli.scenario_cmds",
    "epicenter.cli.demo",
)


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="epicenter")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Data home holding the warehouse [env EPICENTER_HOME; default ./epicenter-data].")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default=None,
              help="Query engine [env EPICENTER_ENGINE; default duckdb].")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, engine: str | None) -> None:
    """Epicenter: epidemic intelligence from carrier, transport, venue, payment, power and
    health data, with privacy by design."""
    ctx.obj = load_settings(home=home, engine=engine)


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        # the same help options whether a command runs under the group or on its own
        _command.context_settings = {**CONTEXT_SETTINGS, **_command.context_settings}
        cli.add_command(_command)


def main() -> None:
    cli(prog_name="epicenter")
