"""A profile's ``secondary:`` block narrows secondary tracing: which close contacts seed it
(``via_settings``) and which close-tier rules run on the seeds (``rules``)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from click.testing import CliRunner

from epicenter.cli import cli
from epicenter.trace import find_contacts, load_profile
from epicenter.trace import index as trace_index
from epicenter.trace.contacts import iter_contacts
from epicenter.trace.profile import PROFILE_DIR, ProfileError

from .conftest import tier
from .scenario import Scenario, ts
from .test_cli import KEYS
from .test_cli import _write as write_keyed
from .test_stream import _small_groups

AS_OF = ts("01-30 00:00")


def scoped(tmp_path, block: str, name: str = "narrow"):
    """The default profile's text with another name and a ``secondary:`` block appended."""
    text = (PROFILE_DIR / "default.yaml").read_text().replace("name: default", f"name: {name}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text + "\n" + block)
    return path


def world() -> Scenario:
    """Case X (window 01-20 00:00 to 01-23 12:00) lives with H; A sat 60 min with X at the
    noodle shop. H then spent the afternoon with S2 at an office, A with S1 at the office and
    at home with AH (A's household)."""
    s = (Scenario().venue("V1", "Noodle shop").venue("V2", "Office", "office")
         .venue("V3", "Market", "market")
         .case("X", "01-23 10:00", onset="01-22", isolation="01-23 12:00"))
    s.person("X", "hx").person("H", "hx").person("A", "ha").person("AH", "ha")
    s.stay("X", "V1", "01-21 12:00", "01-21 13:00").stay("A", "V1", "01-21 12:00", "01-21 13:00")
    s.stay("A", "V2", "01-21 14:00", "01-21 16:00").stay("S1", "V2", "01-21 14:00", "01-21 16:00")
    s.stay("H", "V3", "01-21 14:00", "01-21 16:00").stay("S2", "V3", "01-21 14:00", "01-21 16:00")
    return s


def _trace(warehouse, s: Scenario, profile, case: str = "X"):
    s.write(warehouse)
    with warehouse.open_engine() as engine:
        table = find_contacts(engine, [case], profile, as_of=AS_OF, secondary=True)
    return {(r["contact_key"], r["setting"]): r for r in table.to_pylist()}


def test_spec_scope_seeds_every_close_contact(warehouse):
    rows = _trace(warehouse, world(), "default")
    assert tier(rows, "A", "venue") == "close" and tier(rows, "H", "household") == "close"
    assert rows[("S1", "venue")]["via_key"] == "A" and rows[("S2", "venue")]["via_key"] == "H"
    assert tier(rows, "AH", "household") == "secondary"
    assert rows[("S1", "venue")]["rule"] == "default@2020.7.1:venue"


def test_only_household_contacts_seed_when_via_is_household(warehouse, tmp_path):
    profile = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [household]\n"))
    rows = _trace(warehouse, world(), profile)
    # the venue-close contact A stays a close contact but seeds nothing
    assert tier(rows, "A", "venue") == "close"
    assert ("S1", "venue") not in rows and ("AH", "household") not in rows
    # the household contact H does, with every close rule
    s2 = rows[("S2", "venue")]
    assert s2["tier"] == "secondary" and s2["via_key"] == "H"
    # another scope is another profile: its rows say so, direct rows included
    assert s2["rule"].startswith("narrow@2020.7.1+s.") and s2["rule"].endswith(":venue")
    assert rows[("A", "venue")]["rule"] == s2["rule"]


def test_rules_limit_what_is_traced_from_the_seeds(warehouse, tmp_path):
    profile = load_profile(scoped(tmp_path, "secondary:\n  rules: [household, hotel_room]\n"))
    rows = _trace(warehouse, world(), profile)
    assert tier(rows, "AH", "household") == "secondary" and rows[("AH", "household")]["via_key"] == "A"
    assert ("S1", "venue") not in rows and ("S2", "venue") not in rows
    assert rows[("AH", "household")]["rule"].endswith(":household")


def test_a_contact_close_in_two_settings_seeds_from_its_first_listed_exposure(warehouse, tmp_path):
    # A: close to X at the noodle shop (01-21 12:00) and on a sealed train (01-22 08:00); A
    # met S1 at the office in between (01-21 14:00) and S3 at the market after the train
    s = world().leg("X", "G7", "01A", "01-22 08:00", "01-22 09:00").leg(
        "A", "G7", "09C", "01-22 08:00", "01-22 09:00")
    s.stay("A", "V3", "01-22 13:00", "01-22 14:00").stay("S3", "V3", "01-22 13:00", "01-22 14:00")
    s.write(warehouse)
    rail = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [rail, flight]\n", "rail"))
    both = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [venue, rail]\n", "both"))
    with warehouse.open_engine() as engine:
        def run(p):
            t = find_contacts(engine, ["X"], p, as_of=AS_OF, secondary=True)
            return {(r["contact_key"], r["setting"]): r for r in t.to_pylist()}
        by_rail, by_both, spec = run(rail), run(both), run("default")
    assert tier(by_rail, "A", "rail") == "close" and tier(by_rail, "A", "venue") == "close"
    # seeded by the train only: from 01-22 08:00, so the office afternoon before is out
    assert ("S1", "venue") not in by_rail and tier(by_rail, "S3", "venue") == "secondary"
    # any listed setting seeds, from the first exposure among them: the noodle shop
    assert tier(by_both, "S1", "venue") == "secondary" and tier(by_both, "S3", "venue") == "secondary"
    # a seed in two settings is traced once, as with the spec's scope; H (household) is none
    def via(rows, key):
        return sorted((k, v["first_exposure"]) for k, v in rows.items() if v["via_key"] == key)
    assert via(by_both, "A") == via(spec, "A") and len(via(spec, "A")) == 3
    assert via(by_both, "H") == [] and via(spec, "H") != []


def test_a_block_that_narrows_nothing_is_the_spec_profile(warehouse, tmp_path):
    everything = ("secondary:\n  via_settings: [household, hotel_room, venue, rail, flight]\n"
                  "  rules: [household, hotel_room, venue, rail_sealed, rail, flight]\n")
    full = load_profile(scoped(tmp_path, everything, "default"))
    assert full.ref == load_profile("default").ref == "default@2020.7.1"
    s = world()
    s.write(warehouse)
    with warehouse.open_engine() as engine:
        a = find_contacts(engine, ["X"], full, as_of=AS_OF, secondary=True)
        b = find_contacts(engine, ["X"], "default", as_of=AS_OF, secondary=True)
    assert a.num_rows >= 5 and a.equals(b)


def test_the_scope_is_part_of_the_profile_identity(tmp_path):
    a = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [household, rail]\n", "a"))
    b = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [rail, household]\n", "b"))
    c = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [household]\n", "c"))
    # the digest is of the scope itself (order-free), not of the file
    assert a.ref.split("+")[1] == b.ref.split("+")[1] != c.ref.split("+")[1]
    # shipped profiles carry no block: their identity and rows are the spec's
    for name in ("default", "lookback4", "who"):
        p = load_profile(name)
        assert p.secondary is None and p.ref == f"{p.name}@{p.version}"
        assert [r.id for r in p.secondary_rules()] == [r.id for r in p.close_rules()]


@pytest.mark.parametrize(("block", "message"), [
    ("secondary:\n  via_settings: [bus]\n", r"secondary\.via_settings\.0: Input should be"),
    ("secondary:\n  via_settings: [cell]\n", r"no rule of this profile makes a close contact in "
                                            r"setting 'cell'"),
    ("secondary:\n  rules: [venue, tram]\n", r"secondary\.rules: unknown rule id 'tram'"),
    ("secondary:\n  rules: [payment]\n", r"rule 'payment' never yields the close tier"),
    ("secondary:\n  rules: []\n", r"secondary\.rules: List should have at least 1 item"),
    ("secondary:\n  via: [household]\n", r"secondary\.via: Extra inputs are not permitted"),
    ("secondery:\n  via_settings: [household]\n", r"secondery: Extra inputs are not permitted"),
])
def test_invalid_blocks_name_the_file_and_the_key(tmp_path, block, message):
    path = scoped(tmp_path, block)
    with pytest.raises(ProfileError, match=message) as err:
        load_profile(path)
    assert str(path) in str(err.value)


def test_who_profile_rules_are_checked_against_its_own_rules(tmp_path):
    # WHO has no sealed-train rule: naming it is an error there, not in the default profile
    text = (PROFILE_DIR / "who.yaml").read_text()
    path = tmp_path / "who_narrow.yaml"
    path.write_text(text + "\nsecondary:\n  rules: [household, rail_sealed]\n")
    with pytest.raises(ProfileError, match=r"unknown rule id 'rail_sealed'.*'household', 'hotel_room'"):
        load_profile(path)


@pytest.mark.spark
def test_narrowed_secondary_parity_on_spark(warehouse, tmp_path):
    s = world().leg("X", "G7", "01A", "01-22 08:00", "01-22 09:00").leg(
        "A", "G7", "09C", "01-22 08:00", "01-22 09:00")
    s.stay("A", "V3", "01-22 13:00", "01-22 14:00").stay("S3", "V3", "01-22 13:00", "01-22 14:00")
    s.write(warehouse)
    profile = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [household, rail]\n"
                                            "  rules: [household, venue]\n"))
    results = []
    for name in ("duckdb", "spark"):
        with warehouse.open_engine(name) as engine:
            results.append(find_contacts(engine, ["X"], profile, as_of=AS_OF, secondary=True))
    rows = [sorted(str(r) for r in t.to_pylist()) for t in results]
    second = {(r["contact_key"], r["via_key"]) for r in results[0].to_pylist()
              if r["tier"] == "secondary"}
    assert second == {("S2", "H"), ("S3", "A"), ("AH", "A")}
    assert rows[0] == rows[1]


