"""Model commands: ``scenario`` (compare interventions), ``simulate`` (one SEIR run),
``calibrate`` (fit SEIR or the Li et al. metapopulation model to case counts)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pyarrow as pa

from epicenter.cli.output import emit, format_option, output_option

SCENARIO_FORMATS = ("table", "csv", "json")


def _emit_rows(rows: list[dict], fmt: str, output: Path | None, title: str) -> None:
    emit(pa.Table.from_pylist(rows), fmt, output, title=title)


def _compact(rows: list[dict]) -> list[dict]:
    """Median [5%-95%] in one cell per measure, so the table fits a terminal."""
    out = []
    for r in rows:
        row = {"scenario": r["scenario"]}
        for key, label in (("peak_day", "peak day"), ("peak_infections", "peak infections/day"),
                           ("total_infections", "total infections"),
                           ("total_reported", "total reported")):
            row[label] = f"{r[key]:,.0f} [{r[key + '_q05']:,.0f}-{r[key + '_q95']:,.0f}]"
        row["attack %"] = r["attack_rate_pct"]
        if "Rc" in r:
            row["Rc"] = r["Rc"]
        if "peak_date" in r:
            row["peak date"] = r["peak_date"]
        out.append(row)
    return out


@click.command()
@click.argument("file", required=False)
@click.option("--home-layer", "home", type=float, default=None, help="Home contacts multiplier.")
@click.option("--school", type=float, default=None, help="School contacts multiplier (0 = closed).")
@click.option("--work", type=float, default=None, help="Share returning to work (work multiplier).")
@click.option("--community", type=float, default=None, help="Community contacts multiplier.")
@click.option("--isolation-days", type=float, default=None,
              help="Mean days from onset to isolation (faster isolation scenario).")
@click.option("--travel", "travel_factor", type=float, default=None,
              help="Multiply trips by this factor (metapop model only).")
@click.option("--travel-area", "travel_areas", multiple=True,
              help="Restrict only trips from/to this area (repeatable); default all trips.")
@click.option("--from-day", type=int, default=30, show_default=True,
              help="Day index from which the flag measures apply.")
@click.option("--days", type=int, default=None, help="Override the run length.")
@click.option("--members", type=int, default=None, help="Override the ensemble size.")
@click.option("--seed", type=int, default=None, help="Override the random seed.")
@click.option("--only-flags", is_flag=True, help="Compare the flag scenario to the file's first "
              "scenario only (instead of all the file's scenarios).")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Write the epidemic curves and totals (PNG or SVG by extension).")
@click.option("--log-scale", is_flag=True, help="Plot daily numbers on a log scale.")
@click.option("--reported", is_flag=True, help="Plot reported cases instead of infections.")
@click.option("--curves", type=click.Path(path_type=Path), default=None,
              help="Write daily quantiles per scenario as CSV.")
@format_option(choices=SCENARIO_FORMATS)
@output_option()
@click.pass_obj
def scenario(settings, file, home, school, work, community, isolation_days, travel_factor,
             travel_areas, from_day, days, members, seed, only_flags, plot, log_scale, reported,
             curves, fmt, output) -> None:
    """Compare interventions side by side: peak and total infections per scenario.

    FILE is a scenario YAML (or a shipped example name: city_interventions, li2020_travel);
    default city_interventions. Flags add one scenario, e.g. `--school 0 --work 0.6`.
    """
    from dataclasses import replace

    from epicenter.model import scenario as sc
    from epicenter.model.scenario_run import BANDS, run_file

    spec = sc.load(file or "city_interventions")
    overrides = {k: v for k, v in (("days", days), ("members", members), ("seed", seed))
                 if v is not None}
    if overrides:
        spec = sc.ScenarioFile(spec.name, replace(spec.setting, **overrides), spec.scenarios)
    layers = {"home": home, "school": school, "work": work, "community": community}
    flagged = sc.from_flags(spec, from_day, layers, isolation_days, travel_factor,
                            tuple(travel_areas))
    if only_flags and flagged is not spec:
        flagged = sc.ScenarioFile(spec.name, spec.setting,
                                  [spec.scenarios[0], flagged.scenarios[-1]])
    try:
        results = run_file(flagged, settings=settings)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    rows = [r.summary() for r in results]
    _emit_rows(_compact(rows) if fmt == "table" else rows, fmt, output, flagged.name)
    if plot:
        from epicenter.model.plot_scenario import plot_scenarios

        plot_scenarios(results, plot, flagged.name,
                       series="reported" if reported else "infections", log=log_scale)
        click.echo(f"plot written to {plot}", err=True)
    if curves:
        rows = []
        for r in results:
            q = r.bands("reported" if reported else "infections")
            for d in range(q.shape[1]):
                rows.append({"scenario": r.name, "day": d,
                             **{f"q{b:g}": float(q[i, d]) for i, b in enumerate(BANDS)}})
        emit(pa.Table.from_pylist(rows), "csv", curves)


@click.command()
@click.option("--r0", type=float, default=2.5, show_default=True)
@click.option("--population", type=float, default=1e6, show_default=True)
@click.option("--exposed", type=float, default=10, show_default=True)
@click.option("--days", type=int, default=180, show_default=True)
@click.option("--latent-days", type=float, default=3.0, show_default=True)
@click.option("--infectious-days", type=float, default=5.0, show_default=True)
@click.option("--p-asym", type=float, default=0.0, show_default=True)
@click.option("--rel-asym", type=float, default=1.0, show_default=True)
@click.option("--isolation-days", type=float, default=None)
@click.option("--rho", type=float, default=1.0, show_default=True, help="Reporting fraction.")
@click.option("--stochastic", "members", type=int, default=0,
              help="Run this many stochastic members (binomial chain) instead of the ODE.")
@click.option("--seed", type=int, default=0, show_default=True)
@format_option(choices=SCENARIO_FORMATS)
@output_option()
def simulate(r0, population, exposed, days, latent_days, infectious_days, p_asym, rel_asym,
             isolation_days, rho, members, seed, fmt, output) -> None:
    """One SEIR run (single population): daily compartments and new infections."""
    from epicenter.model.age_structured import beta_for_r0
    from epicenter.model.seir import COMPARTMENTS, SEIRParams, initial_state
    from epicenter.model.seir import simulate as run_ode
    from epicenter.model.stochastic import simulate_stochastic

    base = SEIRParams(beta=0.0, sigma=1 / latent_days, gamma=1 / infectious_days, p_asym=p_asym,
                      rel_asym=rel_asym, rho=rho,
                      kappa=0.0 if isolation_days is None else 1 / isolation_days)
    p = base.with_(beta=beta_for_r0(r0, base, np.ones((1, 1))))
    pop = np.array([population])
    x0 = initial_state(pop, exposed=exposed)
    if members:
        run = simulate_stochastic(p, pop, x0, days, members=members, seed=seed)
        states = np.median(run.states, axis=0)
        infections, reported = np.median(run.infections, 0), np.median(run.reported, 0)
    else:
        run = run_ode(p, pop, x0, days)
        states, infections, reported = run.states, run.infections, run.reported
    rows = []
    for d in range(days):
        row = {"day": d, **{c: round(float(states[d + 1, i].sum()), 2)
                            for i, c in enumerate(COMPARTMENTS)}}
        row["new_infections"] = round(float(infections[d].sum()), 2)
        row["reported"] = round(float(reported[d].sum()), 2)
        rows.append(row)
    _emit_rows(rows, fmt, output, f"SEIR R0={r0:g} (beta={p.beta:.4f}/day)")


@click.command()
@click.option("--incidence", type=click.Path(exists=True, path_type=Path), default=None,
              help="Daily cases CSV (date|day, cases | local+imported).")
@click.option("--area", default=None, help="Area code: daily counts from the warehouse.")
@click.option("--li2020", "li_days", type=int, default=None,
              help="Fit the Li et al. metapopulation model to the first N days (e.g. 14).")
@click.option("--method", type=click.Choice(["eakf", "mcmc"]), default="eakf", show_default=True,
              help="Li et al. fits: IF-EAKF (as the paper) or MCMC on the mean-field model.")
@click.option("--members", type=int, default=300, show_default=True, help="IF-EAKF ensemble size.")
@click.option("--assimilate-zeros", is_flag=True,
              help="IF-EAKF: also assimilate zero counts (biases the reporting rate low).")
@click.option("--population", type=float, default=None, help="Population (SEIR fits).")
@click.option("--latent-days", type=float, default=3.0, show_default=True)
@click.option("--infectious-days", type=float, default=5.0, show_default=True)
@click.option("--rho", type=float, default=None, help="Fix the reporting fraction "
              "(default: estimate it in [0.05, 1]).")
@click.option("--iterations", type=int, default=4000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Observed cases with posterior predictive bands (SEIR fits).")
@click.option("--draws", type=click.Path(path_type=Path), default=None,
              help="Write the posterior draws as JSON.")
@format_option(choices=SCENARIO_FORMATS)
@output_option()
@click.pass_obj
def calibrate(settings, incidence, area, li_days, method, members, assimilate_zeros, population,
              latent_days, infectious_days, rho, iterations, seed, plot, draws, fmt,
              output) -> None:
    """Fit a model to daily cases.

    SEIR (--incidence or --area): negative binomial likelihood, adaptive Metropolis MCMC.
    Li et al. metapopulation model (--li2020 DAYS): IF-EAKF (--iterations counts filter
    passes, default 10 for this method) or MCMC on the deterministic model.
    """
    from epicenter.model.calib_metapop import calibrate_metapop
    from epicenter.model.calibrate import calibrate_seir, cases_from_warehouse, read_cases_csv
    from epicenter.model.metapop_data import load_li2020
    from epicenter.model.seir import SEIRParams

    if sum(x is not None for x in (incidence, area, li_days)) != 1:
        raise click.UsageError("give exactly one of --incidence, --area, --li2020")
    extra: list[dict] = []
    if li_days is not None and method == "eakf":
        from epicenter.model.calib_eakf import if_eakf

        passes = 10 if iterations == 4000 else iterations  # 4000 is the MCMC default
        result = if_eakf(load_li2020(), days=li_days, members=members, iterations=passes,
                         seed=seed, assimilate_zeros=assimilate_zeros)
        rows = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                for r in result.summary()]
        _emit_rows(rows, fmt, output, f"IF-EAKF posterior ({members} members, {passes} passes)")
        if draws:
            draws.write_text(json.dumps({"names": list(result.names),
                                         "ensemble": result.ensemble.tolist(),
                                         "history": result.history.tolist()}) + "\n")
        return
    if li_days is not None:
        fit = calibrate_metapop(load_li2020(), days=li_days, iterations=iterations,
                                mcmc_seed=seed)
        post = fit.posterior
        thinned = type(post)(post.names, post.draws[:: max(1, len(post.draws) // 200)],
                             post.log_likelihood, post.acceptance)
        fit.posterior = thinned
        for name, values in fit.derived().items():
            lo, mid, hi = np.quantile(values, [0.025, 0.5, 0.975])
            extra.append({"parameter": name, "mean": float(values.mean()), "q0.025": float(lo),
                          "q0.5": float(mid), "q0.975": float(hi)})
        fit.posterior = post
    else:
        if population is None:
            raise click.UsageError("--population is needed for SEIR fits")
        series = read_cases_csv(incidence) if incidence else cases_from_warehouse(settings, area)
        base = SEIRParams(beta=0.0, sigma=1 / latent_days, gamma=1 / infectious_days)
        fit = calibrate_seir(series, population, base, rho=(0.05, 1.0) if rho is None else rho,
                             iterations=iterations, mcmc_seed=seed)
        post = fit.posterior
        if plot:
            from epicenter.model.plot_scenario import plot_fit

            expected, counts = fit.predictive(len(series.cases), draws=200, seed=seed)
            plot_fit(series.dates, series.cases, expected, plot,
                     "SEIR fit: negative binomial likelihood, adaptive Metropolis", counts)
    rows = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
            for r in post.summary() + extra]
    for r in rows:
        if r["parameter"] in post.names:
            r["ess"] = round(post.effective_sample_size(r["parameter"]), 1)
    _emit_rows(rows, fmt, output, f"posterior ({len(post.draws)} draws, acceptance "
               f"{post.acceptance:.2f})")
    if draws:
        draws.write_text(json.dumps({"names": post.names, "draws": post.draws.tolist(),
                                     "acceptance": post.acceptance, **post.meta}) + "\n")


COMMANDS = [scenario, simulate, calibrate]
