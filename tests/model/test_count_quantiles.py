"""Quantile conventions for count forecasts, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from epicenter.model.count_quantiles import integer_quantiles, mid_quantiles, sample_quantiles
from epicenter.model.scoring import HUB_QUANTILES, pinball_wis

LEVELS = (0.1, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95)
# P(0) = 0.5, P(1) = 0.3, P(2) = 0.2: CDF 0.5, 0.8, 1; mid-CDF 0.25, 0.65, 0.9
VALUES, PROBS = np.array([0.0, 1.0, 2.0]), np.array([0.5, 0.3, 0.2])


def test_integer_quantile_is_the_smallest_value_whose_cdf_reaches_the_level():
    np.testing.assert_array_equal(integer_quantiles(VALUES, PROBS, LEVELS),
                                  [0, 0, 0, 1, 1, 2, 2])


def test_mid_quantile_interpolates_the_mid_cdf_and_is_constant_beyond_its_ends():
    # Q(0.5) = 0 + (0.5 - 0.25) / (0.65 - 0.25); Q(0.75) = 1 + (0.75 - 0.65) / (0.9 - 0.65);
    # Q(0.8) = 1 + 0.15 / 0.25; below mid-CDF(0) = 0.25 it is 0, above mid-CDF(2) = 0.9 it is 2
    np.testing.assert_allclose(mid_quantiles(VALUES, PROBS, LEVELS),
                               [0, 0, 0.625, 1.4, 1.6, 2, 2], atol=1e-12)


def test_poisson_one_mid_quantiles_and_their_coverage():
    # mid-CDF of Poisson(1): 0.5/e, 1.5/e, 2.25/e, so Q(0.25) = e/4 - 1/2 and Q(0.75) = e - 1;
    # the interval [0.18, 1.72] holds the outcome 1 only: P = 1/e, where the integer
    # quantiles [0, 2] hold 5/(2e)
    y = np.arange(40.0)
    p = poisson.pmf(y, 1.0)
    lo, hi = mid_quantiles(y, p, (0.25, 0.75))
    assert lo == pytest.approx(np.e / 4 - 0.5, abs=1e-12)
    assert hi == pytest.approx(np.e - 1, abs=1e-12)
    assert p[(y >= lo) & (y <= hi)].sum() == pytest.approx(1 / np.e, abs=1e-12)
    ilo, ihi = integer_quantiles(y, p, (0.25, 0.75))
    assert p[(y >= ilo) & (y <= ihi)].sum() == pytest.approx(5 / (2 * np.e), abs=1e-12)


def test_sample_mid_quantiles_equal_the_distributions_and_hazen_without_ties():
    ties = np.repeat(VALUES, (PROBS * 10).astype(int))[:, None]  # 0 x5, 1 x3, 2 x2
    np.testing.assert_allclose(sample_quantiles(ties, LEVELS, "mid")[0],
                               mid_quantiles(VALUES, PROBS, LEVELS), atol=1e-12)
    rng = np.random.default_rng(0)
    distinct = rng.normal(size=(500, 3))
    np.testing.assert_allclose(sample_quantiles(distinct, HUB_QUANTILES, "mid"),
                               np.quantile(distinct, HUB_QUANTILES, axis=0, method="hazen").T,
                               atol=1e-12)
    assert (np.diff(sample_quantiles(rng.poisson(2.0, (2000, 5)), HUB_QUANTILES, "mid"),
                    axis=1) >= 0).all()
    with pytest.raises(ValueError, match="convention"):
        sample_quantiles(ties, LEVELS, "nearest")


def _expected(mean: float, convention: str) -> tuple[float, float]:
    """Reported 50% coverage and expected WIS of a Poisson(mean) forecast against itself."""
    y = np.arange(0.0, mean + 20 * np.sqrt(mean) + 30)
    p = poisson.pmf(y, mean)
    q = (integer_quantiles if convention == "integer" else mid_quantiles)(y, p, HUB_QUANTILES)
    lo, hi = q[HUB_QUANTILES.index(0.25)], q[HUB_QUANTILES.index(0.75)]
    wis = pinball_wis(y, np.tile(q, (len(y), 1)), HUB_QUANTILES)
    return float(p[(y >= lo) & (y <= hi)].sum()), float(p @ wis)


def test_mid_quantiles_report_near_nominal_coverage_on_average_at_a_small_wis_cost():
    # calibrated Poisson forecasts with means spread over 3-30: the integer convention rounds
    # every interval outwards (0.60), the mid convention averages out (0.51)
    means = np.exp(np.random.default_rng(1).uniform(np.log(3), np.log(30), 200))
    integer = np.array([_expected(m, "integer") for m in means])
    mid = np.array([_expected(m, "mid") for m in means])
    assert integer[:, 0].mean() == pytest.approx(0.60, abs=0.01)
    assert mid[:, 0].mean() == pytest.approx(0.51, abs=0.01)
    # pinball loss of an integer outcome is minimised at integer quantiles: fractional ones
    # cost expected WIS, here under 1%, and at most about 4% at mean 1
    assert (mid[:, 1] >= integer[:, 1] - 1e-12).all()
    assert mid[:, 1].sum() / integer[:, 1].sum() - 1 == pytest.approx(0.0045, abs=0.002)
    assert _expected(1.0, "mid")[1] / _expected(1.0, "integer")[1] == pytest.approx(1.042,
                                                                                    abs=0.002)