def test_cli_takes_a_profile_path_and_reports_a_bad_one(settings, warehouse, tmp_path):
    write_keyed(warehouse)  # P infects Q at home; Q then meets R at a restaurant, A on a train
    args = ["--home", str(settings.home), "contacts", "--case", KEYS["P"], "--as-of",
            "2020-01-30", "--secondary", "--format", "json", "--profile"]
    path = scoped(tmp_path, "secondary:\n  rules: [household, rail_sealed, rail]\n")
    result = CliRunner().invoke(cli, [*args, str(path)])
    assert result.exit_code == 0, result.output
    rows = {(r["contact_key"], r["tier"], r["via_key"]) for r in json.loads(result.output)}
    assert rows == {(KEYS["Q"], "close", None), (KEYS["A"], "secondary", KEYS["Q"])}
    spec = CliRunner().invoke(cli, [*args, "default"])
    assert (KEYS["R"], "secondary", KEYS["Q"]) in {
        (r["contact_key"], r["tier"], r["via_key"]) for r in json.loads(spec.output)}
    bad = scoped(tmp_path, "secondary:\n  via_settings: [household, tram]\n", "bad")
    result = CliRunner().invoke(cli, [*args, str(bad)])
    assert result.exit_code == 2 and str(bad) in result.output
    assert "secondary.via_settings.1" in result.output


