"""The ground truth agrees with the delivered sources, and the epidemic and the mobility
behave as specified."""

from __future__ import annotations

import collections
import datetime as dt
import math

import numpy as np
import pytest
from synth_helpers import dirty_lines, read_kind, read_rows

from epicenter.synth.disease import Disease
from epicenter.synth.params import SynthParams
from epicenter.synth.scans import DEFAULT_DWELL

T = dt.datetime.fromisoformat


def _clean(city, kind: str) -> list[dict]:
    """Rows of a kind minus the listed dirty lines."""
    dirty = dirty_lines(city)
    files = [city / f"{kind}.csv"] if (city / f"{kind}.csv").exists() else sorted((city / kind).glob("*.csv"))
    out = []
    for f in files:
        rel = f.relative_to(city).as_posix()
        out += [r for i, r in enumerate(read_rows(f), start=2) if (rel, i) not in dirty]
    return out


@pytest.fixture(scope="module")
def infections(city):
    return read_rows(city / "truth" / "infections.csv")


@pytest.fixture(scope="module")
def phone_owner(city):
    return {r["phone"]: r["id_no"] for r in read_rows(city / "truth" / "persons.csv") if r["phone"]}


@pytest.fixture(scope="module")
def scan_intervals(city, phone_owner):
    """Visit intervals as ingestion derives them: in..out, or in + the category's dwell."""
    category = {v["venue_code"]: v["category"] for v in read_rows(city / "venue.csv")}
    scans = sorted(_clean(city, "venue_scan"), key=lambda r: r["scan_time"])
    out = collections.defaultdict(list)
    open_in: dict = {}
    for s in scans:
        who = s["id_no"] or phone_owner.get(s["phone"])
        key = (who, s["venue_code"])
        if s["direction"] == "in":
            t = T(s["scan_time"])
            open_in[key] = t
            out[key].append([t, t + dt.timedelta(minutes=DEFAULT_DWELL[category[s["venue_code"]]])])
        elif key in open_in:
            out[key][-1][1] = T(s["scan_time"])
    return out


def test_epidemic_size(summary):
    assert 20 <= summary["infections"] <= 400
    assert summary["settings"]["household"] > 0
    assert summary["settings"]["venue"] + summary["settings"]["workplace"] > 0


def test_recorded_infections_are_in_the_sources(city, infections, scan_intervals):
    persons = read_rows(city / "person.csv")
    address = {p["id_no"]: p["home_address"] for p in persons}
    rooms = collections.defaultdict(list)
    for h in _clean(city, "hotel_stay"):
        rooms[(h["id_no"], f"{h['venue_code']}/{h['room_no']}")].append(h)
    tickets = {(r["id_no"], f"{r['train_no']}/{r['travel_date']}/{r['car_no']}")
               for r in _clean(city, "rail_ticket")}
    tickets |= {(r["id_no"], f"{r['flight_no']}/{r['flight_date']}") for r in _clean(city, "flight_ticket")}
    recorded = [i for i in infections if i["recorded"] == "true"]
    assert len(recorded) >= 5
    for inf in recorded:
        a, b, t, place = inf["infector_id_no"], inf["infectee_id_no"], T(inf["infection_time"]), inf["place_id"]
        assert a and b
        setting = inf["setting"]
        if setting == "household":
            assert address[a] and address[a] == address[b], inf
        elif setting == "hotel_room":
            for who in (a, b):
                assert any(T(h["checkin_time"]) <= t and (not h["checkout_time"] or t <= T(h["checkout_time"]))
                           for h in rooms[(who, place)]), inf
        elif setting in ("rail", "flight"):
            assert (a, place) in tickets and (b, place) in tickets, inf
        else:
            assert setting in ("venue", "workplace", "school"), inf
            for who in (a, b):
                assert any(s <= t <= e for s, e in scan_intervals[(who, place)]), (inf, who)


def test_every_infection_at_a_place_has_both_persons_present(city, infections):
    present = collections.defaultdict(list)
    for f in sorted((city / "truth" / "presence").glob("*.csv")):
        for r in read_rows(f):
            present[(r["id_no"], r["place_id"])].append((T(r["start_time"]), T(r["end_time"])))
    placed = [i for i in infections if i["place_id"] and T(i["infection_time"]) >= T("2020-01-10 00:00:00")]
    assert placed
    for inf in placed:
        t = T(inf["infection_time"])
        for who in (inf["infector_id_no"], inf["infectee_id_no"]):
            assert any(s <= t <= e for s, e in present[(who, inf["place_id"])]), inf


def test_unrecorded_infections_say_why(infections):
    for inf in infections:
        assert (inf["recorded"] == "true") == (inf["unrecorded_reason"] == ""), inf
    reasons = {i["unrecorded_reason"] for i in infections}
    assert "seed" in reasons
    assert reasons <= {"", "seed", "imported", "unobserved_setting", "not_scanned",
                       "scan_interval_misses_time", "home_address_missing",
                       "not_registered_at_hotel"}


