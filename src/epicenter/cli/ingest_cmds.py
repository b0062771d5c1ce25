"""Ingestion commands: ``ingest``, ``ingest-dir`` and ``quality``."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from epicenter.ingest.delivery import Item, data_files, ingest_items, plan_delivery
from epicenter.ingest.errors import IngestError
from epicenter.ingest.kinds import KINDS
from epicenter.ingest.mapping import load_mapping


@contextmanager
def _progress(total: int):
    """Yields (on_done, on_step) callbacks; a rich progress bar only on a terminal."""
    if not sys.stderr.isatty():
        def done(item: Item, record, error) -> None:
            click.echo(_line(item, record, error), err=True)
        yield done, None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("ingesting", total=total)

        def done(item: Item, record, error) -> None:
            bar.console.print(_line(item, record, error), highlight=False)
            bar.advance(task)

        def step(item: Item, msg: str) -> None:
            bar.update(task, description=f"{item.kind} {item.path.name}: {msg}")

        yield done, step


def _line(item: Item, record, error) -> str:
    if error:
        return f"FAILED {error}"
    if record.get("skipped"):
        return f"{item.kind:15} {item.path}: already ingested (batch {record['batch_id']}), skipped"
    return (f"{item.kind:15} {item.path}: read {record['rows_read']:,} = loaded "
            f"{record['rows_loaded']:,} + quarantined {record['rows_quarantined']:,} + "
            f"duplicate {record['rows_duplicate']:,}")


def _run(settings, items: list[Item]) -> None:
    with _progress(len(items)) as (done, step):
        results = ingest_items(settings, items, on_done=done, progress=step)
    failed = [r for r in results if "error" in r]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(results)} files failed (see above)")


@click.command("ingest")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, path_type=Path),
              help="Mapping file (YAML) turning a department's template into the reference one.")
@click.pass_obj
def ingest(settings, kind: str, paths: tuple[Path, ...], mapping_file: Path | None) -> None:
    """Ingest files of one source KIND (CSV or Parquet; a folder ingests every file in it)."""
    try:
        mapping = load_mapping(mapping_file, kind) if mapping_file else None
        items = [Item(kind, f, mapping) for p in paths for f in data_files(p)]
    except IngestError as err:
        raise click.ClickException(str(err)) from err
    _run(settings, items)


@click.command("ingest-dir")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_obj
def ingest_dir(settings, root: Path) -> None:
    """Ingest a whole delivery folder (manifest.yaml or <kind>.csv / <kind>/ names);
    reference data first, then events."""
    try:
        items, ignored = plan_delivery(root)
    except IngestError as err:
        raise click.ClickException(str(err)) from err
    for p in ignored:
        click.echo(f"ignored (not a known source kind): {p}", err=True)
    _run(settings, items)


@click.command("quality")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.pass_obj
def quality(settings, fmt: str, output: Path | None) -> None:
    """Data-quality report per source: accounting, validity, completeness, duplicates,
    unresolved references, delivery lag, coverage and identity linkage."""
    from epicenter.ingest.quality import quality_report
    from epicenter.ingest.quality_html import render_html

    report = quality_report(settings.warehouse)
    if fmt in ("json", "html"):
        text = json.dumps(report, default=str, ensure_ascii=False, indent=1) if fmt == "json" \
            else render_html(report)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            click.echo(text)
        return
    _print_table(report, output)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def _print_table(report: dict, output: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Data quality ({report['registered_persons']:,} registered persons)")
    for name in ("source", "read", "loaded", "quarantined", "duplicate", "accounting",
                 "validity", "min compl.", "unresolved", "lag p50 h", "coverage", "linkage"):
        t.add_column(name, no_wrap=True, justify="left" if name == "source" else "right")
    for s in report["sources"]:
        lag = s["delivery_lag_hours"]
        t.add_row(s["source"], f"{s['rows_read']:,}", f"{s['rows_loaded']:,}",
                  f"{s['rows_quarantined']:,}", f"{s['rows_duplicate']:,}",
                  "ok" if s["invariant_holds"] else "BROKEN", _pct(s["validity"]),
                  _pct(min(s["completeness"].values(), default=None)),
                  f"{sum(s['unresolved_references'].values()):,}",
                  "" if not lag else f"{lag['p50']:,.1f}", _pct(s["coverage"]),
                  _pct(s["identity_linkage"]))
    sink = open(output, "w", encoding="utf-8") if output else None  # noqa: SIM115
    console = Console(file=sink, width=None if sys.stdout.isatty() and not sink else 160)
    console.print(t)
    for s in report["sources"]:
        for w in s["warnings"]:
            console.print(f"warning: {s['source']}: {w}")
    if sink:
        sink.close()


COMMANDS = [ingest, ingest_dir, quality]
