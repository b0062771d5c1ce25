"""The source-tracing likelihood on hand-made exposures (no warehouse needed)."""

import datetime as dt
import math

import pytest
from scipy.integrate import quad
from scipy.stats import lognorm

from epicenter.trace.profile import SourceWeights, load_profile
from epicenter.trace.source import Scorer, score_candidates

T0 = dt.datetime(2020, 1, 10, 12)


def _case(key, onset_day=None, status="confirmed", isolation=None, positive=None):
    return {"person_key": key, "status": status,
            "onset_date": (T0 + dt.timedelta(days=onset_day)).date() if onset_day is not None else None,
            "first_positive_time": positive or T0 + dt.timedelta(days=30),
            "isolation_time": isolation, "last_report_time": None}


def _row(x, y, setting, start_day, minutes, tier="close"):
    a = T0 + dt.timedelta(days=start_day)
    return {"case_key": x, "contact_key": y, "setting": setting, "tier": tier, "place_id": "p",
            "first_exposure": a, "last_exposure": a + dt.timedelta(minutes=minutes or 60),
            "overlap_minutes": minutes, "evidence": "e", "rule": "r"}


W = SourceWeights(hazard_per_hour={"venue": 0.3, "venue/general": 0.9, "cell": 0.001},
                  unknown_source_weight=0.01)


def test_incubation_is_the_published_lognormal():
    # Li et al. 2020: mean 5.2 d, sd 3.9 d -> mu 1.43, sigma 0.67
    s = Scorer(W)
    assert s.mu == pytest.approx(1.425, abs=0.01) and s.sigma == pytest.approx(0.67, abs=0.01)
    ref = lognorm(s=s.sigma, scale=math.exp(s.mu))
    for d in (0.5, 3.0, 5.2, 12.5):
        assert s.incubation_pdf(d) == pytest.approx(ref.pdf(d), rel=1e-9)
    assert quad(s.incubation_pdf, 0, 200, limit=200)[0] == pytest.approx(1.0, abs=1e-4)
    assert s.incubation_pdf(0) == 0.0 and s.incubation_pdf(-1) == 0.0


def test_infectiousness_window_isolation_and_asymptomatic_level():
    s = Scorer(W)  # defaults: 2 d before onset .. 8 d after, 0.05 outside
    y = _case("Y", onset_day=0, isolation=T0 + dt.timedelta(days=3))
    assert s.infectious(y, T0 - dt.timedelta(days=1.9)) == 1.0
    assert s.infectious(y, T0 - dt.timedelta(days=2.1)) == 0.05
    assert s.infectious(y, T0 + dt.timedelta(days=3, hours=1)) == 0.05  # isolated
    a = _case("A", status="asymptomatic", positive=T0)
    assert s.infectious(a, T0 - dt.timedelta(days=5)) == 0.5
    assert s.infectious(a, T0 - dt.timedelta(days=11)) == 0.05


def test_hazard_prefers_the_setting_and_tier_key_and_duration_saturates():
    s = Scorer(W)
    assert s.hazard({"setting": "venue", "tier": "close"}) == 0.3
    assert s.hazard({"setting": "venue", "tier": "general"}) == 0.9
    assert s.hazard({"setting": "flight", "tier": "close"}) == 0.0
    x, y = _case("X", onset_day=5), _case("Y", onset_day=1)
    short, long_ = (s.exposure(_row("X", "Y", "venue", 0, m), x, y)[0] for m in (15, 240))
    assert 0 < short < long_ < short * 16  # more contact transmits more, but not linearly
    assert s.hours({"overlap_minutes": None, "first_exposure": T0,
                    "last_exposure": T0 + dt.timedelta(days=2)}) == 48


def test_ranking_timing_and_honest_shares():
    known = {"X": _case("X", onset_day=5), "Y": _case("Y", onset_day=1),
             "Z": _case("Z", onset_day=12)}  # Z's symptoms start a week after X's
    rows = [_row("X", "Y", "venue", 0, 60), _row("X", "Z", "venue", 0, 60)]
    ranked = score_candidates(rows, known, W).to_pylist()
    assert [r["candidate_key"] for r in ranked] == ["Y", "Z"]
    assert ranked[0]["score"] > 10 * ranked[1]["score"]  # Z was not yet infectious
    total = sum(r["score"] for r in ranked)
    assert sum(r["share"] for r in ranked) == pytest.approx(total / (total + 0.01))