@pytest.mark.parametrize("indexed", [False, True], ids=["plain", "index"])
def test_narrowed_rows_do_not_depend_on_grouping_or_index(warehouse, monkeypatch, tmp_path, indexed):
    s = world().case("A", "01-24 10:00", onset="01-23").person("Z", "hz")
    s.stay("Z", "V1", "01-22 12:00", "01-22 13:00").stay("A", "V1", "01-22 12:00", "01-22 13:00")
    s.write(warehouse)
    profile = load_profile(scoped(tmp_path, "secondary:\n  via_settings: [household, venue]\n"
                                            "  rules: [household, venue]\n"))
    with warehouse.open_engine() as engine:
        if indexed:
            assert trace_index.register(engine, warehouse, build=True) is True
        whole = find_contacts(engine, ["X", "A"], profile, as_of=AS_OF, secondary=True)
        _small_groups(monkeypatch)
        parts = list(iter_contacts(engine, ["X", "A"], profile, as_of=AS_OF, secondary=True))
    assert len(parts) == 2 and pa.concat_tables(parts).equals(whole)
    second = {(r["case_key"], r["contact_key"]) for r in whole.to_pylist() if r["tier"] == "secondary"}
    # A's own close contacts (AH, S1, Z) are never its secondary ones; X's household is
    assert second == {("X", "S1"), ("X", "S2"), ("X", "AH"), ("X", "Z"), ("A", "H")}
