"""Secondary contacts, profiles, as-of, unknown cases and the all-pairs (targets) mode."""

from __future__ import annotations

import pytest

from epicenter.trace import UnknownCase, find_contacts, load_profile
from epicenter.trace.profile import available_profiles

from .conftest import tier
from .scenario import Scenario, ts


def world() -> Scenario:
    return (Scenario().venue("V1", "Noodle shop").venue("V2", "Office", "office")
            .case("X", "01-23 10:00", onset="01-22", isolation="01-23 12:00"))


def test_secondary_contacts_only_between_first_exposure_and_isolation(trace):
    s = world().stay("X", "V1", "01-21 12:00", "01-21 13:00").stay("A", "V1", "01-21 12:00", "01-21 13:00")
    s.case("A", "01-25 09:00", onset="01-24", isolation="01-25 09:00")  # A isolated 01-25 09:00
    s.stay("A", "V2", "01-21 09:00", "01-21 11:00").stay("S1", "V2", "01-21 09:00", "01-21 11:00")
    s.stay("A", "V2", "01-22 09:00", "01-22 11:00").stay("S2", "V2", "01-22 09:00", "01-22 11:00")
    s.stay("A", "V2", "01-26 09:00", "01-26 11:00").stay("S3", "V2", "01-26 09:00", "01-26 11:00")
    s.stay("A", "V2", "01-22 13:00", "01-22 13:05").stay("S4", "V2", "01-22 13:00", "01-22 13:05")
    rows = trace(s, "X", secondary=True)
    assert tier(rows, "A", "venue") == "close"
    assert ("S1", "venue") not in rows  # before A met X
    assert tier(rows, "S2", "venue") == "secondary" and rows[("S2", "venue")]["via_key"] == "A"
    assert ("S3", "venue") not in rows  # after A's isolation
    assert ("S4", "venue") not in rows  # only a brief (general) exposure to A
    assert rows[("A", "venue")]["via_key"] is None


def test_secondary_of_unisolated_contact_runs_to_as_of(trace):
    s = world().stay("X", "V1", "01-21 12:00", "01-21 13:00").stay("A", "V1", "01-21 12:00", "01-21 13:00")
    s.stay("A", "V2", "01-26 09:00", "01-26 11:00").stay("S3", "V2", "01-26 09:00", "01-26 11:00")
    assert tier(trace(s, "X", secondary=True, as_of="01-27 00:00"), "S3", "venue") == "secondary"


def test_secondary_outranks_weaker_direct_exposure_in_the_same_setting(warehouse):
    s = world().stay("X", "V1", "01-21 12:00", "01-21 13:00").stay("A", "V1", "01-21 12:00", "01-21 14:00")
    s.stay("B", "V1", "01-21 12:55", "01-21 14:00")  # general to X (5 min), close to A (65 min)
    s.write(warehouse)
    with warehouse.open_engine() as engine:
        rows = find_contacts(engine, ["X"], as_of=ts("01-30 00:00"), secondary=True).to_pylist()
    b = [(r["tier"], r["via_key"], r["overlap_minutes"]) for r in rows if r["contact_key"] == "B"]
    assert b == [("secondary", "A", 65.0)]


def test_lookback4_profile_widens_the_window(trace, warehouse):
    s = world().stay("X", "V1", "01-19 12:00", "01-19 13:00").stay("A", "V1", "01-19 12:00", "01-19 13:00")
    assert ("A", "venue") not in trace(s, "X")
    with warehouse.open_engine() as engine:
        rows = find_contacts(engine, ["X"], "lookback4", as_of=ts("01-30 00:00")).to_pylist()
    assert [(r["contact_key"], r["tier"], r["rule"]) for r in rows] == [
        ("A", "close", "lookback4@2022.9.1:venue")]


def test_who_profile_maps_1m_to_adjacent_rows_and_ignores_cells(trace, warehouse):
    s = world().leg("X", "CA1", "10A", "01-21 08:00", "01-21 10:00", mode="flight", car=None)
    s.leg("A", "CA1", "11A", "01-21 08:00", "01-21 10:00", mode="flight", car=None)
    s.leg("B", "CA1", "12A", "01-21 08:00", "01-21 10:00", mode="flight", car=None)
    s.stay("X", "cell1", "01-21 15:00", "01-21 16:00", kind="cell")
    s.stay("C", "cell1", "01-21 15:00", "01-21 16:00", kind="cell")
    s.write(warehouse)
    with warehouse.open_engine() as engine:
        rows = {r["contact_key"]: r for r in find_contacts(
            engine, ["X"], load_profile("who"), as_of=ts("01-30 00:00")).to_pylist()}
    assert rows["A"]["tier"] == "close" and rows["B"]["tier"] == "general"
    assert rows["A"]["rule"] == "who@2021.1:flight"
    assert "C" not in rows


def test_profiles_are_data(tmp_path):
    assert available_profiles() == ["default", "lookback4", "who"]
    text = (load_profile.__globals__["PROFILE_DIR"] / "default.yaml").read_text()
    custom = tmp_path / "strict.yaml"
    custom.write_text(text.replace("name: default", "name: strict").replace(
        "at_least_minutes: 15", "at_least_minutes: 30"))
    p = load_profile(custom)
    assert p.name == "strict" and p.rules[2].thresholds[0].at_least_minutes == 30
    with pytest.raises(ValueError, match="unknown contact profile"):
        load_profile("nope")


def test_as_of_hides_what_was_not_yet_known(trace):
    s = world().stay("X", "V1", "01-21 12:00", "01-21 13:00").stay("A", "V1", "01-21 12:00", "01-21 13:00")
    assert trace(s, "X", as_of="01-21 11:00") == {}


def test_unknown_case_is_an_error(warehouse):
    world().write(warehouse)
    with warehouse.open_engine() as engine, pytest.raises(UnknownCase, match="no case report"):
        find_contacts(engine, ["nobody"], as_of=ts("01-30 00:00"))


def test_targets_and_time_buckets_give_the_same_answer(warehouse):
    s = world().case("Y", "01-24 10:00", onset="01-23")
    s.stay("X", "cellH", "01-21 06:00", "01-21 23:00", kind="cell")
    for i in range(12):  # a hot cell: many overlapping stays across bucket edges
        s.stay(f"P{i}", "cellH", f"01-21 {6 + i:02d}:50", f"01-21 {7 + i:02d}:10", kind="cell")
    s.stay("Y", "cellH", "01-21 09:55", "01-21 12:05", kind="cell")
    s.stay("Y", "V1", "01-21 12:00", "01-21 13:00").stay("X", "V1", "01-21 12:00", "01-21 12:30")
    s.write(warehouse)
    with warehouse.open_engine() as engine:
        def run(**kw):
            t = find_contacts(engine, ["X", "Y"], as_of=ts("01-30 00:00"), **kw)
            return sorted(map(str, t.drop_columns(["evidence"]).to_pylist()))
        everyone = run()
        among_cases = run(targets=["X", "Y"])
        bucketed = run(targets=["X", "Y"], bucket_minutes=60)
        all_bucketed = run(bucket_minutes=60)
    assert among_cases == bucketed
    assert all_bucketed == everyone
    assert len(everyone) > len(among_cases) == 4  # X<->Y at the cell and the venue
