"""Run the scenarios of a scenario file as stochastic ensembles and summarise them.

Every scenario of a file uses the same random seed, so members differ between scenarios
only through the interventions (common random numbers make the comparison sharper).
Uncertainty bands combine process noise (binomial / Poisson chains) and, when R0 (age
model) or b (metapopulation) is given as a range, parameter uncertainty drawn per member.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from epicenter.model import metapop as mp
from epicenter.model.age_structured import LayerSchedule, beta_for_r0, spectral_radius
from epicenter.model.contacts import load_contacts
from epicenter.model.metapop_data import (
    LI2020_DIR,
    MetapopData,
    TravelRestriction,
    load_li2020,
    od_from_rows,
    read_od_csv,
    read_population_csv,
)
from epicenter.model.scenario import Scenario, ScenarioFile, Setting
from epicenter.model.seir import SEIRParams, initial_state
from epicenter.model.stochastic import simulate_stochastic

BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class ScenarioResult:
    name: str
    infections: np.ndarray  # (members, days) new infections per day, all groups/areas
    reported: np.ndarray  # (members, days) cases reported per day
    population: float
    start: dt.date | None
    rc: float | None = None  # reproduction number with every measure in force (median member)

    def summary(self) -> dict:
        peak_day = self.infections.argmax(axis=1)
        peak = self.infections.max(axis=1)
        total = self.infections.sum(axis=1)
        reported = self.reported.sum(axis=1)

        def q(v: np.ndarray) -> tuple[float, float, float]:
            lo, mid, hi = np.quantile(v, [0.05, 0.5, 0.95])
            return float(lo), float(mid), float(hi)

        row = {"scenario": self.name}
        for label, values in (("peak_day", peak_day), ("peak_infections", peak),
                              ("total_infections", total), ("total_reported", reported)):
            lo, mid, hi = q(values)
            row[label] = round(mid, 1)
            row[f"{label}_q05"] = round(lo, 1)
            row[f"{label}_q95"] = round(hi, 1)
        row["attack_rate_pct"] = round(100 * float(np.median(total)) / self.population, 2)
        if self.rc is not None:
            row["Rc"] = round(self.rc, 2)
        if self.start is not None:
            row["peak_date"] = (self.start + dt.timedelta(days=int(np.median(peak_day)))).isoformat()
        return row

    def bands(self, series: str = "infections") -> np.ndarray:
        """Quantiles :data:`BANDS` per day, shape (len(BANDS), days)."""
        return np.quantile(getattr(self, series), BANDS, axis=0)


def run_file(spec: ScenarioFile, settings=None) -> list[ScenarioResult]:  # noqa: ANN001
    """Run every scenario of ``spec``; ``settings`` (data home) is needed for ``data: warehouse``."""
    s = spec.setting
    if s.model == "age":
        return [_run_age(s, sc) for sc in spec.scenarios]
    data = metapop_inputs(s, settings)
    return [_run_metapop(s, data, sc) for sc in spec.scenarios]


def _age_params(s: Setting) -> SEIRParams:
    kappa = 0.0 if s.isolation_days is None else 1.0 / s.isolation_days
    return SEIRParams(beta=0.0, sigma=1 / s.latent_days, gamma=1 / s.infectious_days,
                      p_asym=s.p_asym, rel_asym=s.rel_asym, kappa=kappa, rho=s.rho)


def _member_r0(s: Setting) -> np.ndarray:
    if isinstance(s.r0, tuple):
        # a separate stream so the epidemic's own random numbers stay common across scenarios
        return np.random.default_rng([s.seed, 1]).uniform(*s.r0, size=s.members)
    return np.full(s.members, float(s.r0))


def _run_age(s: Setting, sc: Scenario) -> ScenarioResult:
    if sc.travel:
        raise ValueError(f"scenario {sc.name!r}: travel restrictions need the metapop model")
    data = load_contacts(s.location, s.source, s.band_width)
    pop = data.population * (s.size / data.population.sum())
    data = type(data)(data.location, data.source, data.labels, pop, data.layers)
    base = _age_params(s)
    betas = np.array([beta_for_r0(r, base, data.total) for r in _member_r0(s)])
    schedule = LayerSchedule(data, list(sc.measures))
    x0 = np.rint(initial_state(pop, exposed=s.exposed))
    x0[0] = np.rint(pop) - x0[1:].sum(axis=0)
    run = simulate_stochastic(base.with_(beta=float(betas.mean())), np.rint(pop), x0, s.days,
                              members=s.members, seed=s.seed, schedule=schedule, beta=betas)
    last = max((m.start for m in sc.measures), default=0)
    rc = float(np.median([schedule.reproduction_number(base.with_(beta=b), last) for b in betas]))
    return ScenarioResult(sc.name, run.infections.sum(axis=2).astype(float),
                          run.reported.sum(axis=2).astype(float), float(pop.sum()), s.start, rc)


def metapop_inputs(s: Setting, settings=None) -> MetapopData:  # noqa: ANN001
    """Areas, populations and OD matrices: Li et al. data, an od_flow CSV, or the warehouse."""
    if s.od_csv:
        if not s.population_csv:
            raise ValueError("od_csv needs population_csv (area_code, population)")
        return od_from_rows(read_od_csv(s.od_csv), read_population_csv(s.population_csv))
    if s.data == "warehouse":
        if settings is None:
            raise ValueError("data: warehouse needs the CLI settings (data home)")
        from epicenter.model.metapop_data import load_warehouse

        return load_warehouse(settings)
    return load_li2020(LI2020_DIR if s.data == "li2020" else s.data)


def contact_scale(measures: list, day: int) -> float:
    """Transmission multiplier of the layer measures in force on ``day``.

    The metapopulation model has no age groups; a layer intervention scales b by the ratio
    of spectral radii rho(C_measures) / rho(C_all) of the national (China, Prem 2017)
    matrices, i.e. by its effect on R0 in the age-structured model.
    """
    if not measures:
        return 1.0
    sched = LayerSchedule(_china(), list(measures))
    return spectral_radius(sched.contacts(day)) / spectral_radius(_china().total)


_CHINA: list = []


def _china():
    if not _CHINA:
        _CHINA.append(load_contacts("China", "prem_2017"))
    return _CHINA[0]


def _run_metapop(s: Setting, data: MetapopData, sc: Scenario) -> ScenarioResult:
    params = mp.MetapopParams(**s.params)
    restrictions = [TravelRestriction(t.start, t.factor, tuple(data.index(a) for a in t.areas))
                    for t in sc.travel]
    scenario_data = data.with_restrictions(restrictions)
    seed_area = data.index(s.seed_area)
    undocumented = s.undocumented if s.undocumented else s.exposed
    x0 = mp.seed_state(data.population, seed_area, s.exposed, undocumented, data.mobility(0))
    scales = [contact_scale(sc.measures, d) for d in range(s.days)]
    isolation = LayerSchedule(_china(), list(sc.measures))
    documented_days = [isolation.state(d)[1] for d in range(s.days)]
    b = None
    if s.b_range is not None:
        b = np.random.default_rng([s.seed, 1]).uniform(*s.b_range, size=s.members)
    run = mp.simulate_stochastic(params, x0, s.days, scenario_data.mobility, members=s.members,
                                 seed=s.seed, beta_scale=lambda d: scales[d], b=b,
                                 documented_days=lambda d: documented_days[d])
    reported = mp.expected_reports(run.documented, mp.report_delay_pmf())
    start = s.start or data.start
    return ScenarioResult(sc.name, run.infections.sum(axis=2), reported.sum(axis=2),
                          float(data.population.sum()), start)
