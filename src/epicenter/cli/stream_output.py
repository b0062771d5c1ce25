"""Write a stream of Arrow tables (one per group of cases) as it comes.

``epicenter contacts --secondary`` over many cases answers tens of millions of rows; they are
written table by table, so memory holds one group, never the answer. The bytes are those
``output.emit`` writes for the concatenated table: csv with one header, json as one array
(indent 1), parquet as one file. ``table`` renders the first ``max_rows`` rows and counts
the rest.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from epicenter.cli.output import _json_default


def _json_rows(rows: list[dict]) -> str:
    # each element as json.dumps(list, indent=1) lays it out: one more space on every line
    return ",\n".join(" " + json.dumps(r, default=_json_default, ensure_ascii=False,
                                       indent=1).replace("\n", "\n ") for r in rows)


def _render(head: pa.Table, total: int, output: Path | None, title: str | None) -> None:
    """The first rows as a terminal table, and how many there are in all."""
    from rich.console import Console
    from rich.table import Table

    with contextlib.ExitStack() as stack:
        file = stack.enter_context(open(output, "w", encoding="utf-8")) if output else None
        console = Console(file=file)
        t = Table(title=title, show_lines=False)
        for name in head.column_names:
            t.add_column(name)
        for row in head.to_pylist():
            t.add_row(*["" if v is None else str(v) for v in row.values()])
        console.print(t)
        more = total - head.num_rows
        console.print(f"... {more} more rows (use --format csv to see all)" if more
                      else f"{total} rows")


def emit_stream(tables: Iterable[pa.Table], schema: pa.Schema, fmt: str = "table",
                output: Path | None = None, title: str | None = None,
                max_rows: int = 200) -> int:
    """Write every table of ``tables`` (all of ``schema``) in order; returns the row count."""
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        raise click.UsageError("--format parquet writes binary: give --output FILE")
    if fmt == "table":
        head, total = [], 0
        for t in tables:
            if total < max_rows:
                head.append(t.slice(0, max_rows - total))
            total += t.num_rows
        _render(pa.concat_tables(head) if head else schema.empty_table(), total, output, title)
        return total
    total = 0
    with contextlib.ExitStack() as stack:
        if fmt == "json":
            sink = (stack.enter_context(open(output, "w", encoding="utf-8")) if output
                    else sys.stdout)
            first = True
            for t in tables:
                if t.num_rows:
                    sink.write(("[\n" if first else ",\n") + _json_rows(t.to_pylist()))
                    first = False
                    total += t.num_rows
            sink.write("[]\n" if first else "\n]\n")
            sink.flush()
            return total
        raw = stack.enter_context(open(output, "wb")) if output else sys.stdout.buffer
        writer = (pacsv.CSVWriter(raw, schema) if fmt == "csv" else pq.ParquetWriter(raw, schema))
        stack.callback(writer.close)
        for t in tables:
            writer.write_table(t.cast(schema))
            total += t.num_rows
    return total