def test_incubation_in_the_city(city):
    cases = [c for c in read_rows(city / "truth" / "cases.csv") if c["onset_date"]]
    days = [(dt.datetime.fromisoformat(c["onset_date"]) + dt.timedelta(hours=12)
             - T(c["infection_time"])).total_seconds() / 86400 for c in cases]
    assert len(days) >= 15
    assert 4.0 <= np.mean(days) <= 6.5
    assert all(d > -0.6 for d in days)


def test_incubation_distribution():
    p = SynthParams(persons=1000, days=1, seed=3)
    dis = Disease(p, 20_000, np.zeros(20_000, dtype=int), 1)
    dis.infect(np.arange(20_000), np.zeros(20_000))
    inc = dis.incubation
    assert 4.9 <= inc.mean() <= 5.5  # lognormal mean 5.2 days (Li et al. 2020)
    assert 11.5 <= np.percentile(inc, 95) <= 13.5
    assert 0.27 <= dis.asymptomatic.mean() <= 0.33


def test_case_reports_progress(city):
    reports = collections.defaultdict(list)
    for r in sorted(_clean(city, "case_report"), key=lambda r: r["report_time"]):
        reports[r["id_no"]].append(r["status"])
    assert reports
    for statuses in reports.values():
        assert statuses[0] in ("suspected", "asymptomatic")
        if "confirmed" in statuses or "excluded" in statuses:
            assert statuses[0] == "suspected"
    detected = {c["id_no"] for c in read_rows(city / "truth" / "cases.csv") if c["detected"] == "true"}
    assert detected <= set(reports)


def test_festival_exodus_visible_in_trips(city):
    trips = read_rows(city / "truth" / "trips.csv")
    end = T("2020-01-17 00:00:00")
    away = sum(1 for t in trips if t["origin_city"] == "420100" and T(t["depart_time"]) < end)
    back = sum(1 for t in trips if t["origin_city"] == "420100" and t["return_time"])
    assert away > 3 * max(back, 1)  # before the festival people leave; few come back yet
    states = collections.defaultdict(collections.Counter)
    for r in read_rows(city / "truth" / "household_states.csv"):
        states[r["date"]][r["state"]] += 1
    first, last = states["2020-01-10"], states["2020-01-16"]
    assert last["away_festival"] > 1.5 * first["away_festival"] > 0  # the exodus builds up
    assert first["vacant_long"] > 0
    for t in trips:  # the mode is the vehicle's (a city without an airport is reached by rail)
        v = t["vehicle_no"]
        kind = "car" if not v else "rail" if v[0] in "GDKTZ" else "flight"
        assert t["mode"] == kind, t


def test_cell_records_show_ping_pong(city):
    rows = [r for r in _clean(city, "cell_signaling") if r["start_time"].startswith("2020-01-13")]
    short = [r for r in rows if 0 < (T(r["end_time"]) - T(r["start_time"])).total_seconds() < 120]
    assert len(short) > 10
    pings = [r for r in _clean(city, "cell_ping") if r["event_time"].startswith("2020-01-13")]
    by_phone = collections.defaultdict(list)
    for r in pings:
        by_phone[r["phone"]].append(T(r["event_time"]))
    gaps = [(b - a).total_seconds() for ts in by_phone.values() for a, b in zip(ts, ts[1:], strict=False)]
    assert np.median(gaps) < 30 * 60


def test_venue_scans_incomplete_and_few_outs(city, summary):
    scans = read_kind(city, "venue_scan")
    outs = sum(r["direction"] == "out" for r in scans)
    ins = sum(r["direction"] == "in" for r in scans)
    assert 0.15 < outs / ins < 0.6
    occupancy = read_rows(city / "truth" / "venue_occupancy.csv")
    assert len(occupancy) > 100
    assert all(math.isfinite(v) for v in summary["counts"].values())


def test_rail_seats_follow_the_car_layout(city):
    tickets = _clean(city, "rail_ticket")
    assert tickets
    for r in tickets:
        sealed = r["train_no"][0] in "GDC"
        if sealed:
            assert r["seat_no"][-1] in "ABCDF" and r["seat_no"][:-1].isdigit()
        else:
            assert r["seat_no"].isdigit() and 1 <= int(r["seat_no"]) <= 118
    seats = collections.Counter((r["train_no"], r["travel_date"], r["car_no"], r["seat_no"]) for r in tickets)
    assert max(seats.values()) == 1


def test_isolated_cases_do_not_board_their_booked_trains(city):
    """A case isolated in hospital keeps its sold ticket (the rail_ticket row is delivered)
    but does not travel: no vehicle presence while isolated. Release comes 14-21 days after
    confirmation, so the first 14 days after isolation are isolation for sure."""
    iso = {r["id_no"]: T(r["isolation_time"]) for r in read_rows(city / "truth" / "cases.csv")
           if r["isolation_time"]}
    in_isolation = lambda who, t: who in iso and iso[who] <= t < iso[who] + dt.timedelta(days=14)  # noqa: E731
    sold = [r for r in _clean(city, "rail_ticket") if in_isolation(r["id_no"], T(r["dep_time"]))]
    assert sold, "the test city should have a ticket booked by a case for after its isolation"
    for f in sorted((city / "truth" / "presence").glob("*.csv")):
        for r in read_rows(f):
            if r["place_kind"] == "vehicle":
                assert not in_isolation(r["id_no"], T(r["start_time"])), r
