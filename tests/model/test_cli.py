"""The rt, forecast and backtest commands, on the shared example files and a tiny warehouse."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from epicenter.cli import cli
from epicenter.model.incidence import area_with_children, warehouse_incidence


def _run(*args: str, home=None):
    prefix = ["--home", str(home)] if home else []
    result = CliRunner().invoke(cli, [*prefix, *args], catch_exceptions=False)
    return result


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_rt_on_epiestim_example_matches_reference(epiestim_dir, tmp_path):
    plot = tmp_path / "rt.png"
    result = _run("rt", "--incidence", str(epiestim_dir / "Flu2009_incidence.csv"),
                  "--si-distr", str(epiestim_dir / "Flu2009_si_distr.csv"), "--format", "csv",
                  "--plot", str(plot))
    assert result.exit_code == 0, result.output
    rows = _csv_rows(result.stdout)
    with open(epiestim_dir / "ref_Example1_R.csv") as f:
        ref = list(csv.DictReader(f))
    assert [r["t_start"] for r in rows] == [str(int(float(r["t_start"]))) for r in ref]
    np.testing.assert_allclose([float(r["q0.975"]) for r in rows],
                               [float(r["Quantile.0.975(R)"]) for r in ref], atol=1e-8)
    assert rows[0]["date_start"] == "2009-04-28"
    assert plot.stat().st_size > 10_000


def test_rt_parametric_si_json_and_argument_errors(epiestim_dir):
    inc = str(epiestim_dir / "ref_Example2_input.csv")
    result = _run("rt", "--incidence", inc, "--si-mean", "2.6", "--si-sd", "1.5", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows[0]["t_start"] == 2 and rows[0]["mean"] == pytest.approx(0.6413590495674335, abs=1e-8)
    assert _run("rt", "--incidence", inc).exit_code == 2  # no serial interval
    assert _run("rt", "--si-mean", "2.6", "--si-sd", "1.5").exit_code == 2  # no input


def test_forecast_gives_23_monotone_quantiles(epiestim_dir, tmp_path):
    plot = tmp_path / "fc.png"
    result = _run("forecast", "--incidence", str(epiestim_dir / "Flu2009_incidence.csv"),
                  "--horizon", "14", "--si-mean", "2.6", "--si-sd", "1.5", "--model", "all",
                  "--format", "csv", "--plot", str(plot))
    assert result.exit_code == 0, result.output
    rows = _csv_rows(result.stdout)
    assert len(rows) == 3 * 14
    quantile_cols = [c for c in rows[0] if c.startswith("q")]
    assert len(quantile_cols) == 23
    for row in rows:
        values = [float(row[c]) for c in quantile_cols]
        assert values == sorted(values)
    assert rows[0]["date"] == "2009-05-29" and plot.exists()


def test_backtest_on_an_incidence_file(epiestim_dir, tmp_path):
    scores = tmp_path / "scores.csv"
    result = _run("backtest", "--incidence", str(epiestim_dir / "Flu2009_incidence.csv"),
                  "--horizons", "3,7", "--si-distr", str(epiestim_dir / "Flu2009_si_distr.csv"),
                  "--format", "csv", "--scores", str(scores))
    assert result.exit_code == 0, result.output
    rows = _csv_rows(result.stdout)
    assert {(r["horizon"], r["model"]) for r in rows} == {
        (h, m) for h in ("3", "7") for m in ("renewal", "persistence", "loglinear")}
    assert len(_csv_rows(scores.read_text())) == sum(int(r["n"]) for r in rows)


def test_backtest_li2020_top_cities():
    result = _run("backtest", "--li2020", "--cities", "2", "--horizons", "7", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["model"] for r in rows} == {"renewal", "persistence", "loglinear"}


def test_backtest_calibration_reports_the_same_coverage_as_the_scores_plus_pit():
    args = ("backtest", "--li2020", "--cities", "2", "--horizons", "7,14", "--format", "json")
    scored = {r["horizon"]: r for r in json.loads(_run(*args).stdout) if r["model"] == "renewal"}
    result = _run(*args, "--calibration")
    assert result.exit_code == 0, result.output
    rows = {r["horizon"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {7, 14}
    for h, row in rows.items():
        assert row["n"] == scored[h]["n"]
        assert row["cov50"] == scored[h]["cov50"] and row["cov90"] == scored[h]["cov90"]
        assert 0 <= row["pit50"] <= row["pit90"] <= 1
    assert _run(*args, "--calibration", "--cv", "2").exit_code != 0


def test_backtest_li2020_can_rank_cities_by_what_was_known_at_the_first_origin(tmp_path):
    scores = tmp_path / "scores.csv"
    result = _run("backtest", "--li2020", "--cities", "3", "--rank-by", "origin", "--horizons",
                  "7", "--scores", str(scores), "--format", "json")
    assert result.exit_code == 0, result.output
    # by total cases the top 3 are Wuhan, Xiaogan, Huanggang; by 23 January they were these
    assert {r["series"] for r in _csv_rows(scores.read_text())} == {"Wuhan", "Chongqing", "Beijing"}


def test_rt_and_forecast_from_the_warehouse_include_child_areas(filled):
    warehouse, rows_in = filled
    areas = [r[1] for r in rows_in]
    result = _run("rt", "--area", "C1", "--si-mean", "4", "--si-sd", "2", "--format", "json",
                  home=warehouse.home)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    with warehouse.open_engine() as engine:
        days = len(warehouse_incidence(engine, "C1"))
    assert rows[0]["t_start"] == 2 and len(rows) == days - 7  # t_start = 2..T-6
    with warehouse.open_engine() as engine:
        assert area_with_children(engine, "C1") == ["C1", "D1", "S1"]
        assert warehouse_incidence(engine, "C1").total.sum() == len(areas) - 1
        assert warehouse_incidence(engine, "D1").total.sum() == sum(a in ("D1", "S1") for a in areas)
        assert warehouse_incidence(engine, "C2").total.sum() == 1
    result = _run("rt", "--area", "C2", "--si-mean", "4", "--si-sd", "2", "--window", "1",
                  "--format", "json", home=warehouse.home)
    assert result.exit_code != 0  # one case on one day: no window to estimate
    onset = _run("rt", "--area", "C1", "--by", "onset", "--si-mean", "4", "--si-sd", "2",
                 "--format", "json", home=warehouse.home)
    assert onset.exit_code == 0, onset.output
    assert json.loads(onset.stdout)[-1]["mean"] > 1.0
    fc = _run("forecast", "--area", "D1", "--horizon", "7", "--format", "json", home=warehouse.home)
    assert fc.exit_code == 0 and len(json.loads(fc.stdout)) == 7
    assert _run("rt", "--area", "NOPE", "--si-mean", "4", "--si-sd", "2",
                home=warehouse.home).exit_code == 1


def test_conflicting_or_unusable_inputs_are_reported_not_raised(epiestim_dir, tmp_path):
    inc = str(epiestim_dir / "Flu2009_incidence.csv")
    si = str(epiestim_dir / "Flu2009_si_distr.csv")
    assert _run("forecast", "--incidence", inc, "--si-distr", si, "--si-mean", "3").exit_code == 2
    assert _run("rt", "--incidence", inc, "--si-mean", "0.5", "--si-sd", "1").exit_code == 2
    empty = tmp_path / "empty.csv"
    empty.write_text("date,cases\n")
    assert _run("forecast", "--incidence", str(empty)).exit_code == 1
    # a single day of cases is a forecastable start: R comes from the prior (docs/forecast.md)
    one_day = tmp_path / "one.csv"
    one_day.write_text("date,cases\n2020-01-01,4\n")
    assert _run("forecast", "--incidence", str(one_day), "--format", "csv").exit_code == 0
    assert _run("backtest", "--incidence", inc, "--horizons", "x").exit_code == 2
    assert _run("backtest", "--li2020", "--incidence", inc).exit_code == 2
