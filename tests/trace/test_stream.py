"""The streamed answer (``iter_contacts``, ``contacts`` writing as it goes) holds exactly the
rows of the whole answer, however the cases are grouped, on both engines."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from epicenter.cli import cli
from epicenter.cli.output import emit
from epicenter.cli.stream_output import emit_stream
from epicenter.trace import candidates, contacts
from epicenter.trace import index as trace_index
from epicenter.trace.contacts import TIER_ORDER, find_contacts, iter_contacts

from .scenario import ts
from .test_cli import KEYS
from .test_cli import _write as write_keyed
from .test_parity import _rows, _world

# P infects Q at home, Q meets R at a restaurant (R: P's secondary contact), X has a
# household, a hotel room, a venue, trains, a flight, a cell and a merchant
CASES = ["P", "Q", "R", "X"]
AS_OF = ts("01-30 00:00")


def _small_groups(monkeypatch, plain_seeds: int = 1) -> None:
    """One case per group, one close contact per secondary group, two seeds per query."""
    monkeypatch.setattr(contacts, "CASES_PER_QUERY", 1)
    monkeypatch.setattr(contacts, "PLAIN_SEEDS_PER_QUERY", plain_seeds)
    monkeypatch.setattr(contacts, "SECONDARY_SEEDS_PER_GROUP", 1)
    monkeypatch.setattr(candidates, "SEEDS_PER_QUERY", 2)


def _case_sets(parts: list[pa.Table]) -> list[set[str]]:
    return [set(p.column("case_key").to_pylist()) for p in parts]


@pytest.mark.parametrize("indexed", [False, True], ids=["plain", "index"])
@pytest.mark.parametrize("secondary", [False, True], ids=["direct", "secondary"])
def test_streamed_groups_hold_the_whole_answer(warehouse, monkeypatch, indexed, secondary):
    _world().write(warehouse)
    with warehouse.open_engine() as engine:
        if indexed:
            assert trace_index.register(engine, warehouse, build=True) is True
        whole = find_contacts(engine, CASES, as_of=AS_OF, secondary=secondary)
        _small_groups(monkeypatch)
        parts = list(iter_contacts(engine, CASES, as_of=AS_OF, secondary=secondary))
    assert whole.num_rows >= 12
    # every case's rows in one table, the tables in case order
    # (a case without contacts yields no table)
    sets = _case_sets(parts)
    assert all(len(s) == 1 for s in sets)
    traced = sorted(set(whole.column("case_key").to_pylist()))
    assert len(traced) >= 3 and [s.pop() for s in sets] == traced
    got = pa.concat_tables(parts)
    assert got.schema == whole.schema
    assert _rows(got) == _rows(whole)
    tiers = set(whole.column("tier").to_pylist())
    assert ("secondary" in tiers) is secondary
    # one order whatever the grouping: case, then the strongest tier first
    order = [(r["case_key"], TIER_ORDER.index(r["tier"])) for r in whole.to_pylist()]
    assert order == sorted(order) and got.equals(whole)


def test_a_case_with_many_close_contacts_is_one_group(warehouse, monkeypatch):
    _world().write(warehouse)
    with warehouse.open_engine() as engine:
        whole = find_contacts(engine, ["X"], as_of=AS_OF, secondary=True)
        _small_groups(monkeypatch)
        parts = list(iter_contacts(engine, ["X"], as_of=AS_OF, secondary=True))
    close = [r for r in whole.to_pylist() if r["tier"] == "close"]
    assert len(close) >= 3 and len(parts) == 1
    assert _rows(parts[0]) == _rows(whole)


def test_nothing_to_trace_streams_nothing(warehouse):
    _world().write(warehouse)
    with warehouse.open_engine() as engine:
        # as-of before every window: no seeds, no tables; the whole answer is empty
        assert list(iter_contacts(engine, CASES, as_of=ts("01-01 00:00"), secondary=True)) == []
        assert find_contacts(engine, CASES, as_of=ts("01-01 00:00")).num_rows == 0


@pytest.mark.spark
def test_streamed_spark_rows_equal_the_whole_duckdb_answer(warehouse, monkeypatch):
    _world().write(warehouse)
    with warehouse.open_engine("duckdb") as duck:
        whole = find_contacts(duck, CASES, as_of=AS_OF, secondary=True)
    _small_groups(monkeypatch, plain_seeds=3)  # Spark schedules jobs per query: fewer of them
    with warehouse.open_engine("spark") as spark:
        parts = list(iter_contacts(spark, CASES, as_of=AS_OF, secondary=True))
    assert len(parts) == len(set(whole.column("case_key").to_pylist())) >= 3
    assert _rows(pa.concat_tables(parts)) == _rows(whole)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "table"])
def test_cli_writes_the_stream_as_the_whole_table_would_be_written(settings, warehouse,
                                                                   monkeypatch, tmp_path, fmt):
    write_keyed(warehouse)
    cases = [KEYS["P"], KEYS["Q"], KEYS["R"]]
    with warehouse.open_engine() as engine:
        whole = find_contacts(engine, cases, as_of=ts("01-30 00:00"), secondary=True)
    assert whole.num_rows >= 5 and "secondary" in whole.column("tier").to_pylist()
    want, got = tmp_path / f"want.{fmt}", tmp_path / f"got.{fmt}"
    emit(whole, fmt, want, title="contacts")
    _small_groups(monkeypatch)
    args = ["--home", str(settings.home), "contacts", "--as-of", "2020-01-30", "--secondary",
            "--format", fmt, "-o", str(got)]
    for case in cases:
        args += ["--case", case]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    if fmt == "parquet":
        assert pq.read_table(got).equals(whole)
    else:
        assert got.read_bytes() == want.read_bytes()
    if fmt == "json":
        assert len(json.loads(got.read_text())) == whole.num_rows


def test_table_format_shows_the_first_rows_and_counts_all(warehouse, tmp_path):
    _world().write(warehouse)
    with warehouse.open_engine() as engine:
        parts = list(iter_contacts(engine, CASES, as_of=AS_OF, secondary=True))
    total = sum(p.num_rows for p in parts)
    out = tmp_path / "t.txt"
    assert emit_stream(iter(parts), parts[0].schema, "table", out, max_rows=4) == total
    text = out.read_text()
    assert f"... {total - 4} more rows" in text


def test_cli_reveal_adds_the_identifier_columns_to_every_streamed_table(settings, warehouse,
                                                                        monkeypatch):
    write_keyed(warehouse)
    with warehouse.open_engine() as engine:
        whole = find_contacts(engine, [KEYS["P"], KEYS["Q"]], as_of=ts("01-30 00:00"),
                              secondary=True)
    _small_groups(monkeypatch)
    result = CliRunner().invoke(cli, ["--home", str(settings.home), "contacts", "--case", KEYS["P"],
                                      "--case", KEYS["Q"], "--as-of", "2020-01-30", "--secondary",
                                      "--reveal", "--reason", "call the contacts",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == whole.num_rows >= 4
    # hand-built persons have no identity records: the columns are there, empty
    assert all(r.keys() >= {"id_no", "phone"} and r["id_no"] is None for r in rows)