def test_shipped_profiles_share_the_fitted_source_weights():
    d = load_profile("default").source
    assert d.hazard_per_hour["household"] > d.hazard_per_hour["cell"]
    for name in ("lookback4", "who"):
        assert load_profile(name).source == d


PROFILED = W.model_copy(update={"infectiousness_edges_days": [-2.0, 0.0, 2.0],
                                "infectiousness_weights": [0.1, 1.0, 3.0, 0.5],
                                "asymptomatic_profile_weight": 0.4})


def test_infectiousness_profile_bins_by_days_from_onset():
    s = Scorer(PROFILED)
    y = _case("Y", onset_day=0)  # reference: noon of the onset day = T0
    assert s.profile(y, T0 - dt.timedelta(days=3)) == 0.1
    assert s.profile(y, T0 - dt.timedelta(days=2)) == 0.1  # an edge belongs to the bin below
    assert s.profile(y, T0 - dt.timedelta(days=1)) == 1.0
    assert s.profile(y, T0 + dt.timedelta(days=1)) == 3.0
    assert s.profile(y, T0 + dt.timedelta(days=9)) == 0.5
    assert s.profile(_case("A", status="asymptomatic", positive=T0), T0) == 0.4
    assert Scorer(W).profile(y, T0) == 1.0  # no profile: flat
    # the exposure score carries the weight: the same contact a day after Y's onset counts
    # three times as much as one a day before
    x = _case("X", onset_day=5)
    before = s.exposure(_row("X", "Y", "venue", -1, 60), x, y)[0]
    plain_before = Scorer(W).exposure(_row("X", "Y", "venue", -1, 60), x, y)[0]
    assert before == pytest.approx(plain_before * 1.0)
    after = s.exposure(_row("X", "Y", "venue", 1, 60), x, y)[0]
    plain_after = Scorer(W).exposure(_row("X", "Y", "venue", 1, 60), x, y)[0]
    assert after == pytest.approx(plain_after * 3.0)


def test_profile_needs_one_weight_more_than_edges():
    with pytest.raises(ValueError, match="len\\(edges\\) \\+ 1"):
        SourceWeights(hazard_per_hour={}, infectiousness_edges_days=[0.0, 2.0],
                      infectiousness_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="increasing"):
        SourceWeights(hazard_per_hour={}, infectiousness_edges_days=[2.0, 0.0],
                      infectiousness_weights=[1.0, 2.0, 3.0])


def test_venue_capacity_dilutes_the_hazard():
    w = W.model_copy(update={"venue_capacity_exponent": 1.0, "venue_capacity_reference": 50.0})
    s = Scorer(w)
    row = _row("X", "Y", "venue", 0, 60)
    assert s.dilution(row, {"p": 500.0}) == pytest.approx(0.1)
    assert s.dilution(row, {"other": 500.0}) == 1.0  # capacity not delivered
    assert s.dilution(_row("X", "Y", "cell", 0, 60), {"p": 500.0}) == 1.0  # venues only
    assert Scorer(W).dilution(row, {"p": 500.0}) == 1.0  # exponent 0: off
    x, y = _case("X", onset_day=5), _case("Y", onset_day=1)
    big = s.exposure(row, x, y, {"p": 500.0})[0]
    small = s.exposure(row, x, y, {"p": 50.0})[0]
    # 1 - exp(-0.3 * 1 h * 0.1) vs 1 - exp(-0.3 * 1 h): the crowd of 500 dilutes ~9.5x
    assert small / big == pytest.approx(-math.expm1(-0.3) / -math.expm1(-0.03), rel=1e-9)
    # the ranking uses it: the same hour at a small shop beats a market of 2,000
    known = {"X": x, "Y": y, "Z": _case("Z", onset_day=1)}
    rows = [row, {**_row("X", "Z", "venue", 0, 60), "place_id": "market"}]
    ranked = score_candidates(rows, known, w, {"p": 20.0, "market": 2000.0}).to_pylist()
    assert [r["candidate_key"] for r in ranked] == ["Y", "Z"]
