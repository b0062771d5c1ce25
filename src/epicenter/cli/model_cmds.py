"""Modelling commands: ``rt`` (Cori et al. 2013), ``forecast`` and ``backtest``."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pyarrow as pa

from epicenter.cli.output import emit, format_option, output_option

REFERENCE = Path(__file__).resolve().parents[3] / "data" / "reference"
LI2020_INCIDENCE = REFERENCE / "li2020_china_metapop" / "Incidence.csv"
# SARS-CoV-2 serial interval (Nishiura et al. 2020, Int J Infect Dis 93:284): forecasting
# default when none is given
COVID_SI = (4.7, 2.9)


def _source_options(func):
    func = click.option("--incidence", "incidence_file", type=click.Path(exists=True, dir_okay=False,
                        path_type=Path), help="Incidence CSV: date (or day), cases (or local, imported).")(func)
    return click.option("--area", help="Area code in the warehouse (child areas included); backtest takes "
                        "several, comma-separated.")(func)


def _si_options(default: tuple[float, float] | None):
    """Serial-interval options; ``default`` (mean, sd) applies when neither form is given."""
    note = f" [default without --si-distr: {default[0]:g}]" if default else ""
    note_sd = f" [default without --si-distr: {default[1]:g}]" if default else ""

    def wrap(func):
        func = click.option("--si-distr", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                            help="Non-parametric serial interval CSV with columns k, p.")(func)
        func = click.option("--si-sd", type=float, help="Serial interval sd (days)." + note_sd)(func)
        return click.option("--si-mean", type=float,
                            help="Serial interval mean (days), discretised offset gamma." + note)(func)
    return wrap


def _load_incidence(settings, area: str | None, incidence_file: Path | None):
    from epicenter.model.incidence import read_incidence, warehouse_incidence

    if (area is None) == (incidence_file is None):
        raise click.UsageError("give exactly one of --area and --incidence")
    if incidence_file is not None:
        try:
            return read_incidence(incidence_file)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    if not settings.warehouse.exists:
        raise click.UsageError(f"no warehouse at {settings.home}")
    with settings.warehouse.open_engine(settings.engine) as engine:
        try:
            return warehouse_incidence(engine, area)
        except LookupError as exc:
            raise click.ClickException(f"area {area}: {exc}") from exc


def _serial_interval(si_mean, si_sd, si_distr, n_days: int,
                     default: tuple[float, float] | None = None) -> np.ndarray:
    from epicenter.model.serial_interval import parametric_si, read_si_distr

    if si_distr is not None:
        if si_mean is not None or si_sd is not None:
            raise click.UsageError("give either --si-distr or --si-mean/--si-sd, not both")
        return read_si_distr(si_distr)
    if si_mean is None and si_sd is None and default is not None:
        si_mean, si_sd = default
    if si_mean is None or si_sd is None:
        raise click.UsageError("give --si-mean and --si-sd, or --si-distr")
    try:
        return parametric_si(si_mean, si_sd, n_days)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


@click.command()
@_source_options
@_si_options(None)
@click.option("--window", type=int, default=7, show_default=True, help="Sliding window (days).")
@click.option("--prior-mean", type=float, default=5.0, show_default=True,
              help="Mean of the Gamma prior of R.")
@click.option("--prior-sd", type=float, default=5.0, show_default=True,
              help="Sd of the Gamma prior of R.")
@click.option("--by", "by", type=click.Choice(["report", "onset"]), default="report",
              show_default=True,
              help="Date cases by report, or by symptom onset with a right-truncation nowcast "
                   "(onset needs --area: onset and report dates from the line list).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Write a PNG/SVG.")
@format_option(choices=("table", "csv", "json", "parquet"))
@output_option()
@click.pass_obj
def rt(settings, area, incidence_file, si_mean, si_sd, si_distr, window, prior_mean, prior_sd,
       by, plot, fmt, output):
    """Time-varying reproduction number (Cori et al. 2013, EpiEstim conventions)."""
    from epicenter.model.incidence import warehouse_onset_reports
    from epicenter.model.nowcast import rt_by_onset
    from epicenter.model.rt import estimate_rt

    if by == "onset":
        if area is None or incidence_file is not None:
            raise click.UsageError("--by onset needs --area (a line list with onset dates)")
        if not settings.warehouse.exists:
            raise click.UsageError(f"no warehouse at {settings.home}")
        with settings.warehouse.open_engine(settings.engine) as engine:
            pairs = warehouse_onset_reports(engine, area)
        if not pairs:
            raise click.ClickException(f"area {area}: no case with both onset and report dates")
        n_days = (max(r for _, r, _ in pairs) - min(o for o, _, _ in pairs)).days + 1
        si = _serial_interval(si_mean, si_sd, si_distr, n_days)
        est, now, delay = rt_by_onset(pairs, si, window=window, prior_mean=prior_mean,
                                      prior_sd=prior_sd)
        click.echo(f"reporting delay: mean {delay.mean:.2f} d from {delay.n_cases} cases; "
                   f"{len(now.dates)} onset days kept", err=True)
    else:
        inc = _load_incidence(settings, area, incidence_file)
        si = _serial_interval(si_mean, si_sd, si_distr, len(inc))
        try:
            est = estimate_rt(inc, si, window=window, prior_mean=prior_mean, prior_sd=prior_sd)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    if plot:
        from epicenter.model.plot_rt import plot_rt

        label = f"area {area}, by {by} date" if area else incidence_file.name
        plot_rt(est, plot, title=f"Reproduction number (Cori et al. 2013), {label}")
    emit(est.to_table(), fmt, output, title="Rt (Cori et al. 2013)")


@click.command()
@_source_options
@click.option("--horizon", type=int, default=14, show_default=True, help="Days ahead.")
@_si_options(COVID_SI)
@click.option("--model", "model", type=click.Choice(["renewal", "persistence", "loglinear", "all"]),
              default="renewal", show_default=True)
@click.option("--samples", type=int, default=2000, show_default=True, help="Monte Carlo paths.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Write a PNG/SVG.")
@format_option(choices=("table", "csv", "json", "parquet"))
@output_option()
@click.pass_obj
def forecast(settings, area, incidence_file, horizon, si_mean, si_sd, si_distr, model, samples,
             seed, plot, fmt, output):
    """Daily case forecasts with the 23 forecast-hub quantiles."""
    from epicenter.model.baselines import loglinear_forecast, persistence_forecast
    from epicenter.model.forecast import renewal_forecast

    if horizon < 1:
        raise click.UsageError("--horizon must be at least 1")
    inc = _load_incidence(settings, area, incidence_file)
    si = _serial_interval(si_mean, si_sd, si_distr, len(inc) + horizon, COVID_SI)
    makers = {
        "renewal": lambda: renewal_forecast(inc, si, horizon, n_samples=samples, seed=seed),
        "persistence": lambda: persistence_forecast(inc, horizon),
        "loglinear": lambda: loglinear_forecast(inc, horizon),
    }
    chosen = list(makers) if model == "all" else [model]
    try:
        forecasts = [makers[m]() for m in chosen]
    except ValueError as exc:  # e.g. a series of a single day
        raise click.ClickException(str(exc)) from exc
    if plot:
        from epicenter.model.plot_forecast import plot_forecast

        plot_forecast(inc, forecasts, plot, title="Forecast" + (f", area {area}" if area else ""))
    emit(pa.concat_tables([f.to_table() for f in forecasts]), fmt, output, title="Forecast")


@click.command()
@_source_options
@click.option("--li2020", is_flag=True, help="Backtest on Li et al. 2020 reported cases by city.")
@click.option("--cities", type=int, default=20, show_default=True,
              help="With --li2020: the N cities with most cases.")
@click.option("--rank-by", type=click.Choice(["total", "origin"]), default="total",
              show_default=True,
              help="With --li2020: rank cities by cases over the whole period, or by cases up "
                   "to the first forecast origin (--min-train days; no look at the outcome).")
@click.option("--horizons", default="7,14", show_default=True, help="Comma-separated days ahead.")
@click.option("--min-train", type=int, default=14, show_default=True,
              help="Days observed before the first forecast origin.")
@_si_options(COVID_SI)
@click.option("--cv", "folds", type=int, default=0, show_default=True,
              help="K-fold cross-validation over series: tune the renewal model's damping, "
                   "drift and overdispersion priors on the other folds (needs K >= 2 series).")
@click.option("--scores", "scores_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every scored forecast (CSV).")
@click.option("--calibration", is_flag=True,
              help="Instead of scores: the renewal forecasts' 50%/90% coverage as reported, as "
                   "a perfectly calibrated forecast would score it, and by randomised PIT "
                   "(separates the discreteness of small counts from miscalibration).")
@format_option(choices=("table", "csv", "json", "parquet"))
@output_option()
@click.pass_obj
def backtest(settings, area, incidence_file, li2020, cities, rank_by, horizons, min_train, si_mean,
             si_sd, si_distr, folds, scores_file, calibration, fmt, output):
    """Rolling-origin forecasts scored by WIS and coverage against two baselines."""
    from epicenter.model.backtest import cross_validated, default_models, rolling_origin, summarise
    from epicenter.model.incidence import read_li2020

    try:
        steps = sorted({int(h) for h in horizons.split(",") if h.strip()})
    except ValueError as exc:
        raise click.UsageError("--horizons takes integers, e.g. 7,14") from exc
    if not steps or steps[0] < 1:
        raise click.UsageError("--horizons needs positive integers")
    if li2020:
        if area or incidence_file:
            raise click.UsageError("--li2020 excludes --area and --incidence")
        series = read_li2020(LI2020_INCIDENCE, cities,
                             rank_days=min_train if rank_by == "origin" else None)
    elif area:
        # several areas (comma-separated) give several series, scored together
        series = {code: _load_incidence(settings, code, None) for code in area.split(",")}
    else:
        series = {incidence_file.name: _load_incidence(settings, None, incidence_file)}
    longest = max(len(s) for s in series.values()) + max(steps)
    si = _serial_interval(si_mean, si_sd, si_distr, longest, COVID_SI)
    if calibration:
        if folds or scores_file:
            raise click.UsageError("--calibration excludes --cv and --scores")
        from epicenter.model.calibration import calibration_backtest, summarise_calibration

        table = summarise_calibration(calibration_backtest(series, si, steps, min_train))
        emit(pa.Table.from_pandas(table.round(4), preserve_index=False), fmt, output,
             title=f"Coverage of the renewal forecasts: {len(series)} series")
        return
    try:
        if folds:
            scores, chosen = cross_validated(series, si, steps, folds, min_train=min_train)
            for fold in chosen:
                click.echo("fold {fold}: {series} series, damping {damping:g}, damping_below "
                           "{damping_below:g}, drift_sd {drift_sd:g}, phi_prior {phi_prior:g}"
                           .format(**fold), err=True)
        else:
            scores = rolling_origin(series, default_models(si), steps, min_train)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if scores_file:
        scores.to_csv(scores_file, index=False)
    emit(pa.Table.from_pandas(summarise(scores).round(4), preserve_index=False), fmt, output,
         title=f"Backtest: {len(series)} series, horizons {','.join(map(str, steps))}")


COMMANDS = [rt, forecast, backtest]
