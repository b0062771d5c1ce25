"""Source tracing per day: acquisition seeds, the infection-to-test delay, day-level timing."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from scipy.stats import lognorm

from epicenter.trace.profile import SourceWeights, load_profile
from epicenter.trace.source import (
    Scorer,
    acquisition_seeds,
    candidate_exposures,
    candidate_links,
    community_exposures,
    score_candidates,
    venue_capacities,
)

from .scenario import Scenario, ts

W = SourceWeights(hazard_per_hour={"venue": 0.3}, test_delay_mean_days=12.0,
                  test_delay_sd_days=6.0)


def _case(key, onset=None, status="confirmed", positive="01-30 10:00", isolation=None):
    return {"person_key": key, "status": status,
            "onset_date": dt.date.fromisoformat(f"2020-{onset}") if onset else None,
            "first_positive_time": ts(positive), "isolation_time": ts(isolation) if isolation else None,
            "last_report_time": None}


def test_acquisition_seeds_cut_the_window_into_calendar_days():
    w = W.model_copy(update={"acquisition_days": 3})
    seeds = acquisition_seeds([_case("X", onset="01-20")], w).to_pylist()
    # onset noon 01-20 -> window 01-17 12:00 .. 01-20 12:00: a half day, two days, a half day
    assert [(s["case_key"], s["win_start"], s["win_end"]) for s in seeds] == [
        ("X|2020-01-17", ts("01-17 12:00"), ts("01-18 00:00")),
        ("X|2020-01-18", ts("01-18 00:00"), ts("01-19 00:00")),
        ("X|2020-01-19", ts("01-19 00:00"), ts("01-20 00:00")),
        ("X|2020-01-20", ts("01-20 00:00"), ts("01-20 12:00")),
    ]
    assert {s["seed_key"] for s in seeds} == {"X"}


def test_infectee_without_onset_is_timed_by_the_test_delay_not_the_incubation():
    s = Scorer(W)
    mean, sd = 12.0, 6.0
    sigma = math.sqrt(math.log(1 + (sd / mean) ** 2))
    ref = lognorm(s=sigma, scale=mean / math.sqrt(1 + (sd / mean) ** 2))
    asym = _case("A", status="asymptomatic")
    sympt = _case("S", onset="01-20")
    for d in (2.0, 7.5, 12.0, 20.0):
        assert s.delay_pdf(asym, d) == pytest.approx(ref.pdf(d), rel=1e-9)
        assert s.delay_pdf(sympt, d) == pytest.approx(s.incubation_pdf(d), rel=1e-12)
    # without test-delay settings an asymptomatic infectee falls back to the incubation
    plain = Scorer(SourceWeights(hazard_per_hour={}))
    assert plain.delay_pdf(asym, 7.5) == pytest.approx(plain.incubation_pdf(7.5))
    # two weeks before the test is plausible for a found-by-testing case, not for an onset
    assert s.delay_pdf(asym, 14) > 5 * s.delay_pdf(sympt, 14)


def test_exposures_come_per_day_and_are_scored_at_their_own_day(warehouse):
    """Y meets X at the same venue 10 and 2 days before X's onset. One row over the whole
    span would score both at the best point; per day, each day keeps its own timing."""
    s = Scenario().venue("V1", "Shop")
    s.case("X", "01-21 09:00", onset="01-20", isolation="01-21 09:00")
    s.case("Y", "01-19 09:00", onset="01-18", isolation="01-19 09:00")
    s.stay("X", "V1", "01-10 10:00", "01-10 11:00").stay("Y", "V1", "01-10 10:00", "01-10 11:00")
    s.stay("X", "V1", "01-18 10:00", "01-18 11:00").stay("Y", "V1", "01-18 10:00", "01-18 11:00")
    s.write(warehouse)
    profile = load_profile("default")
    with warehouse.open_engine() as e:
        exposures, known = candidate_exposures(e, ["X"], profile, ts("01-30 00:00"))
    rows = sorted(exposures.to_pylist(), key=lambda r: r["first_exposure"])
    assert [(r["case_key"], r["contact_key"], r["first_exposure"], r["overlap_minutes"])
            for r in rows] == [("X", "Y", ts("01-10 10:00"), 60.0), ("X", "Y", ts("01-18 10:00"), 60.0)]
    scorer = Scorer(profile.source)
    early, late = (scorer.exposure(r, known["X"], known["Y"])[0] for r in rows)
    assert late > 10 * early  # day 10 before onset: Y not yet infectious, X's incubation long
    ranked = score_candidates(rows, known, profile.source).to_pylist()
    assert ranked[0]["score"] == pytest.approx(early + late)
    assert ranked[0]["exposure_time"].date() == dt.date(2020, 1, 18)


def test_a_long_day_in_one_cell_takes_the_long_hazard():
    w = SourceWeights(hazard_per_hour={"cell": 0.5, "cell/long": 0.001, "venue/close": 2.0,
                                       "venue": 0.1}, long_exposure_minutes={"cell": 240})
    s = Scorer(w)

    def row(setting, tier, minutes):
        return {"setting": setting, "tier": tier, "overlap_minutes": minutes}

    assert s.hazard_key(row("cell", "companion", 240)) == "cell"  # the bound itself is short
    assert s.hazard_key(row("cell", "companion", 241)) == "cell/long"
    assert s.hazard(row("cell", "companion", 600)) == 0.001
    assert s.hazard_key(row("venue", "close", 600)) == "venue/close"  # no long bound for venues
    assert s.hazard_key(row("venue", "general", 5)) == "venue"
    # a neighbour's night in the home cell now weighs less than a one-hour shared visit
    x, y = _case("X", onset="01-20"), _case("Y", onset="01-17")
    t = {"first_exposure": ts("01-16 10:00"), "last_exposure": ts("01-16 11:00")}
    visit = s.exposure({**t, **row("cell", "companion", 60)}, x, y)[0]
    night = s.exposure({**t, **row("cell", "companion", 800)}, x, y)[0]
    assert visit > 5 * night


def test_community_candidates_are_known_cases_of_the_same_district():
    profile = load_profile("default")
    profile = profile.model_copy(update={"source": profile.source.model_copy(
        update={"community_area_digits": 6, "hazard_per_hour": {"community": 1e-4, "venue": 1.0}})})
    known = {k: {**_case(k, onset=o), "area_code": a} for k, a, o in
             (("X", "420102002001", "01-20"), ("Y", "420102009003", "01-17"),
              ("Z", "420103002001", "01-17"), ("N", None, "01-17"))}
    rows = community_exposures([known["X"]], known, profile).to_pylist()
    assert [(r["case_key"], r["contact_key"], r["setting"], r["tier"], r["place_id"]) for r in rows] \
        == [("X", "Y", "community", "general", "420102")]  # Z: other district, N: no area
    assert rows[0]["first_exposure"] == ts("01-20 12:00") - dt.timedelta(days=21)
    assert rows[0]["rule"] == "default@2020.7.1:source_community"
    # a recorded hour together outweighs living in the same district
    venue = {"case_key": "X", "contact_key": "Z", "setting": "venue", "tier": "close",
             "place_id": "V", "first_exposure": ts("01-16 10:00"),
             "last_exposure": ts("01-16 11:00"), "overlap_minutes": 60.0, "evidence": "e", "rule": "r"}
    ranked = score_candidates(rows + [venue], known, profile.source).to_pylist()
    assert [r["candidate_key"] for r in ranked] == ["Z", "Y"]
    off = load_profile("default").model_copy(update={"source": profile.source.model_copy(
        update={"community_area_digits": None})})
    assert community_exposures([known["X"]], known, off).num_rows == 0


def test_candidate_links_dilute_by_the_delivered_venue_capacity(warehouse):
    """Y and Z each spent the same hour with X, Y in a 20-seat shop and Z in a market for
    2,000: with the shipped capacity exponent the shop contact ranks first; a venue without
    a delivered capacity is not diluted."""
    s = Scenario().venue("SHOP", "Shop", capacity=20).venue("MKT", "Market", "market", 2000)
    s.venue("NOCAP", "Stall")
    s.case("X", "01-21 09:00", onset="01-20", isolation="01-21 09:00")
    for key, venue, hour in (("Y", "SHOP", 10), ("Z", "MKT", 12), ("U", "NOCAP", 14)):
        s.case(key, "01-19 09:00", onset="01-17", isolation="01-19 09:00")
        a, b = f"01-16 {hour}:00", f"01-16 {hour + 1}:00"
        s.stay("X", venue, a, b).stay(key, venue, a, b)
    s.write(warehouse)
    profile = load_profile("default")
    assert profile.source.venue_capacity_exponent > 0
    with warehouse.open_engine() as e:
        assert venue_capacities(e) == {"SHOP": 20.0, "MKT": 2000.0}
        ranked = candidate_links(e, ["X"], profile, ts("01-30 00:00")).to_pylist()
    order = [r["candidate_key"] for r in ranked]
    assert order.index("Y") < order.index("Z")
    score = {r["candidate_key"]: r["score"] for r in ranked}
    assert score["Y"] > 2 * score["Z"]
    assert score["U"] > 2 * score["Z"]  # no capacity delivered: not diluted
