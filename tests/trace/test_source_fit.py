"""The source-weight fit's ranking figures (bench/fit_source.py) on hand-built cities.

Each city's infectees have one household and one venue candidate with the same timing and
hours, so only the two fitted hazards can rank them: whichever setting the training cities'
true infectors were in wins.
"""

from __future__ import annotations

import numpy as np
from bench import fit_source as fs

HH, VENUE = fs.CLASSES.index("household"), fs.CLASSES.index("venue")


def _city(n: int, truth: int) -> dict:
    """n infectees, each with a household (pair 2i) and a venue (pair 2i+1) candidate; the
    true infector is the candidate of class ``truth``."""
    pairs = np.arange(2 * n)
    return {"pair": pairs, "cls": np.where(pairs % 2 == 0, HH, VENUE),
            "timing": np.ones(2 * n), "hours": np.ones(2 * n), "bin": np.full(2 * n, 3),
            "pair_x": pairs // 2, "relevant": np.arange(n),
            "target": 2 * np.arange(n) + (0 if truth == HH else 1), "npairs": 2 * n, "nx": n}


def _log_params(household: float, venue: float) -> tuple[np.ndarray, np.ndarray]:
    log_h = np.full(len(fs.CLASSES), np.log(0.1))
    log_h[HH], log_h[VENUE] = np.log(household), np.log(venue)
    return log_h, np.zeros(fs.NBINS)


def test_top_counts_ranks_by_hazard_and_counts_ties_against_the_truth():
    city = _city(4, HH)
    assert fs.top_counts(city, *_log_params(0.5, 0.1)) == (4, 4, 4)
    assert fs.top_counts(city, *_log_params(0.1, 0.5)) == (0, 4, 4)  # second of two: top 3
    assert fs.top_counts(city, *_log_params(0.3, 0.3)) == (0, 4, 4)  # a tie is not a hit
    assert fs.top_k(city, *_log_params(0.5, 0.1)) == (1.0, 1.0, 4)


def test_an_infectee_whose_infector_is_no_candidate_is_a_miss():
    city = _city(4, HH)
    city["target"] = city["target"].copy()
    city["target"][0] = -1  # the true infector was never co-present
    assert fs.top_counts(city, *_log_params(0.5, 0.1)) == (3, 3, 4)


def test_fit_point_learns_the_setting_of_the_true_infectors():
    log_h, log_w, _ = fs._split(fs.fit_point([_city(6, HH)]).x)
    assert log_h[HH] > log_h[VENUE]
    log_h, log_w, _ = fs._split(fs.fit_point([_city(6, VENUE)]).x)
    assert log_h[VENUE] > log_h[HH]


def test_leave_one_out_never_fits_on_the_city_it_scores():
    # two small household cities and one large venue city: fitted on all three the venue
    # wins and ranks the venue city right; held out, each city is ranked by the others
    # alone, and the others always say the opposite of its own truth
    cities = [_city(3, HH), _city(3, HH), _city(12, VENUE)]
    log_h, log_w, _ = fs._split(fs.fit_point(cities).x)
    assert fs.top_counts(cities[2], log_h, log_w)[0] == 12  # in sample: right
    out = fs.leave_one_out(cities, ["a", "b", "c"])
    assert out["a"] == [0.0, 1.0, 3]
    assert out["b"] == [0.0, 1.0, 3]
    assert out["c"] == [0.0, 1.0, 12]
    assert out["pooled"] == [0.0, 1.0, 18]
