"""Render query results: ``--format table|csv|json|parquet`` on every query command."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("table", "csv", "json", "parquet")


def format_option(default: str = "table", choices: tuple[str, ...] = FORMATS):
    return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                        show_default=True, help="Output format.")


def output_option():
    return click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
                        help="Write to this file instead of standard output (required for parquet "
                             "when standard output is a terminal).")


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def emit(table: pa.Table, fmt: str = "table", output: Path | None = None,
         title: str | None = None, max_rows: int = 200) -> None:
    """Write an Arrow table in the chosen format to a file or standard output."""
    if fmt == "parquet":
        if output is None and sys.stdout.isatty():
            raise click.UsageError("--format parquet writes binary: give --output FILE")
        pq.write_table(table, output if output else sys.stdout.buffer)
        return
    if fmt == "csv":
        sink = output if output else sys.stdout.buffer
        pacsv.write_csv(table, sink)
        return
    if fmt == "json":
        text = json.dumps(table.to_pylist(), default=_json_default, ensure_ascii=False, indent=1)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            click.echo(text)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(file=open(output, "w", encoding="utf-8") if output else None)
    t = Table(title=title, show_lines=False)
    for name in table.column_names:
        t.add_column(name)
    for row in table.slice(0, max_rows).to_pylist():
        t.add_row(*["" if v is None else str(v) for v in row.values()])
    console.print(t)
    if table.num_rows > max_rows:
        console.print(f"... {table.num_rows - max_rows} more rows (use --format csv to see all)")
    else:
        console.print(f"{table.num_rows} rows")
