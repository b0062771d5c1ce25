"""Rolling-origin backtests: origins, scoring, summary, tuning and the Li et al. loader."""

from __future__ import annotations

import numpy as np
import pytest

from epicenter.model.backtest import (
    cross_validated,
    default_models,
    origins,
    rolling_origin,
    summarise,
    tune_renewal,
)
from epicenter.model.incidence import from_counts, read_li2020
from epicenter.model.serial_interval import parametric_si

SI = parametric_si(4.0, 2.0, 120)


@pytest.fixture(scope="module")
def series(simulate):
    return {f"s{k}": from_counts(simulate(np.full(40, r), SI, 20, seed=k))
            for k, r in enumerate((1.2, 1.0, 0.9, 1.1))}


def test_origins_need_history_and_recent_cases():
    inc = from_counts([0] * 20 + [3] * 10)
    assert origins(inc, [7], min_train=14) == list(range(21, 24))
    assert origins(inc, [7, 14], min_train=14)[-1] == 23


def test_rolling_origin_scores_every_model_horizon_and_origin(series):
    scores = rolling_origin(series, default_models(SI, n_samples=200), [3, 7], min_train=20)
    per_series = {h: len(range(20, 40 - h + 1)) for h in (3, 7)}
    for h, n in per_series.items():
        assert (scores["horizon"] == h).sum() == n * len(series) * 3
    row = scores.iloc[0]
    inc = series[row["series"]]
    assert row["observed"] == inc.total[row["origin"] + row["horizon"] - 1]
    summary = summarise(scores)
    assert set(summary["model"]) == {"renewal", "persistence", "loglinear"}
    base = summary[summary["model"] == "persistence"]
    assert np.allclose(base["rel_wis_persistence"], 1.0)
    assert ((summary["cov50"] <= summary["cov90"]) & (summary["cov90"] <= 1)).all()


def test_renewal_beats_persistence_on_a_growing_renewal_epidemic(simulate):
    grow = {"g": from_counts(simulate(np.full(45, 1.3), SI, 10, seed=3))}
    models = default_models(SI, damping=1.0, drift_sd=0.05, phi_prior=0.0, n_samples=500)
    summary = summarise(rolling_origin(grow, models, [7], min_train=20)).set_index("model")
    assert summary.loc["renewal", "wis"] < summary.loc["persistence", "wis"]


def test_tuning_prefers_undamped_r_for_steady_growth(simulate):
    grow = {f"g{k}": from_counts(simulate(np.full(40, 1.3), SI, 10, seed=k)) for k in range(2)}
    grid = {"damping": (0.3, 1.0), "drift_sd": (0.05,), "phi_prior": (0.0,)}
    best, table = tune_renewal(grow, SI, [7], grid, min_train=20, n_samples=300)
    assert len(table) == 2 and best["damping"] == 1.0


def test_cross_validation_never_scores_a_series_with_settings_tuned_on_it(series):
    grid = {"damping": (0.5, 1.0), "drift_sd": (0.1,), "phi_prior": (0.0,)}
    scores, chosen = cross_validated(series, SI, [7], folds=2, grid=grid, min_train=25)
    assert [c["series"] for c in chosen] == [2, 2]
    assert set(scores["series"]) == set(series)
    with pytest.raises(ValueError):
        cross_validated(series, SI, [7], folds=9, grid=grid)


def test_li2020_loader_orders_cities_by_cases(li2020_dir):
    cities = read_li2020(li2020_dir / "Incidence.csv", 3)
    assert list(cities)[0] == "Wuhan"
    wuhan = cities["Wuhan"]
    assert len(wuhan) == 30 and str(wuhan.dates[0]) == "2020-01-10"
    # the README's check: 454 reported cases in Wuhan over Jan 10-23
    assert wuhan.total[:14].sum() == 454
    assert wuhan.total.sum() >= max(c.total.sum() for c in cities.values())


def test_coverage_goal_is_met_only_within_ten_points_at_every_horizon():
    import pandas as pd

    from epicenter.model.backtest import meets_coverage

    ok = pd.DataFrame({"horizon": [7, 7, 14, 14], "cov50": [0.0, 1.0, 1.0, 0.0],
                       "cov90": [1.0, 1.0, 1.0, 0.6]})
    assert meets_coverage(ok)  # 0.5 / 1.0 and 0.5 / 0.8
    wide = ok.assign(cov50=[1.0, 1.0, 1.0, 0.0])
    assert not meets_coverage(wide)


def test_tuning_prefers_settings_that_meet_the_coverage_goal(simulate):
    # R drifts slowly; the coverage goal, not WIS alone, decides between the settings
    rng = np.random.default_rng(3)
    grow = {f"g{k}": from_counts(simulate(np.exp(np.cumsum(rng.normal(0, 0.08, 45))) * 1.1,
                                          SI, 20, seed=k)) for k in range(3)}
    # (scenario and grid re-chosen for the mid-distribution quantiles of the forecast, with
    # which more settings meet the goal; the rule under test is unchanged)
    # the evidence weights and the nowcast are pinned (not the defaults): this case is
    # built for them
    grid = {"drift_sd": (0.0, 0.5), "phi_prior": (0.0, 0.3), "damping": (0.8,),
            "drift_prior_weight": (1.0,), "growth_prior_weight": (np.inf,), "nowcast": (False,)}
    best, table = tune_renewal(grow, SI, [7], grid, min_train=20, n_samples=300)
    assert len(table) == 4
    lowest = table.loc[table["wis"].idxmin()]
    assert not lowest["meets_coverage"]  # WIS alone would pick a setting that misses the goal
    chosen = table[(table["drift_sd"] == best["drift_sd"]) & (table["phi_prior"] == best["phi_prior"])]
    assert bool(chosen["meets_coverage"].iloc[0])
    assert chosen["wis"].iloc[0] == table[table["meets_coverage"]]["wis"].min()


def test_li2020_cities_can_be_ranked_without_looking_past_the_first_origin(li2020_dir):
    by_total = list(read_li2020(li2020_dir / "Incidence.csv", 20))
    early = read_li2020(li2020_dir / "Incidence.csv", 20, rank_days=14)
    sums = [s.total[:14].sum() for s in early.values()]
    assert sums == sorted(sums, reverse=True)
    assert set(early) != set(by_total) and list(early)[0] == "Wuhan"


def test_tuning_without_a_setting_that_meets_coverage_takes_the_smallest_miss(simulate):
    # strong damping underpredicts steady growth at every drift: nothing meets the goal, and
    # the lowest WIS (a narrow interval off-centre) is not the setting closest to it
    grow = {f"g{k}": from_counts(simulate(np.full(40, 1.3), SI, 10, seed=k)) for k in range(2)}
    grid = {"damping": (0.3, 0.6), "drift_sd": (0.0, 0.5, 1.5), "phi_prior": (0.0,),
            "growth_prior_weight": (np.inf,), "nowcast": (False,)}
    best, table = tune_renewal(grow, SI, [7], grid, min_train=20, n_samples=300)
    assert not table["meets_coverage"].any()
    closest = table.loc[table["coverage_miss"].idxmin()]
    assert table["wis"].idxmin() != table["coverage_miss"].idxmin()
    assert (best["damping"], best["drift_sd"]) == (closest["damping"], closest["drift_sd"])
