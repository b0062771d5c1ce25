"""Contact-tracing commands: contacts, near, cotravel, source, chains.

Thin on purpose: parse, resolve identifiers, call ``epicenter.trace``, render.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import click
import pyarrow as pa

from epicenter.cli.output import FORMATS, emit, format_option, output_option
from epicenter.settings import Settings

_KEY = re.compile(r"[0-9a-f]{64}")


def resolve_case(settings: Settings, ident: str) -> str:
    """A person_key as given, or the pseudonym of an id_no or phone."""
    ident = ident.strip()
    if _KEY.fullmatch(ident):
        return ident
    from epicenter.ingest.identity import resolve_key  # ingestion owns identity resolution

    return resolve_key(settings, ident)


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _engine(settings: Settings):
    return settings.warehouse.open_engine(settings.engine)


def _profile(settings: Settings, name: str | None):
    from epicenter.trace import load_profile

    try:
        return load_profile(name or settings.contact_profile)
    except ValueError as err:
        raise click.UsageError(str(err)) from err


def _reveal(settings: Settings, table: pa.Table, reason: str | None) -> pa.Table:
    if not reason:
        raise click.UsageError("--reveal needs --reason TEXT (it is recorded in the audit log)")
    from epicenter.ingest.identity import reveal

    keys = table.column("contact_key").to_pylist()
    clear = {r["person_key"]: r for r in reveal(settings, keys, reason).to_pylist()}
    id_no = [clear.get(k, {}).get("id_no") for k in keys]
    phone = [clear.get(k, {}).get("phone") for k in keys]
    return table.append_column("id_no", pa.array(id_no, pa.string())).append_column(
        "phone", pa.array(phone, pa.string()))


@click.command()
@click.option("--case", "cases", multiple=True, help="id_no, phone or person_key (repeatable).")
@click.option("--cases-file", type=click.Path(exists=True, path_type=Path),
              help="File with one case identifier per line.")
@click.option("--profile", default=None, help="Rule profile: default, lookback4, who, or a YAML path.")
@click.option("--as-of", default=None, help="Trace as known at this local time [default: now].")
@click.option("--secondary", is_flag=True, help="Also trace secondary close contacts.")
@click.option("--reveal", is_flag=True, help="Add id_no and phone (audited; needs --reason).")
@click.option("--reason", default=None, help="Why identifiers are revealed (audit log).")
@format_option()
@output_option()
@click.pass_obj
def contacts(settings: Settings, cases, cases_file, profile, as_of, secondary, reveal, reason,
             fmt, output) -> None:
    """Close, companion, general (and secondary) contacts of cases, with evidence and rule.

    Rows are written as each group of cases is traced (secondary tracing of many cases
    answers millions of rows); ``table`` shows the first 200 and counts the rest."""
    from epicenter.cli.stream_output import emit_stream
    from epicenter.trace import UnknownCase
    from epicenter.trace.contacts import empty_contacts, iter_contacts

    idents = list(cases)
    if cases_file:
        idents += [ln.strip() for ln in cases_file.read_text().splitlines() if ln.strip()]
    if not idents:
        raise click.UsageError("give --case ID or --cases-file FILE")
    if reveal and not reason:
        raise click.UsageError("--reveal needs --reason TEXT (it is recorded in the audit log)")
    keys = [resolve_case(settings, i) for i in idents]
    schema = empty_contacts().schema
    if reveal:
        schema = schema.append(pa.field("id_no", pa.string())).append(pa.field("phone", pa.string()))
    with _engine(settings) as engine:
        _use_index(settings, engine)
        tables = iter_contacts(engine, keys, _profile(settings, profile), _time(as_of), secondary)
        if reveal:
            tables = (_reveal(settings, t, reason) for t in tables)
        try:
            emit_stream(tables, schema, fmt, output, title="contacts")
        except UnknownCase as err:
            raise click.ClickException(str(err)) from err


@click.command()
@click.option("--venue", default=None, help="Venue code (its scans, hotel rooms and merchants).")
@click.option("--lon", type=float, default=None)
@click.option("--lat", type=float, default=None)
@click.option("--radius-m", type=float, default=None, help="Radius around lon/lat in metres.")
@click.option("--from", "start", required=True, help="Window start (local time).")
@click.option("--to", "end", required=True, help="Window end (local time).")
@format_option()
@output_option()
@click.pass_obj
def near(settings: Settings, venue, lon, lat, radius_m, start, end, fmt, output) -> None:
    """Everyone present at a venue or near a point in a window, with presence intervals."""
    from epicenter.trace.index import register
    from epicenter.trace.near import near as near_query

    with _engine(settings) as engine:
        register(engine, settings.warehouse)  # a fresh trace index answers in ms; never built here
        try:
            table = near_query(engine, _time(start), _time(end), venue, lon, lat, radius_m)
        except ValueError as err:
            raise click.UsageError(str(err)) from err
    emit(table, fmt, output, title="near")


@click.command()
@click.option("--train", default=None, help="Train number.")
@click.option("--flight", default=None, help="Flight number.")
@click.option("--date", "travel_date", required=True, help="Travel date YYYY-MM-DD.")
@click.option("--car", default=None, help="Only this car.")
@click.option("--case", "case", default=None, help="Tier passengers against this case.")
@click.option("--profile", default=None)
@format_option()
@output_option()
@click.pass_obj
def cotravel(settings: Settings, train, flight, travel_date, car, case, profile, fmt, output) -> None:
    """Passengers of a train or flight on a date (tiered against a case if given)."""
    from epicenter.trace.cotravel import cotravel as cotravel_query

    if bool(train) == bool(flight):
        raise click.UsageError("give exactly one of --train NO or --flight NO")
    key = resolve_case(settings, case) if case else None
    with _engine(settings) as engine:
        table = cotravel_query(engine, train or flight, dt.date.fromisoformat(travel_date),
                               "rail" if train else "flight", car, key, _profile(settings, profile))
    emit(table, fmt, output, title="co-travellers")


@click.command()
@click.option("--case", "case", required=True, help="id_no, phone or person_key of the infectee.")
@click.option("--profile", default=None)
@click.option("--as-of", default=None)
@click.option("--top", type=int, default=10, show_default=True, help="Candidates shown.")
@format_option()
@output_option()
@click.pass_obj
def source(settings: Settings, case, profile, as_of, top, fmt, output) -> None:
    """Candidate infectors among known cases, ranked by likelihood, with evidence."""
    from epicenter.trace.source import candidate_links

    key = resolve_case(settings, case)
    with _engine(settings) as engine:
        _use_index(settings, engine)
        try:
            table = candidate_links(engine, [key], _profile(settings, profile), _time(as_of))
        except LookupError as err:
            raise click.ClickException(str(err)) from err
    emit(table.slice(0, top), fmt, output, title="candidate infectors")


@click.command()
@click.option("--profile", default=None)
@click.option("--as-of", default=None)
@format_option("table", FORMATS + ("graphml",))
@output_option()
@click.pass_obj
def chains(settings: Settings, profile, as_of, fmt, output) -> None:
    """Transmission clusters (size, generations, index case, settings, span) and statistics."""
    from epicenter.trace.chains import build_chains, links_table, to_graphml

    with _engine(settings) as engine:
        _use_index(settings, engine)
        result = build_chains(engine, _profile(settings, profile), _time(as_of))
    if fmt == "graphml":
        text = to_graphml(result)
        output.write_text(text, encoding="utf-8") if output else click.echo(text, nl=False)
    elif fmt == "json":
        text = json.dumps(result, default=str, ensure_ascii=False, indent=1)
        output.write_text(text + "\n", encoding="utf-8") if output else click.echo(text)
    elif fmt in ("csv", "parquet"):
        emit(links_table(result), fmt, output)
    else:
        clusters = [{k: v for k, v in c.items() if k != "members"} for c in result["clusters"]]
        emit(pa.Table.from_pylist(clusters) if clusters else pa.table({"cluster_id": []}),
             "table", output, title="transmission clusters", max_rows=50)
        click.echo(json.dumps(result["statistics"], indent=1))


def _use_index(settings: Settings, engine) -> None:
    """Register the trace index, building it first when missing or stale (progress on an
    interactive stderr only: piped or scripted output stays exactly the query's)."""
    import sys

    from epicenter.trace.index import register

    say = (lambda m: click.echo(m, err=True)) if sys.stderr.isatty() else None
    register(engine, settings.warehouse, build=True, progress=say)


@click.command("trace-index")
@click.pass_obj
def trace_index(settings: Settings) -> None:
    """(Re)build the trace index: memory-mapped stays by place/time and person, for fast contacts."""
    from epicenter.trace.index import build_index

    build_index(settings.warehouse, progress=click.echo)


COMMANDS = [contacts, near, cotravel, source, chains, trace_index]
