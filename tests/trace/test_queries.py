"""near, cotravel, source tracing and chains on tiny hand-built scenarios."""

from __future__ import annotations

import datetime as dt

from epicenter.schema import TABLES
from epicenter.trace.chains import build_chains, to_graphml
from epicenter.trace.cotravel import cotravel
from epicenter.trace.near import near
from epicenter.trace.source import candidate_links

from .scenario import Scenario, ts


def test_near_a_venue_lists_presence_intervals_clipped_to_the_window(warehouse):
    s = Scenario().venue("V1", "Noodle shop").venue("V2", "Far away")
    s.stay("A", "V1", "01-20 11:30", "01-20 12:30").stay("A", "V1", "01-21 18:00", "01-21 19:00")
    s.stay("B", "V1", "01-19 10:00", "01-19 11:00").stay("C", "V2", "01-20 12:00", "01-20 13:00")
    s.stay("H", "V1/201", "01-10 20:00", None, kind="hotel_room")
    s.write(warehouse)
    with warehouse.open_engine() as e:
        rows = near(e, ts("01-20 12:00"), ts("01-22 00:00"), venue="V1").to_pylist()
    got = {r["person_key"]: r for r in rows}
    assert set(got) == {"A", "H"}
    assert got["A"]["intervals"] == "2020-01-20 12:00/12:30; 2020-01-21 18:00/19:00"
    assert got["A"]["minutes"] == 90 and got["A"]["n_stays"] == 2
    assert got["H"]["place_name"] == "Noodle shop room 201" and got["H"]["minutes"] == 36 * 60


def test_near_a_point_uses_the_radius(warehouse):
    s = Scenario()
    s.rows["venue"] += [{"venue_code": "N", "name": "Near", "category": "market", "lon": 120.0, "lat": 30.0},
                        {"venue_code": "F", "name": "Far", "category": "market", "lon": 120.01, "lat": 30.0}]
    s.rows["cell_tower"] = [{"cell_id": "c1", "lon": 120.001, "lat": 30.0, "radius_m": 300.0}]
    s.stay("A", "N", "01-20 12:00", "01-20 13:00").stay("B", "F", "01-20 12:00", "01-20 13:00")
    s.stay("C", "c1", "01-20 12:00", "01-20 13:00", kind="cell")
    s.write(warehouse)
    with warehouse.open_engine() as e:
        rows = near(e, ts("01-20 00:00"), ts("01-21 00:00"), lon=120.0, lat=30.0, radius_m=500).to_pylist()
    assert sorted((r["person_key"], r["place_kind"]) for r in rows) == [("A", "venue"), ("C", "cell")]
    assert set(TABLES["cell_tower"].names) >= {"cell_id", "lon", "lat"}


def test_cotravel_lists_the_car_and_tiers_against_a_case(warehouse):
    s = Scenario().case("X", "01-23 10:00", onset="01-22")
    s.leg("X", "K511", "10F", "01-21 08:00", "01-21 12:00")
    s.leg("A", "K511", "12A", "01-21 08:00", "01-21 12:00").leg("B", "K511", "14A", "01-21 08:00", "01-21 12:00")
    s.leg("C", "K511", "10A", "01-21 08:00", "01-21 12:00", car="06")
    s.leg("D", "K511", "11A", "01-22 08:00", "01-22 12:00")
    s.write(warehouse)
    with warehouse.open_engine() as e:
        plain = cotravel(e, "K511", dt.date(2020, 1, 21), "rail").to_pylist()
        car = cotravel(e, "K511", dt.date(2020, 1, 21), "rail", car="05", case_key="X").to_pylist()
    assert sorted(r["person_key"] for r in plain) == ["A", "B", "C", "X"]
    assert {r["person_key"]: r["tier"] for r in car} == {"X": "case", "A": "close", "B": "general"}
    assert [r["seat_row"] for r in car] == [10, 12, 14]


def _outbreak() -> Scenario:
    """P infects Q at home (Q's onset 5 days later); Q meets R at a restaurant; a stranger
    case S shares only a brief venue visit with R; U is unrelated."""
    s = Scenario().venue("V1", "Noodle shop").venue("V2", "Bar")
    s.person("P", "h1").person("Q", "h1")
    s.case("P", "01-12 10:00", onset="01-10", isolation="01-12 10:00")
    s.case("Q", "01-16 09:00", onset="01-15", isolation="01-16 09:00")
    s.case("R", "01-22 09:00", onset="01-21", isolation="01-22 09:00")
    s.case("S", "01-20 09:00", onset="01-19", isolation="01-20 09:00")
    s.case("U", "01-21 09:00", onset="01-20")
    s.stay("Q", "V1", "01-15 19:00", "01-15 21:00").stay("R", "V1", "01-15 19:00", "01-15 21:00")
    s.stay("S", "V2", "01-18 19:00", "01-18 19:05").stay("R", "V2", "01-18 19:00", "01-18 19:30")
    return s


def test_source_ranks_the_household_infector_and_the_long_exposure_first(warehouse):
    _outbreak().write(warehouse)
    with warehouse.open_engine() as e:
        ranked = candidate_links(e, ["Q", "R"], as_of=ts("01-30 00:00")).to_pylist()
    q = [r for r in ranked if r["infectee_key"] == "Q"]
    r_ = [r for r in ranked if r["infectee_key"] == "R"]
    assert [(c["candidate_key"], c["setting"], c["rank"]) for c in q] == [("P", "household", 1)]
    assert [c["candidate_key"] for c in r_] == ["Q", "S"]
    # shares leave room for an unknown infector (profile's unknown_source_weight)
    assert r_[0]["share"] > 0.5 > r_[1]["share"] and sum(c["share"] for c in r_) < 1
    assert 4 < r_[0]["delay_days"] < 6
    assert "venue_scan" in r_[0]["evidence"]


def test_chains_link_p_q_r_into_one_cluster_of_three_generations(warehouse):
    _outbreak().write(warehouse)
    with warehouse.open_engine() as e:
        chains = build_chains(e, as_of=ts("01-30 00:00"))
    big = chains["clusters"][0]
    assert (big["index_case"], big["size"], big["generations"]) == ("P", 3, 3)
    assert big["settings"] == "household,venue" and big["span_days"] == 11
    st = chains["statistics"]
    assert st["independent_chains"] == 3  # {P,Q,R}, {S}, {U}
    assert st["share_known_contacts"] == round(2 / 5, 4)
    assert st["onset_before_primary"] == 0 and st["long_onset_gaps"] == 0
    assert 'source="P" target="Q"' in to_graphml(chains)
