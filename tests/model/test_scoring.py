"""WIS, its decomposition and coverage against scoringutils' published numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from epicenter.model.scoring import (
    HUB_QUANTILES,
    SCORE_COLUMNS,
    coverage,
    interval_score_parts,
    layout,
    pinball_wis,
    score,
    score_long,
)

UNIT_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
UNIT_Y = np.array([1.0, -15.0, 22.0])
UNIT_Q = np.array([(-1, 0, 1, 2, 3), (-2, 1, 2, 2, 4), (-2, 0, 3, 3, 4)], dtype=float)


def test_unit_values_match_scoringutils_and_covidhubutils():
    parts = interval_score_parts(UNIT_Y, UNIT_Q, UNIT_LEVELS)
    np.testing.assert_allclose(parts["wis"], [0.36, 15.34, 19.14], rtol=1e-12)


def test_decomposition_sums_to_wis_and_equals_pinball_form():
    rng = np.random.default_rng(3)
    y = rng.normal(10, 5, 200)
    q = np.sort(rng.normal(10, 5, (200, len(HUB_QUANTILES))), axis=1)
    parts = interval_score_parts(y, q, HUB_QUANTILES)
    total = parts["dispersion"] + parts["overprediction"] + parts["underprediction"]
    np.testing.assert_allclose(total, parts["wis"], rtol=1e-12)
    np.testing.assert_allclose(pinball_wis(y, q, HUB_QUANTILES), parts["wis"], rtol=1e-10)
    assert (parts["overprediction"][y > q.max(axis=1)] == 0).all()


def test_hub_levels_are_the_23_levels():
    assert len(HUB_QUANTILES) == 23
    assert HUB_QUANTILES[:3] == (0.01, 0.025, 0.05) and HUB_QUANTILES[-2:] == (0.975, 0.99)
    assert len(layout(HUB_QUANTILES).alpha) == 11


def test_coverage_bounds_are_inclusive_and_missing_intervals_are_nan():
    q = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    assert coverage(np.array([2.0]), q, UNIT_LEVELS, 50)[0] == 1.0
    assert coverage(np.array([1.9]), q, UNIT_LEVELS, 50)[0] == 0.0
    assert np.isnan(score(np.array([2.0]), q, UNIT_LEVELS)["cov90"][0])


def test_asymmetric_levels_are_rejected():
    with pytest.raises(ValueError):
        layout((0.1, 0.5, 0.8))
    with pytest.raises(ValueError):
        layout((0.25, 0.75))


def test_reproduces_scoringutils_summary_table(scoring_dir):
    data = pd.read_csv(scoring_dir / "example_quantile_euro_hub.csv")
    data = data[data["model"].notna()]
    ours = score_long(data, ["location", "target_end_date", "target_type", "forecast_date",
                             "model", "horizon"], ["model", "target_type"])
    ref = pd.read_csv(scoring_dir / "ref_summary_by_model_target_DERIVED.csv")
    merged = ref.merge(ours, on=["model", "target_type"], suffixes=("_ref", ""))
    assert len(merged) == len(ref) == 7
    for column in SCORE_COLUMNS:
        # the reference file is printed with 6 decimals: ours, rounded alike, must equal it
        np.testing.assert_allclose(merged[column].round(6), merged[f"{column}_ref"], rtol=1e-12,
                                   atol=1e-12, err_msg=column)
        np.testing.assert_allclose(merged[column], merged[f"{column}_ref"], rtol=0, atol=5.01e-7)
    # and the published 3-significant-digit README values
    ens = merged.set_index(["model", "target_type"]).loc[("EuroCOVIDhub-ensemble", "Cases")]
    assert round(ens["wis"], -2) == 17900 and round(ens["cov50"], 3) == 0.391


@pytest.mark.parametrize("mean", [0.5, 1.0, 3.0, 100.0])
def test_a_calibrated_forecast_of_small_counts_covers_more_than_nominal(mean):
    """Outcomes drawn from the forecast's own (Poisson) distribution: the coverage the scoring
    reports is P(q0.25 <= Y <= q0.75) of a discrete Y, far above 0.5 for small means (bounds
    count as covered), while the randomized PIT puts half the outcomes in [0.25, 0.75]."""
    from scipy.stats import poisson

    from epicenter.model.count_quantiles import sample_quantiles

    rng = np.random.default_rng(3)
    q = sample_quantiles(rng.poisson(mean, (20000, 1)).astype(float))[0]
    y = rng.poisson(mean, 20000).astype(float)
    lo, hi = HUB_QUANTILES.index(0.25), HUB_QUANTILES.index(0.75)
    reported = coverage(y, np.tile(q, (len(y), 1)), HUB_QUANTILES, 50).mean()
    exact = poisson.cdf(np.floor(q[hi]), mean) - poisson.cdf(np.ceil(q[lo]) - 1, mean)
    assert reported == pytest.approx(exact, abs=0.01)
    if mean <= 3:
        assert reported > 0.6
    else:
        assert reported == pytest.approx(0.5, abs=0.05)
    pit = poisson.cdf(y - 1, mean) + rng.uniform(size=len(y)) * poisson.pmf(y, mean)
    assert np.mean((pit >= 0.25) & (pit <= 0.75)) == pytest.approx(0.5, abs=0.02)
